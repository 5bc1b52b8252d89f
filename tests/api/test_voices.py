"""The voice library API: upload, list, edit, delete, usage counts, bulk upload, export and import."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from config import Settings
from core_engine import CoreEngine
from engines.base import SynthesisParams
from main_api import create_app
from tests.support.engines import EchoConversion, ToneEngine
from utils.audio import Clip

RATE = 24000


def voice_wav(seconds: float = 8.0, *, level: float = 0.3, rate: int = RATE, seed: int = 0) -> bytes:
    """Speech-like audio: a 180 Hz buzz with a syllable rhythm, quiet pauses between "words"."""
    t = np.arange(int(seconds * rate)) / rate
    envelope = np.clip(np.sin(2 * np.pi * 2.5 * t), 0, None)
    noise = np.random.default_rng(seed).normal(0, 0.0005, t.size)
    samples = (level * envelope * np.sin(2 * np.pi * 180 * t) + noise).astype(np.float32)
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(
        engines={"enabled": ["piper", "chatterbox-vc"], "default": "piper", "fallback": None},
        limits={"max_upload_mb": 1},
    )


@pytest.fixture
def cloner() -> ToneEngine:
    return ToneEngine(clones_voices=True)


def start(settings: Settings, cloner: ToneEngine | None = None) -> TestClient:
    engines = {"tone": cloner or ToneEngine(clones_voices=True), "chatterbox-vc": EchoConversion()}
    return TestClient(create_app(settings, engine=CoreEngine(settings, engines=engines)))


@pytest.fixture
def client(settings: Settings, cloner: ToneEngine) -> Iterator[TestClient]:
    with start(settings, cloner) as client:
        yield client


def upload(
    client: TestClient, content: bytes | None = None, filename: str = "narrator.wav", **fields: Any
) -> Any:
    files = {"voice_file": (filename, voice_wav() if content is None else content, "audio/wav")}
    return client.post("/api/v1/voice", data={k: str(v) for k, v in fields.items()}, files=files)


def voices_dir(client: TestClient) -> Path:
    return Path(client.app.state.settings.paths.voices_dir)


def error(response: Any) -> dict[str, Any]:
    return response.json()["error"]


# ---- upload ----------------------------------------------------------------------------------


def test_an_uploaded_voice_is_kept_with_its_metadata_listed_and_downloadable(client: TestClient) -> None:
    content = voice_wav(8.0)
    response = upload(
        client,
        content,
        filename="take3.wav",
        **{
            "name": "Anna",
            "description": "Warm narrator",
            "tags": "calm, female",
            "folder_path": "books/fantasy",
            "default_parameters": json.dumps({"exaggeration": 0.7, "cfg_weight": 0.3, "style": "soft"}),
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True and body["message"] == "Voice 'Anna' uploaded successfully"
    # as in Plus: the file keeps the uploaded file's name, `name` is the display name
    assert body["filename"] == "take3.wav" and body["path"] == "books/fantasy/take3.wav"
    meta = body["voice_metadata"]
    assert meta["name"] == "Anna" and meta["url"] == "books/fantasy/take3.wav"
    assert meta["folder_path"] == "books/fantasy" and meta["description"] == "Warm narrator"
    assert meta["tags"] == ["calm", "female"] and meta["usage_count"] == 0 and meta["last_used"] is None
    assert meta["default_parameters"] == {"exaggeration": 0.7, "cfg_weight": 0.3, "style": "soft"}
    assert meta["duration_seconds"] == pytest.approx(8.0, abs=0.01) and meta["sample_rate"] == RATE
    assert meta["format"] == "wav" and meta["file_size_bytes"] == len(content)
    quality = body["quality"]
    assert quality["duration_seconds"] == pytest.approx(8.0, abs=0.01) and quality["warnings"] == []
    assert -20 < quality["peak_dbfs"] < -9 and quality["clipping_ratio"] == 0
    assert quality["loudness_lufs"] is not None and quality["noise_floor_dbfs"] < -50

    saved = voices_dir(client) / "books/fantasy/take3.wav"
    assert saved.read_bytes() == content
    sidecar = json.loads((saved.parent / "take3.wav.json").read_text())
    assert sidecar["description"] == "Warm narrator" and sidecar["tags"] == ["calm", "female"]
    assert sidecar["usage_count"] == 0 and sidecar["quality"]["warnings"] == []

    listing = client.get("/api/v1/voices").json()
    assert listing["count"] == 1 and listing["total_voices"] == 1 and listing["total_pages"] == 1
    assert listing["has_next"] is False and listing["has_previous"] is False
    [item] = listing["voices"]
    assert item == meta
    assert client.get("/api/v1/voices/books/fantasy/take3.wav").json() == item
    assert client.get("/api/v1/voice/books/fantasy/take3.wav").json() == item
    assert client.get("/api/v1/voices/take3.wav").json() == item  # a bare name found in one folder
    audio = client.get(item["audio_url"])
    assert audio.status_code == 200 and audio.content == content
    assert audio.headers["content-type"].startswith("audio/")
    download = client.get(item["audio_url"], params={"download": "true"})
    assert 'filename="take3.wav"' in download.headers["content-disposition"]

    tree = client.get("/api/v1/voices/folders", params={"shape": "nested"}).json()
    assert tree["total_voices"] == 1 and tree["total_folders"] == 2
    assert tree["folders"][0]["path"] == "books" and tree["folders"][0]["subfolders"][0]["voice_count"] == 1


def test_upload_defaults_aliases_and_json_tags(client: TestClient) -> None:
    response = upload(client, filename="Bob.flac.wav", project="team", tags='["deep", "male"]')
    assert response.status_code == 200, response.text
    meta = response.json()["voice_metadata"]
    assert meta["name"] == "Bob.flac" and meta["path"] == "team/Bob.flac.wav"
    assert meta["description"] == "Voice file: Bob.flac" and meta["tags"] == ["deep", "male"]
    assert meta["default_parameters"] == {}
    disagree = upload(client, filename="c.wav", folder_path="a", project="b")
    assert disagree.status_code == 400 and error(disagree)["param"] == "project"


def test_a_taken_name_is_a_409_unless_overwrite(client: TestClient) -> None:
    assert upload(client, filename="x.wav").status_code == 200
    again = upload(client, voice_wav(6.0), filename="x.wav")
    assert again.status_code == 409 and error(again)["param"] == "voice_file"
    assert "overwrite=true" in error(again)["message"]
    named = upload(client, voice_wav(6.0), filename="other.wav", **{"name": "x"})
    assert named.status_code == 200 and named.json()["filename"] == "other.wav"  # `name` is a display name
    replaced = upload(client, voice_wav(6.0), filename="x.wav", overwrite="true")
    assert replaced.status_code == 200
    assert replaced.json()["voice_metadata"]["duration_seconds"] == pytest.approx(6.0, abs=0.01)
    assert client.get("/api/v1/voices").json()["total_voices"] == 2


def test_a_replaced_voice_keeps_the_name_and_description_it_was_given(client: TestClient) -> None:
    """A new recording of a named voice: the list still shows the name the user gave it."""
    first = upload(client, filename="bob.wav", name="Narrator Bob", description="warm and slow")
    assert first.status_code == 200, first.text
    again = upload(client, voice_wav(6.0), filename="bob.wav", overwrite="true")
    assert again.status_code == 200, again.text
    meta = again.json()["voice_metadata"]
    assert (meta["name"], meta["description"]) == ("Narrator Bob", "warm and slow")
    assert meta["duration_seconds"] == pytest.approx(6.0, abs=0.01)  # the new recording's
    assert client.get("/api/v1/voices/bob.wav").json()["name"] == "Narrator Bob"
    renamed = upload(
        client, voice_wav(5.0), filename="bob.wav", overwrite="true", name="Bob", description="new"
    )
    assert (renamed.json()["voice_metadata"]["name"], renamed.json()["voice_metadata"]["description"]) == (
        "Bob",
        "new",
    )


def test_what_is_not_audio_is_refused_and_nothing_is_left(client: TestClient) -> None:
    response = upload(client, b"this is not audio at all" * 100, filename="fake.wav")
    assert response.status_code == 400 and error(response)["param"] == "voice_file"
    empty = upload(client, b"", filename="empty.wav")
    assert empty.status_code == 400 and error(empty)["param"] == "voice_file"
    assert [p for p in voices_dir(client).rglob("*") if p.is_file() and p.name != ".gitignore"] == []
    assert client.get("/api/v1/voices").json()["total_voices"] == 0


def test_an_oversize_upload_is_a_413(client: TestClient) -> None:
    response = upload(client, voice_wav(30.0), filename="big.wav")  # ~1.4 MB, the limit is 1 MB
    assert response.status_code == 413 and error(response)["param"] == "voice_file"
    assert not (voices_dir(client) / "big.wav").exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "../escape"),
        ("name", "a/b"),
        ("name", "%2e%2e%2fx"),
        ("folder_path", "../outside"),
        ("folder_path", "/abs"),
        ("folder_path", "a/../../b"),
        ("project", "%2e%2e/x"),
    ],
)
def test_names_and_folders_that_escape_voices_are_refused(client: TestClient, field: str, value: str) -> None:
    response = upload(client, **{field: value})
    assert response.status_code == 400, response.text
    assert error(response)["param"] == ("folder_path" if field == "project" else field)
    assert not list(voices_dir(client).parent.glob("outside*"))


def test_bad_default_parameters_and_tags_are_400s(client: TestClient) -> None:
    not_json = upload(client, default_parameters="{exaggeration: 1")
    assert not_json.status_code == 400 and error(not_json)["param"] == "default_parameters"
    out_of_range = upload(client, default_parameters='{"exaggeration": 5}')
    assert out_of_range.status_code == 400 and "exaggeration" in error(out_of_range)["message"]
    not_object = upload(client, default_parameters="[1, 2]")
    assert not_object.status_code == 400
    tags = upload(client, tags="[1, 2]")
    assert tags.status_code == 400 and error(tags)["param"] == "tags"
    assert client.get("/api/v1/voices").json()["total_voices"] == 0


@pytest.mark.parametrize(
    ("audio", "warning"),
    [
        (voice_wav(2.0), "short"),
        (voice_wav(40.0, rate=8000), "long"),
        (voice_wav(8.0, level=3.0), "clipping"),
        (voice_wav(8.0, level=0.003), "quiet"),
    ],
)
def test_the_quality_report_warns_about_poor_references(
    client: TestClient, audio: bytes, warning: str
) -> None:
    response = upload(client, audio, filename="v.wav")
    assert response.status_code == 200, response.text
    warnings = response.json()["quality"]["warnings"]
    assert any(w.startswith(warning) for w in warnings), warnings
    assert response.json()["voice_metadata"]["quality"]["warnings"] == warnings


# ---- listing ---------------------------------------------------------------------------------


@pytest.fixture
def library(client: TestClient) -> TestClient:
    """Four voices: two in books/ (one in books/old/), one in ads/, one at the root."""
    for name, seconds, fields in [
        ("anna.wav", 6, {"folder_path": "books", "tags": "calm,female", "description": "Warm narrator"}),
        ("bert.wav", 9, {"folder_path": "books/old", "tags": "deep,male"}),
        ("carl.wav", 7, {"folder_path": "ads", "tags": "Energetic,male", "description": "Radio spots"}),
        ("dora.wav", 5.5, {"tags": "calm"}),
    ]:
        assert upload(client, voice_wav(seconds), filename=name, **fields).status_code == 200
    return client


def names(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [v["name"] for v in response.json()["voices"]]


def test_listing_filters_by_folder_tag_and_search(library: TestClient) -> None:
    get = library.get
    assert names(get("/api/v1/voices")) == ["anna", "bert", "carl", "dora"]
    assert names(get("/api/v1/voices", params={"folder": "books"})) == ["anna", "bert"]
    assert names(get("/api/v1/voices", params={"project": "books/old"})) == ["bert"]
    assert names(get("/api/v1/voices", params={"tag": "male"})) == ["bert", "carl"]
    assert names(get("/api/v1/voices", params={"tag": "energetic"})) == ["carl"]  # case-insensitive
    assert names(get("/api/v1/voices", params={"tag": "calm", "folder": "books"})) == ["anna"]
    assert names(get("/api/v1/voices", params={"search": "radio"})) == ["carl"]  # description
    assert names(get("/api/v1/voices", params={"search": "DEEP"})) == ["bert"]  # tag
    assert names(get("/api/v1/voices", params={"search": "old"})) == ["bert"]  # folder
    assert names(get("/api/v1/voices", params={"search": "dor"})) == ["dora"]  # name
    assert names(get("/api/v1/voices", params={"filenames": "anna.wav,ads/carl.wav"})) == ["anna", "carl"]
    bad = get("/api/v1/voices", params={"folder": "../x"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "folder"


def test_listing_sorts_and_pages(library: TestClient) -> None:
    get = library.get
    assert names(get("/api/v1/voices", params={"order": "desc"})) == ["dora", "carl", "bert", "anna"]
    assert names(get("/api/v1/voices", params={"sort_by": "duration"})) == ["bert", "carl", "anna", "dora"]
    assert names(get("/api/v1/voices", params={"sort_by": "duration", "sort_order": "asc"}))[0] == "dora"
    assert names(get("/api/v1/voices", params={"sort_by": "date"}))[0] == "dora"  # newest first
    page = get("/api/v1/voices", params={"page": 2, "page_size": 3}).json()
    assert [v["name"] for v in page["voices"]] == ["dora"]
    assert (page["count"], page["page"], page["total_pages"], page["total_voices"]) == (1, 2, 2, 4)
    assert page["has_previous"] is True and page["has_next"] is False
    assert get("/api/v1/voices", params={"page_size": 101}).status_code == 400
    assert get("/api/v1/voices", params={"sort_by": "generation_type"}).status_code == 400
    assert get("/api/v1/voices", params={"order": "asc", "sort_order": "desc"}).status_code == 400


def test_voices_dropped_in_by_hand_are_found_at_start_and_by_rescan(settings: Settings) -> None:
    folder = Path(settings.paths.voices_dir) / "hand"
    folder.mkdir(parents=True)
    (folder / "eve.wav").write_bytes(voice_wav(6.0))
    (folder / "notes.txt").write_text("not a voice")
    with start(settings) as client:
        [voice] = client.get("/api/v1/voices").json()["voices"]
        assert voice["path"] == "hand/eve.wav" and voice["duration_seconds"] == pytest.approx(6.0, abs=0.01)
        assert (
            voice["description"] == "Voice file: eve"
            and voice["usage_count"] == 0
            and voice["quality"] is None
        )
        (folder / "fay.wav").write_bytes(voice_wav(5.0))
        assert client.post("/api/v1/voices/rescan").json()["added"] == 1
        assert client.get("/api/v1/voices").json()["total_voices"] == 2


# ---- one voice: metadata, delete ----------------------------------------------------------------


def test_metadata_updates_rename_and_move(library: TestClient) -> None:
    put = library.put
    changed = put(
        "/api/v1/voice/books/anna.wav/metadata",
        json={
            "description": "Calm reader",
            "tags": ["calm", "audiobook"],
            "default_parameters": {"temperature": 0.6},
        },
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["message"] == "Voice 'anna' updated successfully"
    meta = body["voice_metadata"]
    assert meta["description"] == "Calm reader" and meta["tags"] == ["calm", "audiobook"]
    assert meta["default_parameters"] == {"temperature": 0.6} and meta["last_updated"]
    assert names(library.get("/api/v1/voices", params={"tag": "audiobook"})) == ["anna"]

    renamed = put(
        "/api/v1/voice/books/anna.wav/metadata", json={"name": "annabel", "folder_path": "kept/voices"}
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["path"] == "kept/voices/annabel.wav"
    assert renamed.json()["voice_metadata"]["description"] == "Calm reader"  # metadata moved along
    root = voices_dir(library)
    assert (root / "kept/voices/annabel.wav").is_file() and (root / "kept/voices/annabel.wav.json").is_file()
    assert not (root / "books/anna.wav").exists() and not (root / "books/anna.wav.json").exists()
    assert library.get("/api/v1/voices/books/anna.wav").status_code == 404
    assert library.get("/api/v1/voices/kept/voices/annabel.wav").json()["description"] == "Calm reader"
    to_root = put("/api/v1/voices/kept/voices/annabel.wav/metadata", json={"folder_path": ""})
    assert to_root.status_code == 200 and to_root.json()["path"] == "annabel.wav"


def test_metadata_update_conflicts_traversal_and_unknown_voices(library: TestClient) -> None:
    put = library.put
    taken = put("/api/v1/voice/dora.wav/metadata", json={"name": "carl", "folder_path": "ads"})
    assert taken.status_code == 409 and (voices_dir(library) / "dora.wav").is_file()
    assert put("/api/v1/voice/dora.wav/metadata", json={"name": "../x"}).status_code == 400
    escape = put("/api/v1/voice/dora.wav/metadata", json={"folder_path": "../../x"})
    assert escape.status_code == 400 and escape.json()["error"]["param"] == "folder_path"
    assert put("/api/v1/voice/nobody.wav/metadata", json={"description": "x"}).status_code == 404
    assert put("/api/v1/voice/..%2f..%2fetc/metadata", json={"description": "x"}).status_code in (400, 404)
    bad = put("/api/v1/voice/dora.wav/metadata", json={"default_parameters": {"cfg_weight": 9}})
    assert bad.status_code == 400
    assert put("/api/v1/voice/dora.wav/metadata", json={"colour": "red"}).status_code == 400
    assert library.get("/api/v1/voices/dora.wav").json()["description"] == "Voice file: dora"


def test_deleting_one_voice_needs_confirm(library: TestClient) -> None:
    root = voices_dir(library)
    refused = library.delete("/api/v1/voice/dora.wav")
    assert refused.status_code == 400 and refused.json()["error"]["param"] == "confirm"
    preview = library.delete("/api/v1/voice/dora.wav", params={"dry_run": "true"}).json()
    assert preview["dry_run"] is True and preview["deleted_files"] == ["dora.wav", "dora.wav.json"]
    assert (root / "dora.wav").is_file()
    done = library.delete("/api/v1/voice/dora.wav", params={"confirm": "true"}).json()
    assert done["deleted_count"] == 1 and done["message"] == "Deleted 1 voice file(s)"
    assert not (root / "dora.wav").exists() and not (root / "dora.wav.json").exists()
    assert library.delete("/api/v1/voice/dora.wav", params={"confirm": "true"}).status_code == 404
    assert library.get("/api/v1/voices/../x").status_code in (400, 404)
    assert library.delete("/api/v1/voice/%2e%2e/x", params={"confirm": "true"}).status_code == 400


def test_bulk_delete_needs_a_filter_or_all_and_previews(library: TestClient) -> None:
    delete = library.delete
    nothing = delete("/api/v1/voices", params={"confirm": "true"})
    assert nothing.status_code == 400 and nothing.json()["error"]["param"] == "all"
    assert library.get("/api/v1/voices").json()["total_voices"] == 4
    preview = delete("/api/v1/voices", params={"tag": "male", "dry_run": "true"}).json()
    assert preview["dry_run"] is True and preview["deleted_count"] == 2
    assert library.get("/api/v1/voices").json()["total_voices"] == 4
    assert delete("/api/v1/voices", params={"tag": "male"}).status_code == 400  # no confirm
    done = delete("/api/v1/voices", params={"folder": "books", "confirm": "true"}).json()
    assert done["deleted_count"] == 2 and "books/old" in done["removed_folders"]
    assert names(library.get("/api/v1/voices")) == ["carl", "dora"]
    assert delete("/api/v1/voices", params={"folder": "nowhere", "confirm": "true"}).status_code == 404
    everything = delete("/api/v1/voices", params={"all": "true", "confirm": "true"}).json()
    assert everything["deleted_count"] == 2
    assert library.get("/api/v1/voices").json()["total_voices"] == 0


# ---- usage -------------------------------------------------------------------------------------


def test_tts_and_vc_count_uses_of_a_library_voice(library: TestClient, cloner: ToneEngine) -> None:
    for _ in range(2):
        spoken = library.post("/api/v1/tts", json={"text": "Hi.", "engine": "tone", "voice": "books/anna"})
        assert spoken.status_code == 200, spoken.text
    assert cloner.voices_heard[-1].name == "anna.wav"
    anna = library.get("/api/v1/voices/books/anna.wav").json()
    assert anna["usage_count"] == 2 and anna["last_used"]
    sidecar = json.loads((voices_dir(library) / "books/anna.wav.json").read_text())
    assert sidecar["usage_count"] == 2 and sidecar["description"] == "Warm narrator"

    line = io.BytesIO(voice_wav(2.0))
    converted = library.post(
        "/api/v1/vc",
        data={"target_voice_source": "dora.wav", "export_formats": "wav"},
        files={"input_audio": ("line.wav", line, "audio/wav")},
    )
    assert converted.status_code == 200, converted.text
    assert library.get("/api/v1/voices/dora.wav").json()["usage_count"] == 1
    failed = library.post("/api/v1/tts", json={"text": "", "engine": "tone", "voice": "dora"})
    assert failed.status_code == 400
    assert library.get("/api/v1/voices/dora.wav").json()["usage_count"] == 1
    by_usage = names(library.get("/api/v1/voices", params={"sort_by": "usage"}))
    assert by_usage[:2] == ["anna", "dora"]


def test_a_usage_count_never_fails_a_request(library: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    import management.voices.library

    def broken(path: Path, data: bytes) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(management.voices.library, "atomic_write_bytes", broken)
    spoken = library.post("/api/v1/tts", json={"text": "Hi.", "engine": "tone", "voice": "dora"})
    assert spoken.status_code == 200, spoken.text
    assert library.get("/api/v1/voices/dora.wav").json()["usage_count"] == 0


# ---- bulk upload, export, import ---------------------------------------------------------------


def zip_of(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_bulk_upload_of_files_and_a_zip(client: TestClient) -> None:
    files = [
        ("voice_files", ("a.wav", voice_wav(6.0), "audio/wav")),
        ("voice_files", ("b.wav", voice_wav(7.0), "audio/wav")),
        (
            "voice_files",
            ("more.zip", zip_of({"z/c.wav": voice_wav(5.5), "readme.txt": b"hi"}), "application/zip"),
        ),
    ]
    response = client.post("/api/v1/voices", data={"folder_path": "batch", "tags": "new"}, files=files)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [v["path"] for v in body["voices"]] == ["batch/a.wav", "batch/b.wav", "batch/z/c.wav"]
    assert body["voices"][0]["voice_metadata"]["tags"] == ["new"] and body["voices"][0]["quality"]
    assert body["skipped"] == {"more.zip:readme.txt": "not an audio file"}
    again = client.post(
        "/api/v1/voices",
        files=[("voice_files", ("b.wav", voice_wav(), "audio/wav"))],
        data={"project": "batch"},
    )
    assert again.status_code == 409
    twice = [
        ("voice_files", ("x.wav", voice_wav(), "audio/wav")),
        ("voice_files", ("x.wav", voice_wav(), "audio/wav")),
    ]
    assert client.post("/api/v1/voices", files=twice).status_code == 400
    one_bad = [
        ("voice_files", ("ok.wav", voice_wav(), "audio/wav")),
        ("voice_files", ("bad.wav", b"nope" * 50, "audio/wav")),
    ]
    refused = client.post("/api/v1/voices", files=one_bad)
    assert refused.status_code == 400 and refused.json()["error"]["param"] == "voice_files"
    assert client.get("/api/v1/voices").json()["total_voices"] == 4  # ok.wav was kept, bad.wav was not


def test_export_delete_import_round_trip(library: TestClient) -> None:
    library.post("/api/v1/tts", json={"text": "Hi.", "engine": "tone", "voice": "dora"})
    before = {v["path"]: v for v in library.get("/api/v1/voices").json()["voices"]}
    exported = library.get("/api/v1/voices/export")
    assert exported.status_code == 200 and exported.headers["content-type"] == "application/zip"
    assert exported.headers["content-disposition"].startswith('attachment; filename="voices-')
    with zipfile.ZipFile(io.BytesIO(exported.content)) as archive:
        assert sorted(archive.namelist()) == sorted([*before, *(f"{p}.json" for p in before)])
    only_books = library.get("/api/v1/voices/export", params={"folder": "books"})
    assert len(zipfile.ZipFile(io.BytesIO(only_books.content)).namelist()) == 4

    library.delete("/api/v1/voices", params={"all": "true", "confirm": "true"})
    assert library.get("/api/v1/voices").json()["total_voices"] == 0
    restored = library.post(
        "/api/v1/voices/import", files={"archive": ("backup.zip", exported.content, "application/zip")}
    )
    assert restored.status_code == 200, restored.text
    assert sorted(restored.json()["imported"]) == sorted(before) and restored.json()["skipped"] == {}
    after = {v["path"]: v for v in library.get("/api/v1/voices").json()["voices"]}
    keys = ("description", "tags", "default_parameters", "usage_count", "duration_seconds", "quality")
    assert {p: [v[k] for k in keys] for p, v in after.items()} == {
        p: [v[k] for k in keys] for p, v in before.items()
    }
    assert after["dora.wav"]["usage_count"] == 1

    again = library.post(
        "/api/v1/voices/import", files={"archive": ("b.zip", exported.content, "application/zip")}
    )
    assert again.json()["imported"] == [] and len(again.json()["skipped"]) == 4
    replaced = library.post(
        "/api/v1/voices/import",
        data={"overwrite": "true", "folder_path": "restored"},
        files={"archive": ("b.zip", exported.content, "application/zip")},
    ).json()
    assert sorted(replaced["imported"]) == sorted(f"restored/{p}" for p in before)
    moved = library.get("/api/v1/voices/restored/books/anna.wav").json()
    assert moved["folder_path"] == "restored/books" and moved["url"] == "restored/books/anna.wav"
    assert moved["description"] == "Warm narrator"


@pytest.mark.parametrize(
    "entry",
    ["../evil.wav", "/abs/evil.wav", "a/../../evil.wav", "C:/evil.wav", "%2e%2e/evil.wav", "..\\evil.wav"],
)
def test_an_archive_with_an_escaping_entry_is_refused_whole(client: TestClient, entry: str) -> None:
    archive = zip_of({"good.wav": voice_wav(6.0), entry: voice_wav(6.0)})
    response = client.post("/api/v1/voices/import", files={"archive": ("x.zip", archive, "application/zip")})
    assert response.status_code == 400 and response.json()["error"]["param"] == "archive"
    root = voices_dir(client)
    assert not (root / "good.wav").exists() and not list(root.parent.rglob("evil.wav"))


def test_import_skips_what_is_not_audio_and_refuses_what_is_not_a_zip(client: TestClient) -> None:
    archive = zip_of({"v.wav": voice_wav(6.0), "fake.wav": b"not audio" * 20, ".hidden.wav": voice_wav(5.0)})
    body = client.post(
        "/api/v1/voices/import", files={"archive": ("x.zip", archive, "application/zip")}
    ).json()
    assert body["imported"] == ["v.wav"] and set(body["skipped"]) == {"fake.wav", ".hidden.wav"}
    assert client.get("/api/v1/voices/v.wav").json()["description"] == "Voice file: v"
    assert not [p for p in voices_dir(client).iterdir() if p.name.endswith(".part")]
    not_zip = client.post("/api/v1/voices/import", files={"archive": ("x.zip", b"hello", "application/zip")})
    assert not_zip.status_code == 400 and not_zip.json()["error"]["param"] == "archive"


@pytest.mark.parametrize(
    "parameters", [{"cfg_weight": "x"}, {"temperature": -5}, {"exaggeration": 1e308}, ["not", "an", "object"]]
)
def test_imported_sidecars_are_checked_as_uploads_are(client: TestClient, parameters: Any) -> None:
    """A sidecar with bad default parameters keeps its voice out (it made every later TTS a 500)."""
    archive = zip_of(
        {
            "bad.wav": voice_wav(6.0),
            "bad.wav.json": json.dumps({"description": "bad", "default_parameters": parameters}).encode(),
            "good.wav": voice_wav(6.0),
            "good.wav.json": json.dumps({"default_parameters": {"temperature": 0.6}}).encode(),
        }
    )
    body = client.post(
        "/api/v1/voices/import", files={"archive": ("x.zip", archive, "application/zip")}
    ).json()
    assert body["imported"] == ["good.wav"]
    assert "default_parameters" in body["skipped"]["bad.wav"]
    assert not (voices_dir(client) / "bad.wav").exists()
    assert client.get("/api/v1/voices/good.wav").json()["default_parameters"] == {"temperature": 0.6}
    spoken = client.post("/api/v1/tts", json={"text": "Hello.", "engine": "tone", "voice": "good"})
    assert spoken.status_code == 200, spoken.text


def test_damaged_encrypted_and_oddly_compressed_entries_are_skipped(client: TestClient) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("ok.wav", voice_wav(6.0))
        archive.writestr("bz.wav", voice_wav(6.0), compress_type=zipfile.ZIP_BZIP2)
        archive.writestr("xz.wav", voice_wav(6.0), compress_type=zipfile.ZIP_LZMA)
        archive.writestr("locked.wav", voice_wav(6.0))
    data = bytearray(buffer.getvalue())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        infos = {i.filename: i for i in archive.infolist()}
    for name in ("bz.wav", "xz.wav"):  # garble the compressed data behind the local header
        start = infos[name].header_offset + 30 + len(name) + 200
        data[start : start + 64] = bytes(64)
    central = data.find(b"locked.wav", infos["locked.wav"].header_offset + 40) - 46  # its central record
    data[central + 8] |= 0x01  # "encrypted", in the central directory that readers trust
    response = client.post(
        "/api/v1/voices/import", files={"archive": ("x.zip", bytes(data), "application/zip")}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["imported"] == ["ok.wav"]
    assert set(body["skipped"]) == {"bz.wav", "xz.wav", "locked.wav"}
    assert not [p for p in voices_dir(client).rglob("*") if p.name.endswith(".part")]


def test_an_entry_name_over_255_bytes_refuses_the_archive(client: TestClient) -> None:
    archive = zip_of({"a" * 300 + ".wav": voice_wav(6.0)})
    response = client.post("/api/v1/voices/import", files={"archive": ("x.zip", archive, "application/zip")})
    assert response.status_code == 400 and response.json()["error"]["param"] == "archive"


def test_date_filters_size_sort_ambiguous_names_and_the_plural_delete(library: TestClient) -> None:
    get = library.get
    assert names(get("/api/v1/voices", params={"date_from": "2000-01-01", "date_to": "2999-12-31"})) == [
        "anna",
        "bert",
        "carl",
        "dora",
    ]
    assert names(get("/api/v1/voices", params={"date_to": "2000-01-01"})) == []
    assert get("/api/v1/voices", params={"date_from": "yesterday"}).status_code == 400
    assert names(get("/api/v1/voices", params={"sort_by": "size", "order": "asc"}))[0] == "dora"
    assert upload(library, filename="anna.wav", folder_path="ads").status_code == 200
    ambiguous = get("/api/v1/voices/anna.wav")
    assert ambiguous.status_code == 409 and "ads/anna.wav" in ambiguous.json()["error"]["message"]
    gone = library.delete("/api/v1/voices/ads/anna.wav", params={"confirm": "true"})
    assert gone.status_code == 200 and gone.json()["deleted_files"] == ["ads/anna.wav", "ads/anna.wav.json"]
    assert get("/api/v1/voices/anna.wav").json()["path"] == "books/anna.wav"


def test_a_voices_saved_parameters_fill_what_a_request_leaves_out(
    make_settings: Callable[..., Settings],
) -> None:
    class Recording(ToneEngine):
        def __init__(self) -> None:
            super().__init__(clones_voices=True)
            self.params: list[SynthesisParams] = []

        def synthesize(self, text: str, voice: Path | str | None, params: SynthesisParams) -> Clip:
            self.params.append(params)
            return super().synthesize(text, voice, params)

    engine = Recording()
    settings = make_settings(
        engines={"enabled": ["piper"], "default": "piper", "fallback": None},
        openai={"models": {"tts-1": "tone"}},
    )
    with start(settings, engine) as client:
        saved = upload(client, name="calm", default_parameters='{"exaggeration": 1.3, "cfg_weight": 0.2}')
        assert saved.status_code in (200, 201), saved.text
        body = {
            "text": "Hi.",
            "engine": "tone",
            "voice": "calm",
            "cfg_weight": 0.7,
            "export_formats": ["wav"],
        }
        assert client.post("/api/v1/tts", json=body).status_code == 200
        speech = {"model": "tts-1", "voice": "calm", "input": "Hi.", "response_format": "wav"}
        assert client.post("/v1/audio/speech", json=speech).status_code == 200
    first, second = engine.params
    assert (first.exaggeration, first.cfg_weight) == (1.3, 0.7)  # the request's own value wins
    assert (second.exaggeration, second.cfg_weight) == (1.3, 0.2)
