"""What the serving benches set up alike: a text to speak and a server in this process on temporary
folders. Import as ``from bench.common import ...`` once the repository root is on ``sys.path`` (every
bench script puts it there first)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from config import Settings, load_settings
from core_engine import CoreEngine
from main_api import create_app
from tests.support.live_server import serve_in_thread

SENTENCES = [
    "The river ran quietly past the old mill at the edge of the village.",
    "Children gathered on the bridge every morning to watch the boats go by.",
    "Nobody remembered when the market had first opened in the square.",
    "By noon the stalls were full of apples, bread and bright woollen scarves.",
    "A dog slept in the shade of the fountain while the bells rang twelve.",
]


def bench_settings(data: Path, **sections: Any) -> Settings:
    """Settings with the data folders under ``data``, no housekeeping and no UI, and ``sections``."""
    return load_settings(
        paths={
            name: str(data / name.removesuffix("_dir"))
            for name in ("voices_dir", "outputs_dir", "vc_inputs_dir", "temp_dir")
        },
        housekeeping={"enabled": False, "on_start": False},
        ui={"enabled": False},
        **sections,
    )


@contextmanager
def served(settings: Settings, core: CoreEngine, *, timeout: float, poll: float) -> Iterator[httpx.Client]:
    """The app on ``core`` under uvicorn on a loopback port; a client once ``/health`` says healthy."""
    with (
        serve_in_thread(create_app(settings, engine=core)) as base,
        httpx.Client(base_url=base, timeout=timeout) as client,
    ):
        while client.get("/health").json().get("status") != "healthy":
            time.sleep(poll)
        yield client
