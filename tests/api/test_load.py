"""A bounded mixed load on a real server (Piper): no error but documented 503s, /health keeps answering,
and memory stays flat. The smoke size of ``bench/load_bench.py``."""

from __future__ import annotations

from pathlib import Path

from tests.support.load import run_load
from tests.support.memory_probe import PIPER_SERVER, sampled_server, settle


def test_mixed_load_has_no_errors_and_flat_memory(tmp_path: Path) -> None:
    with sampled_server(tmp_path, **PIPER_SERVER) as (base, sampler):
        run_load(base, requests=36, clients=4, time_cap=120)  # warm-up: every route once or more
        baseline = settle(sampler)
        report = run_load(base, requests=120, clients=6, time_cap=240)
        after = settle(sampler)
    print("\n" + report.table())
    assert report.errors == []
    assert sum(len(v) for v in report.latencies.values()) + report.busy >= 120
    assert len(report.latencies["health"]) >= 15  # /health answered all along
    assert report.percentile("health", 0.99) < 5.0
    assert after - baseline < 60, f"{after - baseline:.0f} MB more after the load"
