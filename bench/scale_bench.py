"""Piper TTS throughput on Ray Serve: 1 vs 2 engine replicas, and the Serve path vs the single process.

In one run, the same workload (``--requests`` TTS requests of ``--sentences`` sentences each,
``--concurrency`` at a time, JSON answers, one wav saved each) is sent over HTTP, in ``--rounds``
rounds, each round to every one of these in turn (all four are started once and stay up: the
single-process servers idle while Serve is measured; the Serve application is redeployed with 1 or 2
Piper replicas on the same local Ray), so that a slower or faster spell of the machine falls on all
four alike:

* ``single``: the single-process server (``python main_api.py``, Piper only) in a subprocess, with
  ONNX Runtime's own choice of threads (one per core);
* ``single 1t``: the same with ``piper.intra_op_threads`` equal to one replica's (its ``num_cpus``,
  ``--replica-cpus``), so the Serve path is compared with a process whose model has the same threads;
* ``serve x1``: the Serve application (serving/app.py) on a local Ray, 1 Piper replica;
* ``serve x2``: the same with 2 Piper replicas (``--cpus`` logical CPUs for Ray).

It prints requests/s for each and the ratios the goals are about: ``serve x2 / serve x1``
(goal >= 1.7 on 2 cores) and ``serve x1`` against ``single 1t``, time per request (the Serve path's
overhead, like with like; goal <= 1.15), with ``serve x1`` against ``single`` beside it. Then where
the CPU went: the CPU seconds per request of each process (grouped: the bench's client, the server,
Ray's HTTP proxy, the ingress, the engine replicas, Ray's own processes), from their CPU times
before and after each measurement, and what Ray's processes use while no request runs. Beside each
rate: the load average, and the cores that processes not of this bench kept busy meanwhile (on a
shared machine, a figure with others above 0.1 is not one to compare).
Every answer must be a 200 whose file exists. A warm-up round precedes each measurement. Each rate
is over all rounds (requests / seconds); the ratio of each round is printed too, to show the spread.

    RAY_ENABLE_UV_RUN_RUNTIME_ENV=0 .venv/bin/python bench/scale_bench.py --requests 24 --rounds 3
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")  # workers use this environment as it is

import httpx
import psutil
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SENTENCE = "The quick brown fox jumps over the lazy dog near the river bank. "
IDLE_SECONDS = 10.0  # how long Ray's processes are watched with no request running

# Ray names its processes by what they run (the process title); the first match names the group.
GROUPS = (
    ("PiperEngines", "replicas"),
    ("Ingress", "ingress"),
    ("ProxyActor", "Ray HTTP proxy"),
    ("ServeController", "Ray controller"),
    ("raylet", "Ray raylet"),
    ("gcs_server", "Ray GCS"),
    ("dashboard/agent.py", "Ray dashboard agent"),
    ("runtime_env/agent", "Ray runtime_env agent"),
    ("log_monitor", "Ray log monitor"),
    ("ray::IDLE", "Ray idle workers"),
    ("main_api.py", "server"),
)


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


def group_of(process: psutil.Process) -> str:
    if process.pid == os.getpid():
        return "bench client"
    try:
        command = " ".join(process.cmdline())
    except psutil.Error:
        return "other"
    found = next((label for key, label in GROUPS if key in command), None)
    return found or ("Ray, other" if "ray" in command else "other")


def cpu_times() -> dict[int, tuple[str, float]]:
    """The CPU seconds (user + system) so far of this process and every process it started."""
    me = psutil.Process()
    found = {}
    for process in [me, *me.children(recursive=True)]:
        try:
            times = process.cpu_times()
            found[process.pid] = (group_of(process), times.user + times.system)
        except psutil.Error:
            pass
    return found


def machine_busy() -> float:
    """CPU seconds every process on the machine has used (all cores, since boot)."""
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


def cpu_spent(before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]) -> Counter[str]:
    """CPU seconds by group between two snapshots (a process started in between counts from 0)."""
    spent: Counter[str] = Counter()
    for pid, (group, seconds) in after.items():
        spent[group] += seconds - before.get(pid, (group, 0.0))[1]
    return spent


@dataclass
class Measured:
    """One path's measurements, summed over the rounds."""

    requests: int = 0
    seconds: float = 0.0  # wall time of the measured requests
    cpu: Counter[str] = field(default_factory=Counter)  # CPU seconds by process group during them
    load: float = 0.0  # 1-minute load average at the end of the last round
    others_seconds: float = 0.0  # CPU seconds of processes not of this bench during them
    rounds: list[float] = field(default_factory=list)  # each round's requests/s
    idle: Counter[str] = field(default_factory=Counter)  # CPU seconds in IDLE_SECONDS with no request

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def others(self) -> float:
        """Cores kept busy by processes not of this bench during the measured requests."""
        return max(0.0, self.others_seconds / self.seconds)


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


