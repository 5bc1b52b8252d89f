"""Where the time goes on a GPU: torch.profiler over our T3 loop, upstream's loop and S3Gen (batch 1).

For each part, after a warm-up: the wall time, then the top operators by self CPU time and by self
device time. Our loop is timed alone (``Decoder.decode``, this thread) and through the scheduler
(its own thread), to separate the scheduler's overhead from the loop's. Random weights, in memory.

    python bench/gpu_profile.py --tokens 20          # on a GPU (see bench/gpu_bench.sh for the setup)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TQDM_DISABLE", "1")

import torch
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from batch_bench import SAMPLING, sync, upstream
from first_audio_bench import build_s3gen, vocode

from bench.random_t3 import build_t3, request
from engines.t3_loop import Decoder
from engines.t3_scheduler import T3Scheduler
from engines.t3_sequences import DTYPES, chatterbox_sequence, generator


def ours(t3: torch.nn.Module, tokens: int, scheduled: bool) -> None:
    with torch.inference_mode():
        sequence = chatterbox_sequence(t3, *request(t3, 0), SAMPLING, generator(t3.device, 7), tokens)
        if not scheduled:
            Decoder(t3, "chatterbox").decode([sequence])
            return
    scheduler = T3Scheduler(Decoder(t3, "chatterbox"), max_batch=1, name="profile")
    try:
        scheduler.submit(sequence).wait()
    finally:
        scheduler.close()


def report(title: str, device: str, work, rows: int) -> None:  # type: ignore[no-untyped-def]
    work()  # warm-up
    sync(device)
    started = time.perf_counter()
    work()
    sync(device)
    print(f"\n==== {title}: {(time.perf_counter() - started) * 1000:.1f} ms")
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device == "cuda" else [])
    with profile(activities=activities) as prof:
        work()
        sync(device)
    events = prof.key_averages()
    print(events.table(sort_by="self_cpu_time_total", row_limit=rows, max_name_column_width=60))
    if device == "cuda":
        print(events.table(sort_by="self_device_time_total", row_limit=rows // 2, max_name_column_width=60))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--dtype", choices=sorted(DTYPES), default="float32")
    parser.add_argument("--tokens", type=int, default=20)
    parser.add_argument("--layers", type=int, default=None)
    parser.add_argument("--rows", type=int, default=24, help="operators listed per table")
    parser.add_argument("--parts", nargs="+", default=["ours", "scheduled", "upstream", "s3gen"])
    args = parser.parse_args()
    t3 = build_t3(args.layers, args.device, DTYPES[args.dtype])
    n = args.tokens
    if "ours" in args.parts:
        report(f"ours, Decoder.decode, {n} tokens", args.device, lambda: ours(t3, n, False), args.rows)
    if "scheduled" in args.parts:
        report(f"ours, through the scheduler, {n} tokens", args.device, lambda: ours(t3, n, True), args.rows)
    if "upstream" in args.parts:
        report(f"upstream T3.inference, {n} tokens", args.device, lambda: upstream(t3, 1, n), args.rows)
    if "s3gen" in args.parts:
        s3gen, ref = build_s3gen(args.device)
        report("S3Gen, 16 tokens", args.device, lambda: vocode(s3gen, ref, 16), args.rows)


if __name__ == "__main__":
    main()
