"""The UI explains itself on a fresh machine: Chatterbox has no weights, Piper serves in its place.

A new user sees who speaks and why, which controls do nothing, errors that stay until read, progress
that moves and a Cancel that stops the work, a conversion tab that says why it cannot convert, and a
light/dark switch that is remembered.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.support.live_server import live_server

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 900}
TIMEOUT_MS = 90_000
LONG = " ".join(
    f"This is sentence number {n} of a long reading, spoken by the small voice on this computer."
    for n in range(1, 25)
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, speech_wav: Path) -> Iterator[str]:
    """The default configuration (Chatterbox first, Piper as fallback), offline, with no weights."""
    data = tmp_path_factory.mktemp("ui_fresh")
    for folder in ("voices", "vc_inputs"):
        (data / folder).mkdir()
        shutil.copy(speech_wav, data / folder / "joe.wav")
    with live_server(data, CHATTERBOX_UI__ENABLED="true") as base:
        yield base


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import os

    folder = Path(os.environ.get("UI_SCREENSHOTS") or tmp_path_factory.mktemp("ui_screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def page(browser: Any, server: str) -> Iterator[Any]:
    context = browser.new_context(viewport=LAPTOP)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{server}/ui/")
    page.get_by_role("tab", name="Speech").wait_for()
    yield page
    context.close()


def outputs(server: str) -> int:
    return httpx.get(f"{server}/api/v1/outputs").json()["total_files"]


def test_the_speech_tab_says_piper_speaks_and_greys_out_what_it_ignores(
    page: Any, server: str, shots: Path
) -> None:
    note = page.locator("#speech-engine-note")
    expect(note).to_contain_text("piper speaks instead of chatterbox")
    expect(note).to_contain_text("ve.safetensors")  # why: the weights it lacks
    page.get_by_role("button", name=re.compile("^Generation settings")).click()
    for name in ("exaggeration", "cfg_weight", "temperature"):
        expect(page.locator(f"#speech-{name} input[type=range]")).to_be_disabled()
    expect(page.locator("#speech-speed input[type=range]")).to_be_enabled()
    page.screenshot(path=shots / "fresh-speech.png", full_page=True)
    page.locator("#speech-text textarea").fill("Spoken by the fallback.")
    page.locator("#speech-generate").click()
    summary = page.locator("#speech-summary")
    summary.get_by_text("Saved").wait_for()
    expect(summary).to_contain_text("piper spoke instead of chatterbox")


def test_an_error_stays_until_it_is_closed_and_leaves_no_bare_badges(page: Any, shots: Path) -> None:
    page.locator("#speech-generate").click()  # no text
    message = page.get_by_text("'text' must not be empty").first
    message.wait_for()
    page.wait_for_timeout(11_000)  # Gradio's toasts used to fade after 10 s
    expect(message).to_be_visible()
    # The outputs of the failed action carry no "Error" badge of their own: the message says it all.
    expect(page.locator(".wrap > span.error").filter(visible=True)).to_have_count(0)
    page.screenshot(path=shots / "fresh-error.png", full_page=True)


def test_progress_moves_and_cancel_stops_the_work(page: Any, server: str, shots: Path) -> None:
    before = outputs(server)
    page.locator("#speech-text textarea").fill(LONG)
    page.locator("#speech-generate").click()
    progress = page.get_by_text(re.compile(r"Speaking.*\d+/\d+")).first
    progress.wait_for()  # a chunk is done: the bar has moved past "Starting"
    page.screenshot(path=shots / "fresh-progress.png", full_page=True)
    page.locator("#speech-cancel").click()
    expect(progress).to_be_hidden()
    time.sleep(8)  # several chunks' time: a job still running would have saved by now or soon
    assert outputs(server) == before
    expect(page.locator("#speech-summary")).not_to_contain_text("Saved")


def test_conversion_says_why_it_cannot_run_and_previews_its_picks(page: Any, shots: Path) -> None:
    page.get_by_role("tab", name="Voice conversion").click()
    expect(page.locator("#vc-notice")).to_contain_text("s3gen.safetensors")
    expect(page.locator("#vc-convert")).to_be_disabled()
    box = page.locator("#vc-source input")
    box.click()
    page.locator(f"#{box.get_attribute('aria-controls')}").get_by_role("option", name="joe.wav").click()
    preview = page.locator("#vc-source-preview a[data-testid='download-link']")
    expect(preview).to_have_attribute("href", re.compile(r"joe\.wav$"))
    page.screenshot(path=shots / "fresh-conversion.png", full_page=True)


def test_the_theme_switch_is_remembered(page: Any, shots: Path) -> None:
    dark = page.evaluate("document.body.classList.contains('dark')")
    page.locator("#theme-toggle").click()
    assert page.evaluate("document.body.classList.contains('dark')") is not dark
    page.reload()
    page.get_by_role("tab", name="Speech").wait_for()
    page.wait_for_function(f"document.body.classList.contains('dark') === {str(not dark).lower()}")
    page.screenshot(path=shots / "fresh-theme.png", full_page=True)
