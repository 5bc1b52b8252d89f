"""The browser UI in real headless Chromium against the real server (Piper speaks, offline).

Screenshots of every tab go to ``$UI_SCREENSHOTS`` (or a temporary folder), printed at the end.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from playwright.sync_api import expect

from config import Settings
from core_engine import CoreEngine
from main_api import create_app
from tests.support.engines import EchoConversion, ToneEngine
from tests.support.live_server import free_port, live_server
from ui.common import DEFAULT, label
from utils.audio import decode

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 90_000  # a busy CI machine
expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, speech_wav: Path) -> Iterator[str]:
    """The real server with Piper (and the multilingual engine, never loaded: no weights here),
    a voice in voices/ and a clip in vc_inputs/."""
    data = tmp_path_factory.mktemp("ui_server")
    for folder in ("voices", "vc_inputs"):
        (data / folder).mkdir()
        shutil.copy(speech_wav, data / folder / "joe.wav")
    env = {
        "CHATTERBOX_ENGINES__ENABLED": '["piper", "chatterbox-multilingual"]',
        "CHATTERBOX_ENGINES__DEFAULT": "piper",
        "CHATTERBOX_UI__ENABLED": "true",
    }
    with live_server(data, **env) as base:
        yield base


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Path]:
    folder = Path(os.environ.get("UI_SCREENSHOTS") or tmp_path_factory.mktemp("ui_screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    yield folder
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(f"\nUI screenshots: {folder}")


@pytest.fixture
def page(browser: Any, server: str) -> Iterator[Any]:
    context = browser.new_context(viewport=LAPTOP)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.on("response", lambda r: r.status >= 400 and print("HTTP", r.status, r.url))
    page.goto(f"{server}/ui/")
    page.get_by_role("tab", name="Speech").wait_for()
    yield page
    context.close()


def open_tab(page: Any, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def pick(page: Any, dropdown: str, choice: str) -> None:
    """Choose in a Gradio dropdown the way a user does: open it, click the option."""
    box = page.locator(f"{dropdown} input")
    box.click()
    options = page.locator(f"#{box.get_attribute('aria-controls')}")
    options.get_by_role("option", name=choice, exact=True).click()
    expect(page.locator(f"{dropdown} input")).to_have_value(choice)


def speak(server: str, text: str) -> str:
    """An output made through the API (Piper): its path inside outputs/."""
    body = {"text": text, "engine": "piper", "response_mode": "json"}
    answer = httpx.post(f"{server}/api/v1/tts", json=body, timeout=60).raise_for_status().json()
    return answer["output_files"][0]["url"].removeprefix("/outputs/")


def player_seconds(page: Any, server: str, element: str) -> float:
    """Fetch the file a player shows (its download link) and decode it."""
    link = page.locator(f"{element} a[data-testid='download-link']")
    link.wait_for()
    response = page.request.get(link.get_attribute("href"))
    assert response.ok, response.status
    return decode(io.BytesIO(response.body())).duration


def test_speech_tab_speaks_with_piper_and_plays_the_file(page: Any, server: str, shots: Path) -> None:
    page.screenshot(path=shots / "speech-empty.png", full_page=True)
    page.locator("#speech-text textarea").fill("Hello from the browser. This sentence is spoken by Piper.")
    page.locator("#speech-generate").click()
    page.locator("#speech-summary").get_by_text("Saved").wait_for()
    assert player_seconds(page, server, "#speech-audio") > 0.5
    assert "piper" in page.locator("#speech-summary").inner_text()
    page.screenshot(path=shots / "speech.png", full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=shots / "speech-phone.png", full_page=True)


def test_speech_errors_read_as_messages(page: Any, shots: Path) -> None:
    page.locator("#speech-generate").click()  # no text
    toast = page.get_by_text("'text' must not be empty")
    toast.first.wait_for()
    assert "Traceback" not in page.content()
    page.screenshot(path=shots / "speech-error.png", full_page=True)


def test_concatenate_tab_joins_outputs_and_silence(page: Any, server: str, shots: Path) -> None:
    first, second = speak(server, "First part."), speak(server, "Second part.")
    expected = sum(
        decode(io.BytesIO(httpx.get(f"{server}/outputs/{name}").content)).duration for name in (first, second)
    )
    page.reload()
    open_tab(page, "Concatenate")
    recipe = page.locator("#concat-recipe textarea")
    pick(page, "#concat-pick", label(first, "First part."))  # the picker shows what each output says
    heard = player_seconds(page, server, "#concat-preview")  # the pick plays before it is added
    assert heard == pytest.approx(decode(io.BytesIO(httpx.get(f"{server}/outputs/{first}").content)).duration)
    page.locator("#concat-add").click()
    expect(recipe).to_have_value(first)
    page.get_by_role("button", name="Add silence").click()  # 500 ms by default
    expect(recipe).to_have_value(f"{first}\n(500ms)")
    pick(page, "#concat-pick", label(second, "Second part."))
    page.locator("#concat-add").click()
    expect(recipe).to_have_value(f"{first}\n(500ms)\n{second}")
    page.locator("#concat-join").click()
    page.locator("#concat-summary").get_by_text("Saved").wait_for()
    seconds = player_seconds(page, server, "#concat-audio")
    assert abs(seconds - (expected + 0.5)) < 0.1
    page.screenshot(path=shots / "concatenate.png", full_page=True)


def test_outputs_tab_shows_an_outputs_metadata(page: Any, server: str, shots: Path) -> None:
    text = "A sentence to find in the outputs tab."
    name = speak(server, text)
    page.reload()
    open_tab(page, "Outputs")
    # One row per take: its text, and its formats in one cell.
    table = page.locator("#outputs-table")
    expect(table.get_by_text(text).filter(visible=True)).to_have_count(1)
    expect(table.get_by_text(name.removesuffix(".wav"), exact=True).filter(visible=True)).to_have_count(1)
    expect(table.get_by_text("wav, mp3").filter(visible=True).first).to_be_visible()
    table.get_by_text(text).filter(visible=True).click()
    expect(page.locator("#outputs-file input")).to_have_value(name)
    metadata = page.locator("#outputs-metadata")
    metadata.get_by_text(text).first.wait_for()
    assert "piper" in metadata.inner_text() and "{" not in metadata.inner_text()  # a table, not raw JSON
    page.screenshot(path=shots / "outputs.png", full_page=True)
    page.get_by_role("button", name="Delete file").click()  # refused until confirmed
    expect(page.locator("#outputs-message")).to_contain_text("Tick")
    page.get_by_label("Yes, delete it").check()
    page.get_by_role("button", name="Delete file").click()
    expect(page.locator("#outputs-message")).to_contain_text(f"Deleted {name}")
    assert httpx.get(f"{server}/outputs/{name}").status_code == 404


def test_status_and_other_tabs_render(page: Any, shots: Path) -> None:
    open_tab(page, "Status")
    summary = page.locator("#status-summary")
    summary.get_by_text("Serving engine").wait_for()
    assert "piper" in summary.inner_text()
    expect(page.locator("#status-engines")).to_contain_text("ready")
    page.screenshot(path=shots / "status.png", full_page=True)
    open_tab(page, "Voice conversion")  # this server runs Piper only: the tab says why it cannot convert
    expect(page.locator("#vc-notice")).to_contain_text("chatterbox-vc engine is not enabled")
    page.screenshot(path=shots / "voice-conversion.png", full_page=True)
    open_tab(page, "Voices")
    expect(page.locator("#voices-voice input")).to_have_value("joe.wav")
    page.screenshot(path=shots / "voices.png", full_page=True)


TABS = ("Speech", "Voice conversion", "Concatenate", "Outputs", "Voices", "Status")


def test_every_tab_fits_a_phone_width_window(page: Any, shots: Path) -> None:
    page.set_viewport_size(PHONE)
    for tab in TABS:
        open_tab(page, tab)
        page.wait_for_timeout(300)
        width = page.evaluate("document.documentElement.scrollWidth")
        page.screenshot(path=shots / f"phone-{tab.lower().replace(' ', '-')}.png", full_page=True)
        assert width <= PHONE["width"], f"{tab}: the page is {width} px wide on a {PHONE['width']} px screen"


@pytest.fixture
def doubles(make_settings: Callable[..., Settings], speech_wav: Path) -> Iterator[str]:
    """The app in this process with a cloning test engine (3 s per request) and an echoing VC engine."""
    settings = make_settings(
        engines={"enabled": ["chatterbox", "chatterbox-vc"], "default": "chatterbox", "fallback": None},
        ui={"enabled": True},
    )
    for folder in (settings.paths.voices_dir, settings.paths.vc_inputs_dir):
        Path(folder).mkdir(parents=True)
        shutil.copy(speech_wav, Path(folder) / "joe.wav")
    engines = {"chatterbox": ToneEngine(clones_voices=True), "chatterbox-vc": EchoConversion()}
    app = create_app(settings, engine=CoreEngine(settings, engines=engines))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        threading.Event().wait(0.05)
    yield f"http://127.0.0.1:{server.config.port}"
    server.should_exit = True
    thread.join(30)


def test_the_language_picker_offers_what_the_chosen_engine_speaks(page: Any, shots: Path) -> None:
    language = page.locator("#speech-language input")
    expect(language).to_have_value(DEFAULT)
    pick(page, "#speech-engine", "chatterbox-multilingual")
    pick(page, "#speech-language", "German (de)")
    page.screenshot(path=shots / "speech-language.png", full_page=True)
    pick(page, "#speech-engine", "piper")  # one voice, one language: nothing to choose
    expect(language).to_have_value(DEFAULT)


def test_cloning_voice_preview_and_voice_conversion(
    browser: Any, doubles: str, speech_wav: Path, shots: Path
) -> None:
    context = browser.new_context(viewport=LAPTOP)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{doubles}/ui/")
    clip = decode(speech_wav).duration
    pick(page, "#speech-voice", "joe.wav")
    preview = page.locator("#speech-preview a[data-testid='download-link']")
    expect(preview).to_have_attribute("href", re.compile(r"joe\.wav$"))
    assert player_seconds(page, doubles, "#speech-preview") == pytest.approx(clip, abs=0.01)  # it plays
    page.locator("#speech-text textarea").fill("Cloned.")
    page.locator("#speech-generate").click()
    page.locator("#speech-summary").get_by_text("Saved").wait_for()
    assert abs(player_seconds(page, doubles, "#speech-audio") - 3.0) < 0.05  # the test engine's 3 s
    page.screenshot(path=shots / "speech-cloning.png", full_page=True)

    open_tab(page, "Voice conversion")
    pick(page, "#vc-source", "joe.wav")
    pick(page, "#vc-target", "joe.wav")
    for preview in ("#vc-source-preview", "#vc-target-preview"):  # each pick plays before converting
        assert player_seconds(page, doubles, preview) == pytest.approx(clip, abs=0.01)
    page.locator("#vc-convert").click()
    page.locator("#vc-summary").get_by_text("Saved").wait_for()
    converted = player_seconds(page, doubles, "#vc-audio")
    assert abs(converted - decode(speech_wav).duration) < 0.05  # the echo engine keeps the length
    page.screenshot(path=shots / "voice-conversion-done.png", full_page=True)
    context.close()


def test_voices_tab_uploads_edits_and_deletes_a_voice_and_makes_an_emotion_profile(
    browser: Any, doubles: str, speech_wav: Path, tmp_path: Path, shots: Path
) -> None:
    clip = tmp_path / "narrator.wav"
    shutil.copy(speech_wav, clip)
    context = browser.new_context(viewport=LAPTOP)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{doubles}/ui/")
    open_tab(page, "Voices")
    expect(page.locator("#voices-voice input")).to_have_value("joe.wav")

    # upload into a folder, with tags and default parameters: the quality report shows, it is listed
    page.locator("#voices-add").get_by_text("Add a voice").click()
    page.locator("#voices-upload input[type=file]").set_input_files(str(clip))
    expect(page.locator("#voices-upload")).to_contain_text("narrator.wav")
    add = page.locator("#voices-add")
    add.get_by_label("Folder").fill("narrators")
    add.get_by_label("Tags").fill("calm, male")
    add.get_by_label("Save default parameters").check()
    page.locator("#voices-upload-button").click()
    expect(page.locator("#voices-quality")).to_contain_text("Saved narrators/narrator.wav")
    expect(page.locator("#voices-quality")).to_contain_text("Loudness")
    expect(page.locator("#voices-table")).to_contain_text("narrators/narrator.wav")
    expect(page.locator("#voices-voice input")).to_have_value("narrators/narrator.wav")
    expect(page.locator("#voices-info")).to_contain_text("calm, male")
    expect(page.locator("#voices-info")).to_contain_text("exaggeration 0.5")
    page.screenshot(path=shots / "voices-uploaded.png", full_page=True)

    # the Speech tab offers it (refreshed when the tab opens again)
    open_tab(page, "Speech")
    pick(page, "#speech-voice", "narrators/narrator.wav")
    expect(page.locator("#speech-preview a[data-testid='download-link']")).to_have_attribute(
        "href", re.compile(r"narrator\.wav$")
    )

    # edit its tags; the tag filter finds it
    open_tab(page, "Voices")
    page.locator("#voices-edit-tags textarea, #voices-edit-tags input").first.fill("calm, narrator")
    page.locator("#voices-save").click()
    expect(page.locator("#voices-message")).to_contain_text("Saved narrators/narrator.wav")
    expect(page.locator("#voices-info")).to_contain_text("calm, narrator")
    pick(page, "#voices-tag", "narrator")
    expect(page.locator("#voices-table")).not_to_contain_text("joe.wav")
    expect(page.locator("#voices-table")).to_contain_text("narrators/narrator.wav")

    # an emotion profile from it, tested (the test engine speaks 3 s), offered by the Speech tab
    page.locator("#emotions").get_by_text("Emotion profiles").first.click()
    page.locator("#emotions-character input, #emotions-character textarea").first.fill("Ann")
    page.locator("#emotions-emotion input, #emotions-emotion textarea").first.fill("happy")
    samples = page.locator("#emotions-samples input")
    samples.click()  # a multiselect: the pick shows as a token, the box stays empty
    page.locator(f"#{samples.get_attribute('aria-controls')}").get_by_role(
        "option", name="narrators/narrator.wav", exact=True
    ).click()
    samples.press("Escape")
    expect(page.locator("#emotions-samples")).to_contain_text("narrators/narrator.wav")
    page.locator("#emotions-create").click()
    expect(page.locator("#emotions-message")).to_contain_text("Created profile ann-happy")
    expect(page.locator("#emotions-table")).to_contain_text("ann-happy")
    page.locator("#emotions-test").click()
    expect(page.locator("#emotions-message")).to_contain_text("Spoke with ann-happy")
    assert abs(player_seconds(page, doubles, "#emotions-audio") - 3.0) < 0.05
    page.screenshot(path=shots / "voices-emotions.png", full_page=True)
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(300)
    page.screenshot(path=shots / "voices-phone.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.set_viewport_size(LAPTOP)
    open_tab(page, "Speech")
    pick(page, "#speech-voice", "Emotion: Ann · happy")

    # rename and move it, then delete it: refused until confirmed
    open_tab(page, "Voices")
    page.locator("#voices-edit-name input, #voices-edit-name textarea").first.fill("reader")
    page.locator("#voices-edit-folder input, #voices-edit-folder textarea").first.fill("readers")
    page.locator("#voices-save").click()
    expect(page.locator("#voices-message")).to_contain_text("Saved readers/reader.wav")
    expect(page.locator("#voices-voice input")).to_have_value("readers/reader.wav")
    page.locator("#voices-delete").click()
    expect(page.locator("#voices-message")).to_contain_text("Tick")
    page.locator("#voices-confirm input").check()
    page.locator("#voices-delete").click()
    expect(page.locator("#voices-message")).to_contain_text("Deleted readers/reader.wav")
    expect(page.locator("#voices-table")).not_to_contain_text("reader.wav")
    context.close()


def test_swagger_ui_renders_with_no_network(browser: Any, server: str, shots: Path) -> None:
    """Chromium runs without network here: the operations list appears only if every asset is local."""
    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    try:
        page.goto(f"{server}/docs")
        page.locator(".opblock-summary-path", has_text="/api/v1/tts").first.wait_for(timeout=TIMEOUT_MS)
        page.screenshot(path=str(shots / "docs.png"))
        page.goto(f"{server}/redoc")
        page.get_by_text("Chatterbox TTS Extended Plus").first.wait_for(timeout=TIMEOUT_MS)
    finally:
        context.close()
