"""A full disk is a clear 507, leaves nothing partial, and the server keeps serving once space is back.

The outputs folder sits on a small tmpfs the test mounts (root on Linux; skipped where mounting is not
allowed).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from config import Settings
from main_api import create_app
from tests.conftest import PIPER_ONLY, wait_until_ready


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True, text=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_is_a_507_and_nothing_partial_is_left(
    make_settings: Callable[..., Settings], small_disk: Path
) -> None:
    outputs = small_disk / "outputs"
    settings = make_settings(engines=PIPER_ONLY, paths={"outputs_dir": str(outputs)})
    with TestClient(create_app(settings)) as client:
        wait_until_ready(client)
        filler = small_disk / "filler"
        free = shutil.disk_usage(small_disk).free
        filler.write_bytes(b"\0" * (free - 96 * 1024))  # about 96 KB left: the index fits, the audio does not
        before = sorted(p.name for p in outputs.rglob("*"))
        text = "A sentence long enough to need more room than the disk has left. " * 4
        for body in ({"text": text}, {"text": text, "export_formats": ["flac", "wav", "mp3"]}):
            response = client.post("/api/v1/tts", json=body)
            assert response.status_code == 507, response.text
            assert "disk is full" in response.json()["error"]["message"]
            assert response.json()["error"]["code"] == "insufficient_storage"
        after = sorted(p.name for p in outputs.rglob("*") if not p.name.startswith(".index.sqlite3"))
        assert after == [n for n in before if not n.startswith(".index.sqlite3")]  # nothing partial left
        assert client.get("/health").status_code == 200
        filler.unlink()  # space is back: the same request works
        response = client.post("/api/v1/tts", json={"text": text})
        assert response.status_code == 200, response.text
        assert client.get("/api/v1/outputs").json()["total_files"] == 2  # wav and mp3
