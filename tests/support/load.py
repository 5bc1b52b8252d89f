"""A bounded mixed load on a live server (loopback only): listings, metadata reads, OpenAI speech, REST
speech and /health from several clients at once; latencies per kind and every unexpected answer."""

from __future__ import annotations

import statistics
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

import httpx

KINDS = ("list_outputs", "list_voices", "output_info", "openai_speech", "rest_speech", "health")


@dataclass
class LoadReport:
    """What a run saw: latencies (s) per kind, unexpected answers, documented 503s."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    busy: int = 0  # 503 with Retry-After: documented back-pressure, not an error
    seconds: float = 0.0

    def percentile(self, kind: str, q: float) -> float:
        values = sorted(self.latencies[kind])
        return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")

    def table(self) -> str:
        rows = [f"{'kind':<14} {'n':>5} {'p50 ms':>8} {'p99 ms':>8}"]
        for kind in KINDS:
            if self.latencies[kind]:
                rows.append(
                    f"{kind:<14} {len(self.latencies[kind]):>5} "
                    f"{1000 * statistics.median(self.latencies[kind]):>8.0f} "
                    f"{1000 * self.percentile(kind, 0.99):>8.0f}"
                )
        rows.append(f"errors {len(self.errors)}, documented 503s {self.busy}, {self.seconds:.1f} s")
        return "\n".join(rows)


def _request(client: httpx.Client, kind: str, n: int, output: str | None) -> httpx.Response:
    if kind == "list_outputs":
        return client.get("/api/v1/outputs", params={"page_size": 20})
    if kind == "list_voices":
        return client.get("/api/v1/voices")
    if kind == "output_info":
        return client.get(f"/api/v1/outputs/{output}")
    if kind == "openai_speech":
        body = {
            "model": "tts-1",
            "voice": "alloy",
            "input": f"Request number {n} is here.",
            "response_format": "mp3",
        }
        return client.post("/v1/audio/speech", json=body)
    if kind == "rest_speech":
        return client.post("/api/v1/tts", json={"text": f"Short request {n}.", "export_formats": ["wav"]})
    return client.get("/health")


def run_load(base: str, *, requests: int, clients: int, time_cap: float) -> LoadReport:
    """``requests`` spread over ``clients`` threads, kinds in turn; stops early at ``time_cap`` seconds."""
    report = LoadReport()
    with httpx.Client(base_url=base, timeout=120) as client:
        made = client.post("/api/v1/tts?response_mode=json", json={"text": "A first output to read."})
        made.raise_for_status()
        output = made.json()["output_files"][0]["filename"]
    lock = threading.Lock()
    counter = iter(range(requests))
    deadline = time.monotonic() + time_cap
    started = time.perf_counter()

    def work() -> None:
        with httpx.Client(base_url=base, timeout=120) as client:
            while time.monotonic() < deadline:
                with lock:
                    n = next(counter, None)
                if n is None:
                    return
                kind = KINDS[n % len(KINDS)]
                began = time.perf_counter()
                try:
                    response = _request(client, kind, n, output)
                except httpx.HTTPError as exc:
                    with lock:
                        report.errors.append(f"{kind}: {type(exc).__name__}: {exc}")
                    continue
                elapsed = time.perf_counter() - began
                with lock:
                    if response.status_code == 503 and "retry-after" in response.headers:
                        report.busy += 1
                    elif response.status_code >= 400:
                        report.errors.append(f"{kind}: {response.status_code} {response.text[:200]}")
                    else:
                        report.latencies[kind].append(elapsed)

    threads = [threading.Thread(target=work) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report.seconds = time.perf_counter() - started
    return report
