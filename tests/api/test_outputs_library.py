"""Listing, inspecting and deleting outputs through the metadata index."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from config import Settings
from core_engine import CoreEngine
from main_api import create_app
from tests.support.engines import EchoConversion, ToneEngine
from utils.audio import Clip, encode, get_format

TONE_ONLY = {"enabled": ["piper"], "default": "piper", "fallback": None}


@pytest.fixture
def settings(make_settings: Callable[..., Settings], index_url: str | None) -> Settings:
    """Every test on each backend of the index (SQLite, PostgreSQL)."""
    return make_settings(
        engines={**TONE_ONLY, "enabled": ["piper", "chatterbox-vc"]}, index={"url": index_url}
    )


def start(settings: Settings) -> TestClient:
    engines = {"tone": ToneEngine(), "chatterbox-vc": EchoConversion()}
    return TestClient(create_app(settings, engine=CoreEngine(settings, engines=engines)))


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with start(settings) as client:
        yield client


def outputs_dir(client: TestClient) -> Path:
    return Path(client.app.state.settings.paths.outputs_dir)


def speak(client: TestClient, **body: Any) -> list[dict[str, Any]]:
    """Make an output (3 s of tone, or less with speed/trim); its files as the JSON answer lists them."""
    response = client.post(
        "/api/v1/tts?response_mode=url",
        json={"text": "Anything.", "engine": "tone", "export_formats": ["wav"], **body},
    )
    assert response.status_code == 200, response.text
    return response.json()["output_files"]


def drop_audio(path: Path, seconds: float, rate: int = 16000, fmt: str = "wav") -> None:
    """A file put in a folder behind the server's back."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encode(Clip(np.zeros(int(seconds * rate), dtype=np.float32), rate), get_format(fmt)))


def listing(client: TestClient, query: str = "") -> dict[str, Any]:
    response = client.get(f"/api/v1/outputs{query}")
    assert response.status_code == 200, response.text
    return response.json()


def names(body: dict[str, Any]) -> list[str]:
    return [item["path"] for item in body["files"]]


def test_a_listing_item_carries_the_recipe_url_and_every_format(client: TestClient) -> None:
    files = speak(client, text="Chapter one.", seed=7, project="book/ch1", export_formats=["wav", "mp3"])
    body = listing(client)
    assert {k: body[k] for k in ("count", "page", "page_size", "total_pages", "total_files")} == {
        "count": 2,
        "page": 1,
        "page_size": 50,
        "total_pages": 1,
        "total_files": 2,
    }
    assert body["has_next"] is False and body["has_previous"] is False
    wav = next(item for item in body["files"] if item["format"] == "wav")
    assert wav["filename"] == files[0]["filename"] and wav["url"] == files[0]["url"]
    assert wav["folder_path"] == "book/ch1" and wav["path"] == f"book/ch1/{wav['filename']}"
    assert wav["generation_type"] == "tts" and wav["text"] == "Chapter one."
    assert wav["parameters"]["seed"] == 7 and wav["metadata"]["engine"] == "tone"
    assert wav["duration_seconds"] == pytest.approx(3.0) and wav["sample_rate"] == 24000
    assert wav["file_size_bytes"] == (outputs_dir(client) / wav["path"]).stat().st_size
    assert set(wav["formats"]) == {"wav", "mp3"}
    assert client.get(wav["formats"]["mp3"]).headers["content-type"] == "audio/mpeg"
    one = client.get(f"/api/v1/outputs/{wav['path']}")
    assert one.status_code == 200 and one.json() == wav


def test_pages_cover_every_file_once(client: TestClient) -> None:
    for _ in range(5):
        speak(client)
    pages = [listing(client, f"?page={n}&page_size=2") for n in (1, 2, 3, 4)]
    assert [p["count"] for p in pages] == [2, 2, 1, 0]
    assert {p["total_pages"] for p in pages} == {3} and {p["total_files"] for p in pages} == {5}
    assert [p["has_next"] for p in pages[:3]] == [True, True, False]
    assert [p["has_previous"] for p in pages[:3]] == [False, True, True]
    seen = [path for p in pages for path in names(p)]
    assert len(seen) == len(set(seen)) == 5
    assert seen == names(listing(client))  # newest first, the same order as one big page


