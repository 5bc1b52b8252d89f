"""Chatterbox ``stream: true``: time to the first audio byte / total, S3Gen in windows vs whole chunks.

A random-weight Chatterbox checkpoint at full size (T3 Llama 520M, 30 layers; built in a temporary
folder, never kept), served under uvicorn on a loopback port with ``models.t3_loop: own``. A text of
N sentences is streamed by ``POST /api/v1/tts`` (``stream: true``, wav) twice in one run, side by side:

- **windows**: S3Gen vocodes the first window of a chunk while T3 still decodes it
  (``engines/s3gen_stream.py``), so the first audio goes out after the first window;
- **whole chunks**: the same server with windows turned off (as before): the first audio goes out
  once the first sentence is decoded and vocoded.

Random weights never emit the stop token, so every sentence decodes ``--tokens`` tokens
(``models.max_new_tokens``): the speech of each sentence is ``--tokens / 25`` seconds long.

    uv run --frozen python bench/chatterbox_stream_bench.py [--sentences 10] [--tokens 40] [--layers 30]

Not a test: timings depend on the machine (read the ratios of one run).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import SENTENCES, bench_settings, served
from core_engine import CoreEngine
from tests.support.random_checkpoint import build_random_checkpoint, small_t3
from tests.support.speech import speech_wav_path


def time_stream(client: httpx.Client, body: dict) -> tuple[float, float, int]:
    """Seconds to the first audio bytes (past the wav header) and to the end; bytes received."""
    started = time.perf_counter()
    first, size = None, 0
    with client.stream("POST", "/api/v1/tts", json=body) as response:
        response.raise_for_status()
        for piece in response.iter_bytes():
            size += len(piece)
            if first is None and size > 44:  # the header alone is not audio
                first = time.perf_counter() - started
    return first or 0.0, time.perf_counter() - started, size


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sentences", type=int, default=10)
    parser.add_argument("--tokens", type=int, default=40, help="speech tokens per sentence (25 a second)")
    parser.add_argument("--layers", type=int, default=30, help="T3 layers (30: the real size)")
    parser.add_argument("--batch", type=int, default=4, help="models.t3_batch_size")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, small_t3(args.layers):
        data = Path(tmp)
        started = time.perf_counter()
        checkpoint = build_random_checkpoint(data / "ckpt", speech_wav_path(data), layers=args.layers)
        print(f"random checkpoint ({args.layers} T3 layers) built in {time.perf_counter() - started:.0f} s")
        settings = bench_settings(
            data,
            engines={"enabled": ["chatterbox"], "default": "chatterbox", "fallback": None},
            models={
                "checkpoint_dir": str(checkpoint),
                "device": "cpu",
                "max_new_tokens": args.tokens,
                "t3_loop": "own",
                "t3_batch_size": args.batch,
                "conditionals_cache_dir": None,
            },
            validation={"bypass": True},
        )
        core = CoreEngine(settings)
        with served(settings, core, timeout=3600, poll=0.5) as client:
            engine = core.engines.engine("chatterbox")
            warm = {"text": SENTENCES[0], "stream": True, "export_formats": ["wav"], "seed": 1}
            time_stream(client, warm)  # the model's first use: conditioning, numba warm-up
            text = " ".join(SENTENCES[i % len(SENTENCES)] for i in range(args.sentences))
            body = {"text": text, "stream": True, "export_formats": ["wav"], "seed": 3}
            print(
                f"\nStreaming {args.sentences} sentences ({len(text)} characters, {args.tokens} tokens each, "
                f"{args.sentences * args.tokens / 25:.1f} s of speech), T3 batch {args.batch}:"
            )
            print(
                f"{'S3Gen':14} {'first audio':>12} {'total':>9} {'ratio':>7} {'T3 tokens at first audio':>26}"
            )
            for mode, windowed in (("windows", True), ("whole chunks", False)):
                engine.windowed_vocoding = windowed
                engine.stream_log.clear()
                first, total, size = time_stream(client, body)
                tokens = str(engine.stream_log[0][0]) if engine.stream_log else f"{args.tokens} (all)"
                print(
                    f"{mode:14} {first:11.2f}s {total:8.1f}s {first / total:7.1%} {tokens:>26}   (goal <= 10%)"
                )
                audio = (size - 44) / 2 / 24_000
                print(f"{'':14} {audio:.1f} s of audio received")


if __name__ == "__main__":
    main()
