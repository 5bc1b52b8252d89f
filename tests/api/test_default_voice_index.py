"""The default voice is found by an indexed query, on SQLite and PostgreSQL alike, and survives the
index's schema change (version 1 had no index for it: such an index is refilled from the folders)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from config import Settings
from management.index import Filters, MetadataIndex
from tests.support.compat import CLONING, start, tone_wav
from tests.support.engines import ToneEngine


def upload(client: TestClient, *names: str) -> None:
    for name in names:
        files = {"voice_file": (f"{name}.wav", tone_wav(2.0), "audio/wav")}
        assert client.post("/v1/voices", data={"voice_name": name}, files=files).status_code == 201


def test_a_request_without_a_voice_never_reads_the_whole_voice_library(
    make_settings: Callable[..., Settings], index_url: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = ToneEngine(clones_voices=True)
    with start(make_settings(engines=CLONING, index={"url": index_url}), {"chatterbox": engine}) as client:
        upload(client, "anna", "bob", "carl")
        assert client.post("/v1/voices/default", data={"voice_name": "bob"}).status_code == 200
        whole_reads: list[str] = []
        select = MetadataIndex.select

        def counted(index: MetadataIndex, library: str, filters: Filters) -> Any:
            if library == "voices" and filters.empty:
                whole_reads.append(library)
            return select(index, library, filters)

        monkeypatch.setattr(MetadataIndex, "select", counted)
        spoken = client.post("/v1/audio/speech", json={"input": "No voice named."})
        assert spoken.status_code == 200 and engine.voices_heard[-1].name == "bob.wav"
        assert client.get("/v1/voices/default").json()["default_voice"] == "bob.wav"
        assert whole_reads == []

        # a sidecar edited by hand: only the JSON true marks a voice (as before), never "true" or 1
        assert client.delete("/v1/voices/default").status_code == 200
        for name, value in (("anna", "true"), ("carl", 1)):
            sidecar = Path(client.app.state.settings.paths.voices_dir) / f"{name}.wav.json"
            edited = {**json.loads(sidecar.read_text()), "default_voice": value, "description": "\ud800"}
            sidecar.write_text(json.dumps(edited))  # a lone surrogate, which PostgreSQL's jsonb refuses
        assert client.post("/api/v1/voices/rescan").status_code == 200
        listed = client.get("/api/v1/voices").json()["voices"]
        assert [v["filename"] for v in listed] == ["anna.wav", "bob.wav", "carl.wav"]
        assert client.get("/v1/voices/default").json() == {"default_voice": None, "source": "engine"}
        heard = len(engine.voices_heard)
        assert client.post("/v1/audio/speech", json={"input": "The engine's voice."}).status_code == 200
        assert len(engine.voices_heard) == heard  # no library voice


def _downgrade(settings: Settings) -> None:
    """Make the index look as version 1 left it: no partial index for the default voice."""
    url = settings.index.url
    if url is None:
        with sqlite3.connect(settings.paths.index_path) as db:
            db.execute("DROP INDEX files_default_voice")
            db.execute("PRAGMA user_version = 1")
        return
    import psycopg

    with psycopg.connect(url, autocommit=True) as db:
        db.execute("DROP INDEX files_default_voice")
        db.execute("UPDATE index_schema SET version = 1")


def _has_default_voice_index(settings: Settings) -> bool:
    url = settings.index.url
    if url is None:
        with sqlite3.connect(settings.paths.index_path) as db:
            try:  # the server's query names the index (SQLite plans a tiny table by its primary key)
                plan = db.execute(
                    "EXPLAIN QUERY PLAN SELECT path FROM files INDEXED BY files_default_voice "
                    "WHERE library = 'voices' AND json_type(metadata, '$.default_voice') = 'true' ORDER BY path"
                ).fetchall()
            except sqlite3.OperationalError:  # no such index
                return False
        return any("files_default_voice" in str(row) for row in plan)
    import psycopg

    with psycopg.connect(url, autocommit=True) as db:
        db.execute("SET enable_seqscan = off")  # a tiny table: else the planner reads it whole anyway
        plan = db.execute(
            "EXPLAIN SELECT path FROM files WHERE library = 'voices' "
            "AND (metadata::jsonb -> 'default_voice') = 'true'::jsonb ORDER BY path"
        ).fetchall()
    return any("files_default_voice" in str(row) for row in plan)


def test_an_index_of_the_old_schema_is_refilled_and_keeps_finding_the_default_voice(
    make_settings: Callable[..., Settings], index_url: str | None
) -> None:
    settings = make_settings(engines=CLONING, index={"url": index_url})
    with start(settings) as client:
        upload(client, "anna", "bob")
        assert client.post("/v1/voices/default", data={"voice_name": "bob"}).status_code == 200
    assert _has_default_voice_index(settings)
    _downgrade(settings)
    assert not _has_default_voice_index(settings)

    with start(settings) as client:
        shown = client.get("/v1/voices/default").json()
        assert (shown["default_voice"], shown["source"]) == ("bob.wav", "voice_library")
        listed = client.get("/api/v1/voices").json()
        assert sorted(v["filename"] for v in listed["voices"]) == ["anna.wav", "bob.wav"]
    assert _has_default_voice_index(settings)
