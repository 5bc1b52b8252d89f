"""Replicas opening one new metadata index at the same moment: the schema is made once, nothing is lost.

Each replica (the ingress, each engine replica warming voices) opens the shared index when it starts.
The schema check and migration run in one transaction that keeps the others out (SQLite's write
lock, PostgreSQL's advisory lock), so the first makes the schema and the rest find it current.
"""

from __future__ import annotations

import logging
import multiprocessing
import sqlite3
from pathlib import Path

import pytest

from management.index import Filters, open_index
from management.index_schema import SCHEMA_VERSION
from tests.support.index_race import open_and_write

REPLICAS = 3


def test_replicas_opening_a_new_index_at_once_make_its_schema_once(
    tmp_path: Path, index_url: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "outputs" / ".index.sqlite3"  # not there yet: the first open makes it
    context = multiprocessing.get_context("spawn")  # fresh interpreters, as replicas are
    barrier = context.Manager().Barrier(REPLICAS)
    with context.Pool(REPLICAS) as pool:
        answers = pool.starmap(
            open_and_write, [(index_url, str(path), f"replica{n}", barrier) for n in range(REPLICAS)]
        )
    assert [a["error"] for a in answers] == [None] * REPLICAS, answers
    made = [a["name"] for a in answers if any("made version" in m for m in a["migrations"])]
    assert len(made) == 1, answers  # one made the schema; the others waited and found it current
    caplog.set_level(logging.INFO, logger="management.index")
    index = open_index(index_url, path)
    try:
        rows = index.page("outputs", Filters(), sort="name", descending=False)
        # every replica's row is there: no later migration dropped the table under an earlier write
        assert [e.path for e in rows.entries] == [f"replica{n}.wav" for n in range(REPLICAS)]
    finally:
        index.close()
    assert "made version" not in caplog.text  # the schema is current for the next start too
    if index_url is None:
        with sqlite3.connect(path) as db:
            assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
