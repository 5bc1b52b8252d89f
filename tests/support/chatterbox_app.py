"""The app on the random-weight Chatterbox checkpoint (few-layer T3), for the slow tests that share it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from config import load_settings
from main_api import create_app
from tests.conftest import wait_until_ready
from tests.support.random_checkpoint import cached_random_checkpoint, small_t3


@contextmanager
def chatterbox_client(
    root: Path, speech_wav: Path, *, engines: tuple[str, ...] = ("chatterbox",), **models: Any
) -> Iterator[TestClient]:
    """A ready client serving ``engines`` (``chatterbox`` first; ``chatterbox-vc`` too, say) from folders
    under ``root``; ``models`` overrides settings of the ``models`` section (``max_new_tokens``,
    ``t3_loop``, ``conditionals_cache_dir``: none by default, ...)."""
    settings = load_settings(
        paths={
            name: str(root / name.removesuffix("_dir"))
            for name in ("voices_dir", "outputs_dir", "vc_inputs_dir", "temp_dir")
        },
        engines={"enabled": list(engines), "default": engines[0], "fallback": None},
        models={
            "checkpoint_dir": str(cached_random_checkpoint(speech_wav)),
            "device": "cpu",
            "conditionals_cache_dir": None,
            **models,
        },
        validation={"bypass": True},  # random weights make noise: Whisper would reject every take
    )
    with small_t3(), TestClient(create_app(settings)) as client:
        health = wait_until_ready(client, timeout=600)
        assert health["status"] == "healthy", health
        yield client
