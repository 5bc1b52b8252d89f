"""Finding Chatterbox weights, and failing fast and clearly when there are none."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from config import ModelSettings
from engines.checkpoint import TTS_FILES, resolve_checkpoint


def test_a_complete_folder_is_used(tmp_path: Path) -> None:
    for name in TTS_FILES:
        (tmp_path / name).write_bytes(b"x")
    assert resolve_checkpoint(ModelSettings(checkpoint_dir=tmp_path), TTS_FILES) == tmp_path


def test_a_folder_that_is_not_there_says_so(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="is not a folder"):
        resolve_checkpoint(ModelSettings(checkpoint_dir=tmp_path / "nope"), TTS_FILES)


def test_an_unreachable_hub_fails_in_seconds_with_advice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    for proxy in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(proxy, raising=False)
    started = time.monotonic()
    with pytest.raises(Exception) as caught:
        resolve_checkpoint(ModelSettings(), TTS_FILES)
    assert time.monotonic() - started < 5
    message = str(caught.value)
    assert "no network" in message and "models.checkpoint_dir" in message


def test_downloads_can_be_forbidden(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    with pytest.raises(Exception, match="allow_download is false"):
        resolve_checkpoint(ModelSettings(allow_download=False), TTS_FILES)
