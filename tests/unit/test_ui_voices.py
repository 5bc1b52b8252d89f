"""The Voices tab's plain helpers: storing an upload, tags, default parameters, the quality report."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf

from exceptions import ConflictError, InvalidRequestError
from management.catalog import Catalog
from management.emotions import EmotionProfile
from management.index_sqlite import SQLiteIndex
from management.voices import VoiceLibrary, parse_tags, search_text
from ui.common import BUILTIN
from ui.speech import values, voice_choices
from ui.voice_library import (
    ALL,
    defaults_of,
    folders,
    listing,
    quality_report,
    store_upload,
    tags,
)


@pytest.fixture
def library(tmp_path: Path) -> VoiceLibrary:
    (tmp_path / "voices").mkdir()
    index = SQLiteIndex(tmp_path / "index.sqlite3")
    return VoiceLibrary(Catalog(index, "voices", tmp_path / "voices", search_text=search_text))


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    path = tmp_path / "upload" / "Anna Reads.wav"
    path.parent.mkdir()
    t = np.arange(24_000 * 6) / 24_000
    sf.write(path, 0.3 * np.sin(2 * np.pi * 220 * t), 24_000)
    return path


def store(library: VoiceLibrary, source: Path, **kwargs: object) -> tuple[object, object]:
    fields: dict[str, object] = {
        "name": None,
        "folder": None,
        "overwrite": False,
        "description": None,
        "tags": [],
        "default_parameters": {},
    }
    return store_upload(library, source, **{**fields, **kwargs})  # type: ignore[arg-type]


def test_an_upload_lands_in_its_folder_with_its_metadata_and_a_quality_report(
    library: VoiceLibrary, clip: Path
) -> None:
    entry, quality = store(
        library,
        clip,
        name="Anna",
        folder="narrators/",
        tags=["calm"],
        default_parameters={"exaggeration": 0.7},
    )
    # the file keeps the upload's name and `name` is the display name, as the API's uploads do
    assert entry.path == "narrators/Anna Reads.wav" and entry.metadata["name"] == "Anna"
    assert (library.root / "narrators" / "Anna Reads.wav").is_file()
    assert library.resolve("Anna", param="voice") == library.root / "narrators" / "Anna Reads.wav"
    assert entry.metadata["tags"] == ["calm"]
    assert entry.metadata["default_parameters"] == {"exaggeration": 0.7}
    assert quality is not None and abs(quality["duration_seconds"] - 6.0) < 0.01
    report = quality_report(entry, quality)
    assert (
        "narrators/Anna Reads.wav" in report and "LUFS" in report and "⚠️ noisy" in report
    )  # a steady tone: no pauses
    assert folders(library) == [ALL, "narrators"]
    assert tags(library) == [ALL, "calm"]
    assert [e.path for e in listing(library, ALL, "calm", "")] == ["narrators/Anna Reads.wav"]


def test_a_taken_name_needs_overwrite_and_a_non_audio_file_leaves_nothing(
    library: VoiceLibrary, clip: Path, tmp_path: Path
) -> None:
    store(library, clip)
    assert (library.root / "Anna Reads.wav").is_file()
    with pytest.raises(ConflictError, match="Overwrite"):
        store(library, clip)
    store(library, clip, overwrite=True, description="again")
    text = tmp_path / "notes.wav"
    text.write_text("not audio")
    with pytest.raises(InvalidRequestError) as caught:
        store(library, text)
    assert "notes.wav" in caught.value.message  # the upload's own name, never the temporary file's
    assert ".part" not in caught.value.message and str(library.root) not in caught.value.message
    assert sorted(p.name for p in library.root.iterdir()) == ["Anna Reads.wav", "Anna Reads.wav.json"]
    with pytest.raises(InvalidRequestError):
        store(library, clip, folder="../outside")


def test_tags_and_default_parameters_from_the_form() -> None:
    assert parse_tags(" calm, male,, calm ") == ["calm", "male"]
    assert parse_tags(None) == []
    assert parse_tags('["calm", " male ", "calm"]') == ["calm", "male"]  # the API's JSON form, same rules
    with pytest.raises(InvalidRequestError) as caught:
        parse_tags('["calm", 3]')
    assert caught.value.param == "tags"
    assert defaults_of(False, 0.5, 0.5, 0.8) == {}
    assert defaults_of(True, 0.7, 0.3, 0.8) == {"exaggeration": 0.7, "cfg_weight": 0.3, "temperature": 0.8}


def test_the_speech_picker_offers_library_voices_with_folders_and_emotion_profiles(tmp_path: Path) -> None:
    voices = tmp_path / "voices"
    (voices / "narrators").mkdir(parents=True)
    for name in ("joe.wav", "narrators/ann.flac"):
        (voices / name).write_bytes(b"")
    profile = EmotionProfile("ann-happy", "Ann", "happy", 0.9, ("narrators/ann.flac",))
    catalog = Catalog(SQLiteIndex(tmp_path / "index.sqlite"), "voices", voices, label="voice")
    catalog.scan()  # the picker lists from the index
    core = SimpleNamespace(
        serving=lambda: ("chatterbox", None),
        engines_info=lambda: [{"name": "chatterbox", "kind": "tts"}],
        emotions=SimpleNamespace(list=lambda: [profile]),
        voices=VoiceLibrary(catalog),
    )
    choices = voice_choices(core, None)  # type: ignore[arg-type]
    assert choices == [
        BUILTIN,
        "joe.wav",
        "narrators/ann.flac",
        ("Emotion: Ann · happy", "emotion:ann-happy"),
    ]
    assert values(choices)[-1] == "emotion:ann-happy"


def test_a_new_emotion_profile_starts_at_the_configured_generation_defaults() -> None:
    """The profile form's sliders show what ``generation`` in config.yaml sets, not numbers of their own."""
    import gradio as gr

    from config import GenerationSettings
    from ui import emotions_panel

    with gr.Blocks():
        view = emotions_panel.layout(GenerationSettings(exaggeration=0.7, cfg_weight=0.3, temperature=0.9))
    _, _, _, exaggeration, cfg, temperature, _ = view.form
    assert (exaggeration.value, cfg.value, temperature.value) == (0.7, 0.3, 0.9)
