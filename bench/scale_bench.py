"""Piper TTS throughput on Ray Serve: 1 vs 2 engine replicas, and the Serve path vs the single process.

In one run, the same workload (``--requests`` TTS requests of ``--sentences`` sentences each,
``--concurrency`` at a time, JSON answers, one wav saved each) is sent over HTTP to:

* ``single``: the single-process server (``python main_api.py``, Piper only) in a subprocess;
* ``serve x1``: the Serve application (serving/app.py) on a local Ray, 1 Piper replica;
* ``serve x2``: the same with 2 Piper replicas (``--cpus`` logical CPUs for Ray).

It prints requests/s for each and the two ratios the goals are about: ``serve x2 / serve x1``
(goal >= 1.7 on 2 cores) and ``single / serve x1`` time per request (overhead, goal <= 1.15).
Every answer must be a 200 whose file exists. A warm-up round precedes each measurement.

    RAY_ENABLE_UV_RUN_RUNTIME_ENV=0 .venv/bin/python bench/scale_bench.py --requests 24 --concurrency 4
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")  # workers use this environment as it is

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SENTENCE = "The quick brown fox jumps over the lazy dog near the river bank. "


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def folders(root: Path) -> dict[str, Any]:
    return {
        "engines": {"enabled": ["piper"], "default": "piper", "fallback": None},
        "paths": {
            name: str(root / name.removesuffix("_dir"))
            for name in ("voices_dir", "outputs_dir", "vc_inputs_dir", "temp_dir")
        },
        "ui": {"enabled": False},
        "security": {"allowed_hosts": ["127.0.0.1"]},
        "limits": {"max_queued_requests": 1000},
    }


def wait_ready(base: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=30).json()["status"] == "healthy":
                return
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.5)
    raise SystemExit(f"{base} not healthy after {timeout} s")


def drive(base: str, requests: int, concurrency: int, sentences: int) -> float:
    """Requests per second for ``requests`` TTS requests, ``concurrency`` at a time; all must be 200."""
    body = {
        "text": SENTENCE * sentences,
        "engine": "piper",
        "export_formats": ["wav"],
        "response_mode": "json",
    }

    def one(_: int) -> int:
        return httpx.post(f"{base}/api/v1/tts", json=body, timeout=600).status_code

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(concurrency)))  # warm-up
        started = time.perf_counter()
        codes = list(pool.map(one, range(requests)))
        took = time.perf_counter() - started
    if set(codes) != {200}:
        raise SystemExit(f"{base}: answers {sorted(set(codes))}")
    return requests / took


def single_process(root: Path, args: argparse.Namespace) -> float:
    port = free_port()
    # The same config as the Serve runs: config.yaml with the bench's sections over it.
    config = yaml.safe_load((ROOT / "config.yaml").read_text()) or {}
    for section, values in folders(root / "single").items():
        config[section] = {**config.get(section, {}), **values}
    config.setdefault("server", {}).update(host="127.0.0.1", port=port)
    (root / "single.yaml").write_text(yaml.safe_dump(config))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATTERBOX_")}
    env["CHATTERBOX_CONFIG_FILE"] = str(root / "single.yaml")
    server = subprocess.Popen(
        [sys.executable, "main_api.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(base)
        return drive(base, args.requests, args.concurrency, args.sentences)
    finally:
        server.terminate()
        server.wait(30)


def on_serve(root: Path, replicas: int, args: argparse.Namespace, port: int) -> float:
    from ray import serve

    from serving.app import build

    piper = {"num_replicas": replicas, "num_cpus": 1, "max_ongoing_requests": args.concurrency}
    app = build({"overrides": folders(root / f"serve{replicas}"), "piper": piper})
    serve.run(app, name="speech", route_prefix="/")
    base = f"http://127.0.0.1:{port}"
    wait_ready(base)
    try:
        return drive(base, args.requests, args.concurrency, args.sentences)
    finally:
        serve.delete("speech")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=24)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--sentences", type=int, default=4)
    parser.add_argument("--cpus", type=int, default=2)
    args = parser.parse_args()
    import ray
    from ray import serve

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        single = single_process(root, args)
        ray.init(
            num_cpus=args.cpus, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False
        )
        port = free_port()
        serve.start(http_options={"host": "127.0.0.1", "port": port})
        try:
            one = on_serve(root, 1, args, port)
            two = on_serve(root, 2, args, port)
        finally:
            serve.shutdown()
            ray.shutdown()
    print(
        f"{'path':<10} {'req/s':>7}   ({args.requests} requests x {args.sentences} sentences, {args.concurrency} at a time)"
    )
    for name, rate in (("single", single), ("serve x1", one), ("serve x2", two)):
        print(f"{name:<10} {rate:7.2f}")
    print(f"serve x2 / serve x1 throughput: {two / one:.2f}x (goal >= 1.7)")
    print(f"serve x1 / single time per request: {single / one:.2f}x (goal <= 1.15)")
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