def test_sorting_by_each_key_and_order(client: TestClient) -> None:
    slow = speak(client)[0]["filename"]  # 3.0 s
    fast = speak(client, speed_factor=2.0)[0]["filename"]  # 1.5 s
    trimmed = speak(client, trim=True, trim_threshold_ms=100)[0]["filename"]  # 1.1 s
    drop_audio(outputs_dir(client) / "aaa_mine.wav", 0.5)
    client.post("/api/v1/outputs/rescan")
    by = {
        key: [Path(p).name for p in names(listing(client, f"?sort_by={key}&order=asc"))]
        for key in ("name", "date", "size", "duration", "generation_type")
    }
    assert by["duration"] == ["aaa_mine.wav", trimmed, fast, slow]
    assert by["size"][0] == "aaa_mine.wav" and by["size"][-1] == slow  # 16 kHz 0.5 s; 24 kHz 3 s
    assert by["name"][0] == "aaa_mine.wav"
    assert by["date"][:3] == [slow, fast, trimmed]
    assert (
        by["generation_type"][:3] == sorted([slow, fast, trimmed])
        and by["generation_type"][-1] == "aaa_mine.wav"
    )
    newest_first = [Path(p).name for p in names(listing(client, "?sort_by=duration&sort_order=desc"))]
    assert newest_first == list(reversed(by["duration"]))


def test_filters_by_folder_type_search_names_and_dates(client: TestClient) -> None:
    speak(client, text="The dragon wakes.", project="book/ch1")
    speak(client, text="The end.", project="book/ch2")
    speak(client, text="Unrelated.", project="notes")
    root = outputs_dir(client)
    drop_audio(root / "concat_2020.wav", 1.0)
    (root / "concat_2020.json").write_text(
        json.dumps({"type": "concat", "created": "2020-01-02T10:00:00", "source_files": ["a.wav", "b.wav"]})
    )
    drop_audio(root / "vc_dropped.wav", 1.0)
    client.post("/api/v1/outputs/rescan")

    assert len(names(listing(client, "?folder=book"))) == 2  # the folder and those inside it
    assert len(names(listing(client, "?project=book/ch2"))) == 1
    assert names(listing(client, "?folder=bo")) == []  # a folder name, not a prefix
    assert [Path(p).parent.name for p in names(listing(client, "?search=DRAGON"))] == ["ch1"]
    assert len(names(listing(client, "?search=notes"))) == 1  # the folder is searched too
    concat = listing(client, "?generation_type=concat")["files"]
    assert [i["filename"] for i in concat] == ["concat_2020.wav"]
    assert concat[0]["source_files"] == ["a.wav", "b.wav"] and concat[0]["created_date"].startswith(
        "2020-01-02"
    )
    assert names(listing(client, "?generation_type=vc")) == ["vc_dropped.wav"]  # from the name prefix
    assert len(names(listing(client, "?generation_type=tts"))) == 3
    assert names(listing(client, "?date_to=2020-01-02")) == ["concat_2020.wav"]  # a date: the whole day
    assert "concat_2020.wav" not in names(listing(client, "?date_from=2020-01-03"))
    assert names(listing(client, "?date_from=2020-01-02T09:00:00&date_to=2020-01-02T11:00")) == [
        "concat_2020.wav"
    ]
    assert sorted(names(listing(client, "?filenames=vc_dropped.wav,concat_2020.wav"))) == [
        "concat_2020.wav",
        "vc_dropped.wav",
    ]


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("?page=0", "page"),
        ("?page_size=101", "page_size"),
        ("?sort_by=colour", "sort_by"),
        ("?order=sideways", "order"),
        ("?order=asc&sort_order=desc", "sort_order"),
        ("?generation_type=speech", "generation_type"),
        ("?date_from=yesterday", "date_from"),
        ("?date_to=2026-13-01", "date_to"),
        ("?folder=a&project=b", "project"),
        ("?filenames=" + ",".join(f"f{n}.wav" for n in range(1001)), "filenames"),
    ],
)
def test_bad_listing_parameters_are_400_naming_them(client: TestClient, query: str, param: str) -> None:
    response = client.get(f"/api/v1/outputs{query}")
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == param


