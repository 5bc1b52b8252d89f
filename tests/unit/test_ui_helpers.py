"""The UI's plain helpers: readable errors, formats, what plays, why a tab cannot work."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import gradio as gr
import pytest

from core.progress import Progress
from core_engine import OutputFile
from exceptions import EngineUnavailableError
from ui.common import formats_of, playable, readable, reporting
from ui.conversion import unavailable
from ui.status import engine_rows


def fake_core(*infos: dict[str, Any]) -> Any:
    return SimpleNamespace(engines_info=lambda: list(infos))


def test_project_errors_become_messages_in_the_page() -> None:
    @readable
    async def handler() -> None:
        raise EngineUnavailableError("chatterbox unavailable: no weights in /models")

    with pytest.raises(gr.Error) as caught:
        asyncio.run(handler())
    assert caught.value.message == "chatterbox unavailable: no weights in /models"


def test_other_errors_are_not_dressed_up() -> None:
    @readable
    async def handler() -> None:
        raise KeyError("bug")

    with pytest.raises(KeyError):
        asyncio.run(handler())


def test_formats_keep_the_table_order_and_raw_pcm_is_not_played() -> None:
    assert formats_of(["mp3", "wav"]) == ("wav", "mp3")
    assert formats_of(None) == ()
    files = [OutputFile(f, Path(f"a.{f}"), f"a.{f}", "audio/x") for f in ("pcm", "mp3")]
    assert playable(files) == "a.mp3"
    assert playable(files[:1]) is None


def test_voice_conversion_says_why_it_cannot_run() -> None:
    piper = {"name": "piper", "kind": "tts", "state": "ready", "error": None}
    assert "not enabled" in (unavailable(fake_core(piper)) or "")
    failed = {"name": "chatterbox-vc", "kind": "vc", "state": "failed", "error": "no weights in /m"}
    assert unavailable(fake_core(piper, failed)) == "no weights in /m"
    assert unavailable(fake_core({**failed, "state": "ready", "error": None})) is None


def test_status_rows_show_an_engines_load_error() -> None:
    failed = {"name": "chatterbox", "kind": "tts", "state": "failed", "error": "no weights", "device": "cpu"}
    assert engine_rows(fake_core(failed)) == [["chatterbox", "tts", "failed", "cpu", "no weights"]]


def test_engine_progress_moves_the_page_progress_bar() -> None:
    calls: list[tuple[Any, dict[str, Any]]] = []
    report = reporting(lambda *args, **kwargs: calls.append((args, kwargs)), "Speaking")  # type: ignore[arg-type]
    report(Progress("speak", 2, 5, 3.5))
    report(Progress("speak", 2, 5, 3.5, within=0.5))  # the third chunk half made (estimated)
    assert calls == [((0.4,), {"desc": "Speaking: 2/5"}), ((0.5,), {"desc": "Speaking: 2/5"})]


def test_the_language_picker_lists_what_the_chosen_engine_speaks(make_settings: Any) -> None:
    from config import MULTILINGUAL_LANGUAGES
    from core.speech import SpeechService
    from engines.manager import EngineManager
    from engines.registry import build_engines
    from ui.common import DEFAULT
    from ui.speech import language_choices

    settings = make_settings(
        engines={"enabled": ["chatterbox-multilingual", "piper"], "default": "piper", "fallback": None},
        models={"multilingual": {"default_language": "de"}},
    )
    manager = EngineManager(build_engines(settings), settings.engines, settings.models)
    speech = SpeechService(settings, manager, None, None, None)  # type: ignore[arg-type]  # languages only
    core = SimpleNamespace(serving=lambda: ("piper", None), speech=speech)
    choices = language_choices(core, "chatterbox-multilingual")
    assert choices[:2] == [DEFAULT, ("German (de)", "de")]  # the configured default first
    assert sorted(code for _, code in choices[1:]) == sorted(MULTILINGUAL_LANGUAGES)
    assert language_choices(core, DEFAULT) == [DEFAULT]  # Piper's voice speaks one language: no choice
    assert language_choices(core, "gone") == [DEFAULT]
