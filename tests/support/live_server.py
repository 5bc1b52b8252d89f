"""The real server (`python main_api.py` under uvicorn) on a free port, with its data folders in a temp dir."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
# Starts the server with a few-layer T3, as the random-weight test checkpoint needs (see random_checkpoint).
SMALL_T3_SERVER = (
    "import runpy, sys; sys.path.insert(0, '.'); "
    "from tests.support.random_checkpoint import small_chatterbox\n"
    "with small_chatterbox(): runpy.run_path('main_api.py', run_name='__main__')"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def live_server(data: Path, *, small_t3: bool = False, timeout: float = 120, **env: str) -> Iterator[str]:
    """Serve with folders ``data/{voices,outputs,vc_inputs,temp}``, no network; yields the base URL."""
    with live_server_process(data, small_t3=small_t3, timeout=timeout, **env) as (base, _):
        yield base


@contextmanager
def live_server_process(
    data: Path, *, small_t3: bool = False, timeout: float = 120, **env: str
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """As :func:`live_server`, yielding the server process too (its pid, for memory readings)."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CHATTERBOX_")}
    environment.update(
        {
            f"CHATTERBOX_PATHS__{name.upper()}_DIR": str(data / name)
            for name in ("voices", "outputs", "vc_inputs", "temp")
        },
        CHATTERBOX_SERVER__PORT=str(port),
        HF_HOME=str(data / "hf"),  # an empty Hugging Face cache: no weights but those configured
        HF_HUB_OFFLINE="1",
        PYTHONUNBUFFERED="1",
        CHATTERBOX_UI__ENABLED="false",  # the browser UI has its own tests (tests/ui); they turn it on
    )
    environment.update(env)
    argv = [sys.executable, "-c", SMALL_T3_SERVER] if small_t3 else [sys.executable, "main_api.py"]
    log = data / "server.log"
    with log.open("w") as stderr:
        server = subprocess.Popen(argv, cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=stderr)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{base}/health").json()["status"] != "loading":
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "server never became ready"
            time.sleep(0.25)
        yield base, server
    finally:
        server.terminate()
        server.wait(30)


@contextmanager
def serve_in_thread(app: Any) -> Iterator[str]:
    """Run an app object under uvicorn on a loopback port in this process; yields the base URL."""
    import threading

    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
