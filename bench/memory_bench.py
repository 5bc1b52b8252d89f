"""Memory of long speech requests through the real HTTP path (Piper, a real server process).

Prints, for each route, a long request's peak above the baseline beside its audio's PCM size (goal:
at most 4x, plus a fixed working set for one chunk), then the growth after N requests of 2,000
characters (goal: under 50 MB). ``--requests 100`` is the full figure; the default is a short run.

    uv run --frozen python bench/memory_bench.py [--requests N] [--chars 9000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.memory_probe import PIPER_SERVER, measure, sampled_server, settle, speak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10, help="requests of 2,000 characters (full: 100)")
    parser.add_argument("--chars", type=int, default=9000, help="length of the long request")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as folder,
        sampled_server(Path(folder), **PIPER_SERVER) as (base, sampler),
    ):
        started = sampler.rss_mb()
        for route in ("tts", "tts-stream", "openai"):
            speak(base, route, 2000)
        baseline = settle(sampler)
        print(f"server ready: {started:.0f} MB; after one warm-up per route: {baseline:.0f} MB")
        print(f"{'route':<12} {'chars':>6} {'PCM MB':>8} {'peak-base MB':>13} {'ratio':>6}")
        for route in ("tts", "tts-stream", "openai"):
            chars = min(args.chars, 4096) if route == "openai" else args.chars  # OpenAI's input limit
            reading = measure(sampler, base, route, chars)
            print(
                f"{route:<12} {chars:>6} {reading.pcm_mb:>8.1f} "
                f"{reading.peak_above_baseline_mb:>13.1f} {reading.ratio:>6.2f}"
            )
        baseline = settle(sampler)
        began = time.perf_counter()
        for _ in range(args.requests):
            speak(base, "tts", 2000)
        after = settle(sampler)
        print(
            f"{args.requests} requests of 2,000 characters in {time.perf_counter() - began:.0f} s: "
            f"{baseline:.0f} MB -> {after:.0f} MB ({after - baseline:+.1f} MB; goal < 50 MB)"
        )


if __name__ == "__main__":
    main()