def drive(base: str, outputs: Path, args: argparse.Namespace, into: Measured) -> None:
    """One round: ``args.requests`` TTS requests, ``args.concurrency`` at a time, added to ``into``;
    each must be a 200 with its file."""
    body = {
        "text": SENTENCE * args.sentences,
        "engine": "piper",
        "export_formats": ["wav"],
        "response_mode": "json",
    }

    def one(_: int) -> str:
        answer = httpx.post(f"{base}/api/v1/tts", json=body, timeout=600)
        if answer.status_code != 200:
            raise SystemExit(f"{base}: answered {answer.status_code}: {answer.text[:300]}")
        return answer.json()["output_files"][0]["filename"]

    with ThreadPoolExecutor(args.concurrency) as pool:
        list(pool.map(one, range(args.concurrency)))  # warm-up
        before, busy = cpu_times(), machine_busy()
        started = time.perf_counter()
        names = list(pool.map(one, range(args.requests)))
        took = time.perf_counter() - started
        spent = cpu_spent(before, cpu_times())
        others = machine_busy() - busy - sum(spent.values())
    missing = [name for name in names if not any(outputs.rglob(name))]
    if missing:
        raise SystemExit(f"{base}: {len(missing)} answers without their file, e.g. {missing[0]}")
    into.requests += args.requests
    into.seconds += took
    into.cpu.update(spent)
    into.others_seconds += others
    into.load = os.getloadavg()[0]
    into.rounds.append(args.requests / took)


def idle_cpu() -> Counter[str]:
    before = cpu_times()
    time.sleep(IDLE_SECONDS)
    return cpu_spent(before, cpu_times())


@contextmanager
def single_process(root: Path, threads: int | None) -> Iterator[tuple[str, Path]]:
    """The single-process server, up until the block ends: its base URL and outputs folder;
    ``threads``: Piper's ONNX Runtime threads (None: the config's)."""
    port = free_port()
    # The same config as the Serve runs: config.yaml with the bench's sections over it.
    config = yaml.safe_load((ROOT / "config.yaml").read_text()) or {}
    where = root / f"single{threads or ''}"
    for section, values in folders(where).items():
        config[section] = {**config.get(section, {}), **values}
    config.setdefault("server", {}).update(host="127.0.0.1", port=port)
    if threads is not None:
        config.setdefault("piper", {})["intra_op_threads"] = threads
    (where.with_suffix(".yaml")).write_text(yaml.safe_dump(config))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATTERBOX_")}
    env["CHATTERBOX_CONFIG_FILE"] = str(where.with_suffix(".yaml"))
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
        yield base, where / "outputs"
    finally:
        server.terminate()
        server.wait(30)


def deploy(root: Path, replicas: int, args: argparse.Namespace, port: int) -> tuple[str, Path]:
    """The Serve application with ``replicas`` Piper replicas (redeployed over the one up, same
    folders): its base URL and outputs folder, once every replica is ready."""
    from ray import serve

    from serving.app import build

    piper = {
        "num_replicas": replicas,
        "num_cpus": args.replica_cpus,
        "max_ongoing_requests": args.concurrency,
    }
    where = root / "serve"
    serve.run(build({"overrides": folders(where), "piper": piper}), name="speech", route_prefix="/")
    base = f"http://127.0.0.1:{port}"
    wait_ready(base)
    return base, where / "outputs"


