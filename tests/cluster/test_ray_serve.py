"""The server on Ray Serve (serving/): a local Ray on loopback, the ingress and 2 CPU replicas of Piper.

Everything goes over HTTP through Serve's proxy, as a client would: speech, the OpenAI route streamed,
a voice upload, listings, a concat, /health listing each replica; then one replica is killed while
requests run: every 2xx has its file, every other request got a 503 to retry, none is lost.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from utils.audio.decode import decode

# Workers use this environment, not one rebuilt by `uv run` in a copy of the checkout (Ray's default when
# the driver runs under `uv run`, as ./scripts/test does); read when Ray is imported.
os.environ["RAY_ENABLE_UV_RUN_RUNTIME_ENV"] = "0"
ray = pytest.importorskip("ray", reason="Ray is an optional extra: uv sync --frozen --extra ray")
serve = pytest.importorskip("ray.serve")

pytestmark = pytest.mark.slow

SENTENCE = "The quick brown fox jumps over the lazy dog near the river bank. "
DEPLOYMENT = "PiperEngines"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _health(base: str) -> dict[str, Any]:
    return dict(httpx.get(f"{base}/health", timeout=30).json())


def _replicas(body: dict[str, Any]) -> list[dict[str, Any]]:
    return list(body["cluster"]["deployments"][DEPLOYMENT]["replicas"])


def _wait_for_replicas(base: str, count: int, timeout: float = 120) -> dict[str, Any]:
    """/health until the engine is ready and ``count`` replicas answer with Piper ready."""
    deadline = time.monotonic() + timeout
    while True:
        body = _health(base)
        ready = [r for r in _replicas(body) if any(e["state"] == "ready" for e in r.get("engines", []))]
        if body["status"] == "healthy" and len(ready) == count:
            return body
        if time.monotonic() > deadline:
            raise AssertionError(
                f"not {count} ready replicas after {timeout} s: {json.dumps(body['cluster'])}"
            )
        time.sleep(0.5)


def _start_ray() -> None:
    """A local Ray on loopback with 2 CPUs; tried twice: Ray gives its raylet a fixed 30 s to register,
    which a loaded 2-core machine can miss."""
    for attempt in (1, 2):
        try:
            ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)
            return
        except Exception:  # Ray raises a bare Exception for it
            ray.shutdown()
            if attempt == 2:
                raise


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The Serve application on a local Ray (2 CPUs, no dashboard); yields its URL and outputs folder."""
    from serving.app import build

    root = tmp_path_factory.mktemp("cluster")
    port = _free_port()
    overrides = {
        "engines": {"enabled": ["piper"], "default": "piper", "fallback": None},
        "paths": {
            "voices_dir": str(root / "voices"),
            "outputs_dir": str(root / "outputs"),
            "vc_inputs_dir": str(root / "vc_inputs"),
            "temp_dir": str(root / "temp"),
        },
        "piper": {"voices_dir": str(root / "piper_voices")},
        "ui": {"enabled": False},
        "security": {"allowed_hosts": ["127.0.0.1"]},
    }
    _start_ray()
    try:
        serve.start(http_options={"host": "127.0.0.1", "port": port})
        piper = {"num_replicas": 2, "num_cpus": 1, "max_ongoing_requests": 4}
        serve.run(build({"overrides": overrides, "piper": piper}), name="speech", route_prefix="/")
        base = f"http://127.0.0.1:{port}"
        _wait_for_replicas(base, 2)
        yield base, root / "outputs"
    finally:
        serve.shutdown()
        ray.shutdown()


def _tts(base: str, text: str, **body: Any) -> httpx.Response:
    payload = {"text": text, "engine": "piper", "export_formats": ["wav"], "response_mode": "json", **body}
    return httpx.post(f"{base}/api/v1/tts", json=payload, timeout=120)


def _saved(base: str, outputs: Path, response: httpx.Response) -> float:
    """The duration of a 2xx answer's file, fetched through the ingress; it is on disk too."""
    (item,) = response.json()["output_files"]  # TTS: {"url": "/outputs/<path>", ...}; concat: "<path>"
    path = item if isinstance(item, str) else item["url"].removeprefix("/outputs/")
    assert (outputs / path).is_file(), item
    fetched = httpx.get(f"{base}/outputs/{path}", timeout=30)
    assert fetched.status_code == 200, fetched.text
    return float(decode(fetched.content).duration)


