"""Chatterbox soak: many generations (random-weight checkpoint, few-layer T3) against a real server
process; prints its RSS after the warm-up and every so often, and the growth.

    uv run --frozen python bench/soak_bench.py --requests 200
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.soak import chatterbox_server, soak
from tests.support.speech import speech_wav_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        with chatterbox_server(folder / "data", speech_wav_path(folder / "speech")) as (base, sampler):
            result = soak(base, sampler, args.requests)
    step = max(1, args.requests // 10)
    print(f"baseline after warm-up: {result.baseline_mb:.0f} MB")
    for i in range(step - 1, args.requests, step):
        print(f"after {i + 1:4d} requests: {result.readings_mb[i]:.0f} MB")
    print(f"growth over {args.requests} requests: {result.growth_mb:+.0f} MB")


if __name__ == "__main__":
    main()
