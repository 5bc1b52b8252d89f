"""The README's path: `python main_api.py` under real uvicorn, default config, no network."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import soundfile as sf

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATTERBOX_")}
    env.update(
        CHATTERBOX_PATHS__VOICES_DIR=str(tmp_path / "voices"),
        CHATTERBOX_PATHS__OUTPUTS_DIR=str(tmp_path / "outputs"),
        CHATTERBOX_PATHS__VC_INPUTS_DIR=str(tmp_path / "vc_inputs"),
        HF_HOME=str(tmp_path / "hf"),  # an empty Hugging Face cache: no weights anywhere
        HF_HUB_OFFLINE="1",
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


def test_default_start_without_weights_speaks_with_piper(tmp_path: Path) -> None:
    port = _free_port()
    log = tmp_path / "server.log"
    with log.open("w") as stderr:
        server = subprocess.Popen(
            [sys.executable, "main_api.py"],
            cwd=ROOT,
            env=_env(tmp_path, CHATTERBOX_SERVER__PORT=str(port)),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                health = httpx.get(f"{base}/health")
                if health.json()["status"] != "loading":
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "server never became ready"
            time.sleep(0.25)
        assert health.status_code == 200 and health.json()["status"] == "degraded"
        response = httpx.post(f"{base}/api/v1/tts", json={"text": "Hello there"}, timeout=60)
        assert response.status_code == 200, response.text
        samples, rate = sf.read(io.BytesIO(response.content))
        assert rate == 22050 and len(samples) / rate > 0.4
        assert httpx.get(f"{base}/docs").status_code == 200
        assert httpx.get(f"{base}/ui/").status_code == 200  # the browser UI is on by default
    finally:
        server.terminate()
        server.wait(30)
    records = [
        json.loads(line) for line in log.read_text().splitlines() if line.strip()
    ]  # every line is JSON
    unavailable = [r for r in records if "engine chatterbox unavailable" in r["message"]]
    assert len(unavailable) == 1
    assert (
        "models.checkpoint_dir" in unavailable[0]["message"]
        and "served by piper" in unavailable[0]["message"]
    )
    access = [r for r in records if r["logger"] == "chatterbox.access" and r.get("path") == "/api/v1/tts"]
    assert len(access) == 1
    assert access[0]["status"] == 200 and len(access[0]["request_id"]) == 32 and access[0]["duration_ms"] > 0


def test_a_bad_config_value_stops_the_start_naming_the_key(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "main_api.py"],
        cwd=ROOT,
        env=_env(tmp_path, CHATTERBOX_MODELS__DEVICE="gpu"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "models.device" in done.stderr and "'auto', 'cuda', 'mps' or 'cpu'" in done.stderr
