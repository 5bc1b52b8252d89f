"""A replica opening the shared metadata index, run in a process of its own (tests/unit/test_index_migration.py).

Importable by name, so ``multiprocessing``'s spawn start can run it in a fresh interpreter, as a
replica or the ingress is.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

MIGRATION_SECONDS = 0.3  # the schema takes this long to make: the others must wait for it, not redo it


def open_and_write(url: str | None, path: str, name: str, barrier: Any) -> dict[str, Any]:
    """Open the index at the barrier with the others, write one row, say whether this one made the schema."""
    from management.index import open_index
    from management.index_entries import Entry

    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    handler = Collect()
    logger = logging.getLogger("management.index")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    index = open_index(url, Path(path))
    backend: Any = type(index)
    setting = backend._set_schema_version

    def slow_set_version(self: Any, db: Any) -> None:
        time.sleep(MIGRATION_SECONDS)  # a wide window for a second migration if nothing stopped it
        setting(self, db)

    backend._set_schema_version = slow_set_version
    entry = Entry(path=f"{name}.wav", size=1, mtime_ns=1, sidecar_mtime_ns=0, created=time.time())
    barrier.wait(60)
    try:
        index.upsert("outputs", [entry])  # opens the connection: the schema check and migration
        return {"name": name, "error": None, "migrations": messages}
    except Exception as exc:  # noqa: BLE001 - reported to the test, which shows it
        return {"name": name, "error": f"{type(exc).__name__}: {exc}", "migrations": messages}
    finally:
        index.close()