def report(runs: dict[str, Measured], args: argparse.Namespace) -> None:
    print(
        f"{'path':<10} {'req/s':>7} {'load':>5} {'others':>6}   ({args.rounds} rounds x {args.requests} requests x "
        f"{args.sentences} sentences, {args.concurrency} at a time; load: 1-minute load average at the end; "
        "others: cores other processes on the machine kept busy meanwhile)"
    )
    for name, run in runs.items():
        each = " ".join(f"{r:.2f}" for r in run.rounds)
        print(f"{name:<10} {run.rate:7.2f} {run.load:5.1f} {run.others:6.2f}   rounds: {each}")
    rate: Callable[[str], float] = lambda name: runs[name].rate  # noqa: E731
    by_round: Callable[[str, str], str] = lambda a, b: " ".join(  # noqa: E731
        f"{x / y:.2f}" for x, y in zip(runs[a].rounds, runs[b].rounds, strict=True)
    )
    threads = args.replica_cpus
    print(
        f"serve x2 / serve x1 throughput: {rate('serve x2') / rate('serve x1'):.2f}x (goal >= 1.7; "
        f"rounds: {by_round('serve x2', 'serve x1')})"
    )
    print(
        f"serve x1 / single 1t time per request: {rate('single 1t') / rate('serve x1'):.2f}x "
        f"(goal <= 1.15; both with {int(max(1, threads))} ONNX Runtime thread; "
        f"rounds: {by_round('single 1t', 'serve x1')})"
    )
    print(
        f"serve x1 / single time per request: {rate('single') / rate('serve x1'):.2f}x "
        "(the single process with ONNX Runtime's own threads)"
    )
    groups = sorted({group for run in runs.values() for group in run.cpu}, key=group_order)
    print("\nCPU seconds per request, by process (from their CPU times across the measured requests):")
    print(f"{'process':<16}" + "".join(f"{name:>11}" for name in runs))
    for group in groups:
        print(f"{group:<16}" + "".join(f"{run.cpu[group] / run.requests:11.3f}" for run in runs.values()))
    print(f"{'total':<16}" + "".join(f"{sum(r.cpu.values()) / r.requests:11.3f}" for r in runs.values()))
    cores = "".join(f"{sum(r.cpu.values()) / r.seconds:11.2f}" for r in runs.values())
    print(f"{'cores busy':<16}{cores}   (of {os.cpu_count()})")
    print(f"\nWith no request running, for {IDLE_SECONDS:.0f} s (CPU seconds per second):")
    for name, run in runs.items():
        if run.idle:
            busy = ", ".join(
                f"{g} {s / IDLE_SECONDS:.3f}"
                for g, s in sorted(run.idle.items(), key=lambda i: -i[1])
                if s > 0
            )
            print(f"  {name}: total {sum(run.idle.values()) / IDLE_SECONDS:.3f} ({busy})")


def group_order(group: str) -> int:
    order = ["bench client", "server", "Ray HTTP proxy", "ingress", "replicas"]
    return order.index(group) if group in order else len(order)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=24, help="requests a path gets in each round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--sentences", type=int, default=4)
    parser.add_argument("--cpus", type=int, default=2, help="logical CPUs for the local Ray")
    parser.add_argument("--replica-cpus", type=float, default=1.0, help="num_cpus of each Piper replica")
    args = parser.parse_args()
    import ray
    from ray import serve

    print(f"load average at the start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)
    runs = {name: Measured() for name in ("single", "single 1t", "serve x1", "serve x2")}
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        root = Path(tmp)
        singles = {
            "single": stack.enter_context(single_process(root, None)),
            "single 1t": stack.enter_context(single_process(root, int(max(1, args.replica_cpus)))),
        }
        ray.init(
            num_cpus=args.cpus, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False
        )
        stack.callback(ray.shutdown)
        port = free_port()
        serve.start(http_options={"host": "127.0.0.1", "port": port})
        stack.callback(serve.shutdown)
        for number in range(args.rounds):
            for name, (base, outputs) in singles.items():
                drive(base, outputs, args, runs[name])
            for replicas in (1, 2):
                base, outputs = deploy(root, replicas, args, port)
                drive(base, outputs, args, runs[f"serve x{replicas}"])
                if number == args.rounds - 1:
                    runs[f"serve x{replicas}"].idle = idle_cpu()
            print(f"round {number + 1} of {args.rounds} done", flush=True)
    report(runs, args)


if __name__ == "__main__":
    main()
