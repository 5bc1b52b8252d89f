"""A bounded mixed load on a real server with Piper, on loopback: listings, metadata reads, OpenAI and
REST speech, /health, from several clients at once. Prints p50/p99 per kind, the errors (goal: none but
documented 503s) and resident memory before and after (goal: flat after the warm-up).

    uv run --frozen python bench/load_bench.py [--requests 1000] [--clients 16] [--time-cap 600]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.load import run_load
from tests.support.memory_probe import PIPER_SERVER, sampled_server, settle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--clients", type=int, default=12)
    parser.add_argument("--time-cap", type=float, default=600, help="seconds; the run stops then")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as folder,
        sampled_server(Path(folder), **PIPER_SERVER) as (base, sampler),
    ):
        run_load(base, requests=60, clients=4, time_cap=120)
        baseline = settle(sampler)
        with sampler.peak() as highest:
            report = run_load(base, requests=args.requests, clients=args.clients, time_cap=args.time_cap)
        after = settle(sampler)
    print(report.table())
    for error in report.errors[:20]:
        print("  ", error)
    print(
        f"RSS after warm-up {baseline:.0f} MB, peak {highest():.0f} MB, after {after:.0f} MB ({after - baseline:+.1f} MB)"
    )


if __name__ == "__main__":
    main()
