"""The UI's handlers as plain functions: what a tab's fields ask the engine for, without a page."""

from __future__ import annotations

import ast
from pathlib import Path
from types import SimpleNamespace

from ui.common import BUILTIN, DEFAULT
from ui.concat import append, append_silence, concat_job
from ui.conversion import NONE, conversion_request
from ui.speech import speech_request
from ui.voices_tab import voice_edit

ROOT = Path(__file__).resolve().parents[2]


def test_the_speech_tab_sends_only_what_the_speaking_engine_uses() -> None:
    request = speech_request(
        {"exaggeration", "cfg_weight", "temperature"}, "Hi.", DEFAULT, DEFAULT, DEFAULT, (1.5, 0.3, 0.9),
        1.25, 0, True, ["mp3", "wav"], "  book/ch1 ",
    )  # fmt: skip
    assert (request.engine, request.voice, request.language) == (None, None, None)
    assert (request.exaggeration, request.cfg_weight, request.temperature) == (None, None, None)
    assert request.output.formats == ("wav", "mp3") and request.output.project == "book/ch1"
    assert request.output.post.speed_factor == 1.25 and request.output.post.trim
    chosen = speech_request(
        set(), "Hi.", "chatterbox", "narrator.wav", "de", (1.5, 0.3, 0.9), 1, 7, False, [], ""
    )
    assert (chosen.engine, chosen.voice, chosen.language, chosen.seed) == (
        "chatterbox",
        "narrator.wav",
        "de",
        7,
    )
    assert (chosen.exaggeration, chosen.cfg_weight, chosen.temperature) == (1.5, 0.3, 0.9)
    assert (
        speech_request(set(), "", DEFAULT, BUILTIN, DEFAULT, (0, 0, 0), 1, None, False, [], "").voice is None
    )


def test_the_conversion_tab_prefers_uploads_and_reads_none_as_nothing() -> None:
    picked = conversion_request("line.wav", None, "joe.wav", None, None, None, None, ["wav"], "")
    assert (picked.source, picked.target_voice, picked.chunk_sec) == ("line.wav", "joe.wav", 60.0)
    uploaded = conversion_request(NONE, "/tmp/up.wav", BUILTIN, None, 30, 0.2, 5, ["flac"], "vc")
    assert uploaded.source is None and uploaded.source_file == Path("/tmp/up.wav")
    assert uploaded.target_voice is None and uploaded.output.project == "vc" and uploaded.seed == 5


def test_the_concat_recipe_grows_line_by_line_and_becomes_a_job() -> None:
    recipe = append_silence(append("", "a.wav"), None)
    assert append(recipe, None) == recipe == "a.wav\n(500ms)"
    job = concat_job(
        f"{recipe}\n\n voice:joe ", [100, 0, 20, True, True, False, -16], ["wav"], "", " joined "
    )
    assert [item.source for item in job.items] == ["a.wav", "(500ms)", "voice:joe"]
    assert job.options.pause_ms == 100 and job.options.crossfade_ms == 20 and job.options.trim
    assert job.name == "joined" and job.project is None


def test_a_voice_edit_renames_or_moves_only_when_the_field_changed() -> None:
    entry = SimpleNamespace(stem="narrator", folder="books")
    same = voice_edit(entry, "narrator", "/books/", " calm voice ", "calm, male", None)  # type: ignore[arg-type]
    assert (same.name, same.folder, same.description, same.tags) == (
        None,
        None,
        "calm voice",
        ["calm", "male"],
    )
    moved = voice_edit(entry, "reader", "", "", "", None)  # type: ignore[arg-type]
    assert (moved.name, moved.folder, moved.description) == ("reader", "", None)


def test_no_ui_function_is_longer_than_60_lines() -> None:
    long = {
        f"{path.name}:{node.name}": node.end_lineno - node.lineno + 1
        for path in (ROOT / "ui").glob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno - node.lineno >= 60
    }
    assert long == {}