def test_the_folder_tree_counts_files(client: TestClient) -> None:
    speak(client)
    speak(client, project="book/ch1", export_formats=["wav", "mp3"])
    speak(client, project="book/ch2")
    body = client.get("/api/v1/outputs/folders", params={"shape": "nested"}).json()
    assert body["total_files"] == body["total_voices"] == 4 and body["total_folders"] == 4
    root, book = body["folders"]
    assert (root["path"], root["file_count"], root["voice_count"]) == ("root", 1, 1)
    assert (book["path"], book["file_count"]) == ("book", 0)
    assert [(s["path"], s["file_count"]) for s in book["subfolders"]] == [("book/ch1", 2), ("book/ch2", 1)]
    flat = client.get(
        "/api/v1/outputs/folders"
    ).json()  # Plus's shape: every folder listed, subfolders as paths
    assert [(f["path"], f["voice_count"], f["subfolders"]) for f in flat["folders"]] == [
        ("root", 1, []),
        ("book", 0, ["book/ch1", "book/ch2"]),
        ("book/ch1", 2, []),
        ("book/ch2", 1, []),
    ]
    assert flat["total_folders"] == len(flat["folders"]) == 4 and flat["total_voices"] == 4
    bad = client.get("/api/v1/outputs/folders", params={"shape": "tree"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "shape"


def test_deleting_one_format_keeps_the_others_and_their_record(client: TestClient) -> None:
    wav, mp3 = speak(client, export_formats=["wav", "mp3"])
    root = outputs_dir(client)
    sidecar = root / wav["filename"].replace(".wav", ".json")
    refused = client.delete(f"/api/v1/output/{wav['filename']}")
    assert refused.status_code == 400 and refused.json()["error"]["param"] == "confirm"
    assert (root / wav["filename"]).exists()

    gone = client.delete(f"/api/v1/output/{wav['filename']}?confirm=true").json()
    assert gone["deleted_files"] == [wav["filename"]] and gone["deleted_count"] == 1
    assert not (root / wav["filename"]).exists() and client.get(wav["url"]).status_code == 404
    assert json.loads(sidecar.read_text())["files"] == {"mp3": mp3["filename"]}
    [left] = listing(client)["files"]
    assert left["formats"] == {"mp3": mp3["url"]}

    last = client.delete(f"/api/v1/outputs/{mp3['filename']}?confirm=true").json()
    assert last["deleted_files"] == [mp3["filename"], sidecar.name] and not sidecar.exists()
    assert listing(client)["total_files"] == 0
    missing = client.delete(f"/api/v1/output/{mp3['filename']}?confirm=true")
    assert missing.status_code == 404 and missing.json()["error"]["param"] == "path"


def test_a_bare_name_finds_its_folder_unless_two_folders_hold_it(client: TestClient) -> None:
    root = outputs_dir(client)
    drop_audio(root / "a" / "take.wav", 1.0)
    client.post("/api/v1/outputs/rescan")
    assert client.get("/api/v1/outputs/take.wav").json()["path"] == "a/take.wav"
    drop_audio(root / "b" / "take.wav", 1.0)
    client.post("/api/v1/outputs/rescan")
    ambiguous = client.get("/api/v1/outputs/take.wav")
    assert ambiguous.status_code == 409 and "a/take.wav, b/take.wav" in ambiguous.json()["error"]["message"]
    assert client.get("/api/v1/outputs/nothing.wav").status_code == 404


def test_bulk_delete_needs_a_filter_or_all_and_dry_run_deletes_nothing(client: TestClient) -> None:
    keep = speak(client, project="keep")
    for _ in range(2):
        speak(client, project="old/ch1", export_formats=["wav", "mp3"])
    root = outputs_dir(client)
    before = sorted(p for p in root.rglob("*") if p.is_file())

    unfiltered = client.delete("/api/v1/outputs?confirm=true")
    assert unfiltered.status_code == 400 and unfiltered.json()["error"]["param"] == "all"
    unconfirmed = client.delete("/api/v1/outputs?folder=old")
    assert unconfirmed.status_code == 400 and unconfirmed.json()["error"]["param"] == "confirm"
    preview = client.delete("/api/v1/outputs?folder=old&dry_run=true").json()
    assert preview["dry_run"] is True and preview["deleted_count"] == 4
    assert preview["message"] == "Would delete 4 output file(s)"
    assert len(preview["deleted_files"]) == 6  # 4 audio files and 2 shared records
    assert sorted(p for p in root.rglob("*") if p.is_file()) == before
    nowhere = client.delete("/api/v1/outputs?folder=missing&confirm=true")
    assert nowhere.status_code == 404 and nowhere.json()["error"]["param"] == "folder"

    done = client.delete("/api/v1/outputs?project=old&confirm=true").json()
    assert done["deleted_count"] == 4 and sorted(done["deleted_files"]) == sorted(preview["deleted_files"])
    assert done["removed_folders"] == ["old/ch1", "old"] and not (root / "old").exists()
    assert "cleaned up 2 empty folder(s)" in done["message"]
    assert names(listing(client)) == [f"keep/{keep[0]['filename']}"]
    again = client.delete("/api/v1/outputs?folder=keep&generation_type=vc&confirm=true").json()
    assert again["deleted_count"] == 0 and "already clean" in again["message"]

    everything = client.delete("/api/v1/outputs?all=true&confirm=true").json()
    assert everything["deleted_count"] == 1 and listing(client)["total_files"] == 0
    sqlite = client.app.state.settings.index.url is None  # type: ignore[attr-defined]
    assert root.is_dir() and (root / ".index.sqlite3").exists() == sqlite  # the index file stays


def test_bulk_delete_by_type_and_names(client: TestClient, speech_wav: Path) -> None:
    (Path(client.app.state.settings.paths.vc_inputs_dir) / "line.wav").write_bytes(speech_wav.read_bytes())
    converted = client.post(
        "/api/v1/vc?response_mode=url", json={"input_audio_source": "line.wav", "export_formats": ["wav"]}
    )
    assert converted.status_code == 200, converted.text
    spoken = speak(client)[0]["filename"]
    vc_item = listing(client, "?generation_type=vc")["files"][0]
    assert vc_item["source_files"] == ["line.wav"]
    assert vc_item["duration_seconds"] == pytest.approx(4.0, abs=1.0)
    assert client.delete("/api/v1/outputs?generation_type=vc&confirm=true").json()["deleted_count"] == 1
    assert names(listing(client)) == [spoken]
    assert client.delete(f"/api/v1/outputs?filenames={spoken}&confirm=true").json()["deleted_count"] == 1
    assert listing(client)["total_files"] == 0


def test_files_changed_behind_the_servers_back_are_found_at_restart_and_rescan(settings: Settings) -> None:
    with start(settings) as client:
        made = speak(client, export_formats=["wav", "mp3"])
    root = Path(settings.paths.outputs_dir)
    (root / made[1]["filename"]).unlink()  # mp3 removed while the server is down
    drop_audio(root / "dropped" / "by_hand.flac", 2.5, fmt="flac")
    with start(settings) as client:
        body = listing(client)
        assert sorted(names(body)) == ["dropped/by_hand.flac", made[0]["filename"]]
        dropped = next(i for i in body["files"] if i["format"] == "flac")
        assert dropped["duration_seconds"] == pytest.approx(2.5) and dropped["sample_rate"] == 16000
        assert dropped["generation_type"] == "unknown" and dropped["metadata"] == {}
        assert dropped["url"] == "/outputs/dropped/by_hand.flac"

        (root / "dropped" / "by_hand.flac").unlink()  # while it runs
        drop_audio(root / "live.mp3", 1.0, rate=24000, fmt="mp3")
        counts = client.post("/api/v1/outputs/rescan").json()
        assert counts == {"added": 1, "updated": 0, "removed": 1, "total": 2}
        assert sorted(names(listing(client))) == ["live.mp3", made[0]["filename"]]
        assert listing(client, "?filenames=live.mp3")["files"][0]["duration_seconds"] == pytest.approx(
            1.0, abs=0.06
        )

        record = root / made[0]["filename"].replace(".wav", ".json")
        data = json.loads(record.read_text())
        record.write_text(json.dumps({**data, "text": "Edited by hand."}))
        os.utime(record, ns=(1, 1))  # a different mtime, whatever the clock's resolution
        assert client.post("/api/v1/outputs/rescan").json()["updated"] == 1
        assert listing(client, "?search=edited")["total_files"] == 1


@pytest.mark.parametrize("index_url", [None], ids=["sqlite"])
def test_the_index_can_be_deleted_and_is_rebuilt(settings: Settings) -> None:
    with start(settings) as client:
        speak(client, project="p")
    index = Path(settings.paths.outputs_dir) / ".index.sqlite3"
    for path in index.parent.glob(".index.sqlite3*"):
        path.unlink()
    with start(settings) as client:
        assert listing(client)["total_files"] == 1
        refused = client.get("/outputs/.index.sqlite3")  # never served: hidden names are refused
        assert refused.status_code == 400 and "hidden" in refused.json()["error"]["message"]


def test_bulk_delete_by_search_and_date(client: TestClient) -> None:
    speak(client, text="Keep this one.")
    gone = speak(client, text="Draft number two.")[0]["filename"]
    root = outputs_dir(client)
    drop_audio(root / "old.wav", 1.0)
    os.utime(root / "old.wav", (1_000_000_000, 1_000_000_000))  # 2001, and no record: the file's date
    client.post("/api/v1/outputs/rescan")
    assert client.delete("/api/v1/outputs?search=draft&confirm=true").json()["deleted_files"] == [
        gone,
        gone.replace(".wav", ".json"),
    ]
    by_date = client.delete("/api/v1/outputs?date_to=2001-12-31&confirm=true").json()
    assert by_date["deleted_files"] == ["old.wav"]
    assert [i["text"] for i in listing(client)["files"]] == ["Keep this one."]


def test_concatenations_are_listed_and_an_overwrite_replaces_their_rows(client: TestClient) -> None:
    first, second = speak(client)[0]["filename"], speak(client)[0]["filename"]

    def concat(formats: list[str], overwrite: bool = False) -> Any:
        body = {"files": [first, "(500ms)", second], "export_formats": formats, "output_filename": "joined"}
        return client.post("/api/v1/concat?response_mode=url", json={**body, "overwrite": overwrite})

    assert concat(["wav", "mp3"]).status_code == 200
    joined = listing(client, "?generation_type=concat")["files"]
    assert sorted(i["filename"] for i in joined) == ["joined.mp3", "joined.wav"]
    assert joined[0]["source_files"] == [first, second]
    assert joined[0]["duration_seconds"] == pytest.approx(6.5, abs=0.05)
    assert concat(["flac"]).status_code == 409
    assert concat(["flac"], overwrite=True).status_code == 200
    [item] = listing(client, "?generation_type=concat")["files"]  # the old formats left the index too
    assert item["filename"] == "joined.flac" and item["formats"] == {"flac": "/outputs/joined.flac"}