def test_health_lists_every_replica(cluster: tuple[str, Path]) -> None:
    base, _ = cluster
    body = _health(base)
    deployment = body["cluster"]["deployments"][DEPLOYMENT]
    assert deployment["status"] == "HEALTHY" and deployment["replica_states"] == {"RUNNING": 2}
    replicas = _replicas(body)
    assert len({r["replica"] for r in replicas}) == 2 and len({r["pid"] for r in replicas}) == 2
    assert body["engines"][0]["deployment"] == DEPLOYMENT and body["engines"][0]["state"] == "ready"


def test_speech_streaming_uploads_listings_and_concat_go_through_the_ingress(
    cluster: tuple[str, Path], speech_wav: Path
) -> None:
    base, outputs = cluster
    first, second = _tts(base, SENTENCE), _tts(base, SENTENCE * 2, project="book")
    assert first.status_code == second.status_code == 200, (first.text, second.text)
    one, two = _saved(base, outputs, first), _saved(base, outputs, second)
    assert 2.0 < one < 8.0 and two == pytest.approx(2 * one, rel=0.15)

    with httpx.stream(
        "POST",
        f"{base}/v1/audio/speech",
        json={
            "model": "tts-1",
            "voice": "alloy",
            "input": SENTENCE * 3,
            "response_format": "pcm",
            "stream_format": "sse",
        },
        timeout=120,
    ) as streamed:
        assert streamed.status_code == 200 and streamed.headers["content-type"].startswith(
            "text/event-stream"
        )
        events = [json.loads(line[6:]) for line in streamed.iter_lines() if line.startswith("data: ")]
    deltas = [e for e in events if e["type"] == "speech.audio.delta"]
    assert len(deltas) >= 2 and events[-1]["type"] == "speech.audio.done"
    pcm_seconds = len(b"".join(base64.b64decode(e["audio"]) for e in deltas)) / 2 / 22050
    assert pcm_seconds == pytest.approx(3 * one, rel=0.2)

    uploaded = httpx.post(
        f"{base}/api/v1/voice",
        files={"voice_file": ("narrator.wav", speech_wav.read_bytes(), "audio/wav")},
        timeout=60,
    )
    assert uploaded.status_code in (200, 201), uploaded.text
    voices = httpx.get(f"{base}/api/v1/voices", timeout=30).json()
    assert "narrator" in json.dumps(voices)
    listed = httpx.get(f"{base}/api/v1/outputs", params={"generation_type": "tts"}, timeout=30).json()
    assert len(listed["files"]) >= 2

    names = [
        item["url"].removeprefix("/outputs/") for r in (first, second) for item in r.json()["output_files"]
    ]
    joined = httpx.post(
        f"{base}/api/v1/concat",
        json={"files": [names[0], "(500ms)", names[1]], "response_mode": "json", "export_formats": ["wav"]},
        timeout=120,
    )
    assert joined.status_code == 200, joined.text
    assert _saved(base, outputs, joined) == pytest.approx(one + 0.5 + two, abs=0.3)


def test_a_replica_killed_mid_run_loses_no_request(cluster: tuple[str, Path]) -> None:
    from serving.health import replica_names

    base, outputs = cluster
    victim = replica_names(DEPLOYMENT)[0]

    def kill_soon() -> None:
        time.sleep(1.5)  # every request has chunks in flight on both replicas by then
        ray.kill(ray.get_actor(f"SERVE_REPLICA::speech#{DEPLOYMENT}#{victim}", namespace="serve"))

    with ThreadPoolExecutor(max_workers=9) as pool:
        killer = pool.submit(kill_soon)
        answers = list(pool.map(lambda _: _tts(base, SENTENCE * 6), range(8)))
        killer.result()
    done = [a for a in answers if a.status_code == 200]
    refused = [a for a in answers if a.status_code != 200]
    for answer in done:
        assert _saved(base, outputs, answer) > 10.0
    for answer in refused:  # told to come back, and why
        error = answer.json()["error"]
        assert answer.status_code == 503 and int(answer.headers["retry-after"]) >= 1, answer.text
        assert error["param"] == "engine" and "replica" in error["message"], error
    assert done and refused, [a.status_code for a in answers]

    body = _wait_for_replicas(base, 2)  # Serve replaced it
    assert victim not in {r["replica"] for r in _replicas(body)}
    assert _tts(base, SENTENCE).status_code == 200
