"""Chatterbox ``stream: true``: time to the first audio byte / total, S3Gen in windows vs whole chunks.

A random-weight Chatterbox checkpoint at full size (T3 Llama 520M, 30 layers; built in a temporary
folder, never kept), served under uvicorn on a loopback port with ``models.t3_loop: own``. A text of
N sentences is streamed by ``POST /api/v1/tts`` (``stream: true``, wav) twice per token count, side
by side in one run:

- **windows**: S3Gen vocodes the first window of a chunk while T3 still decodes it
  (``engines/s3gen_stream.py``; the head of the stream decodes alone to its first window, T3 paused
  while it is vocoded), so the first audio goes out after the first window;
- **whole chunks**: the same server with windows turned off (as before): the first audio goes out
  once the first sentence is decoded and vocoded.

Random weights never emit the stop token, so every sentence decodes ``--tokens`` tokens
(``models.max_new_tokens``): the speech of each sentence is ``tokens / 25`` seconds long. Each value of
``--tokens`` gets its own server (the budget is a load-time setting). Besides the ratio, each row shows
where the first audio's time went: until S3Gen's first call (T3: conditioning, prefill, the first
window's steps) and that call itself; and the machine's load average while it ran.

    uv run --frozen python bench/chatterbox_stream_bench.py [--sentences 10] [--tokens 40 100] [--layers 30]

Not a test: timings depend on the machine (read the ratios of one run).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import SENTENCES
from config import load_settings
from core_engine import CoreEngine
from engines import chatterbox
from main_api import create_app
from tests.support.live_server import serve_in_thread
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


PLAIN_WINDOWS = chatterbox.vocode_while_decoding


class TimedLog(list):
    """Entries stamped with the time they were added (``time.perf_counter``)."""

    def append(self, item: object) -> None:
        super().append((item, time.perf_counter()))


def observe(engine: object, windows: TimedLog, vocodings: TimedLog) -> None:
    """Log each streamed window (as the slow test does) and each S3Gen call's start and end."""
    chatterbox.vocode_while_decoding = lambda *args: PLAIN_WINDOWS(*args, log=windows)  # type: ignore[assignment]
    plain_vocode = engine._vocode  # type: ignore[attr-defined]

    def vocode(*args: object) -> object:
        began = time.perf_counter()
        try:
            return plain_vocode(*args)
        finally:
            vocodings.append(began)

    engine._vocode = vocode  # type: ignore[attr-defined]


def settings_for(data: Path, checkpoint: Path, tokens: int, batch: int):  # type: ignore[no-untyped-def]
    return load_settings(
        paths={
            name: str(data / name.removesuffix("_dir"))
            for name in ("voices_dir", "outputs_dir", "vc_inputs_dir", "temp_dir")
        },
        engines={"enabled": ["chatterbox"], "default": "chatterbox", "fallback": None},
        models={
            "checkpoint_dir": str(checkpoint),
            "device": "cpu",
            "max_new_tokens": tokens,
            "t3_loop": "own",
            "t3_batch_size": batch,
            "conditionals_cache_dir": None,
        },
        validation={"bypass": True},
        housekeeping={"enabled": False, "on_start": False},
        ui={"enabled": False},
    )


def run_rows(data: Path, checkpoint: Path, tokens: int, args: argparse.Namespace) -> None:
    """One server with ``tokens`` per sentence: the text streamed with windows, then whole chunks."""
    settings = settings_for(data / f"t{tokens}", checkpoint, tokens, args.batch)
    core = CoreEngine(settings)
    with (
        serve_in_thread(create_app(settings, engine=core)) as base,
        httpx.Client(base_url=base, timeout=7200) as client,
    ):
        while client.get("/health").json().get("status") != "healthy":
            time.sleep(0.5)
        engine = core.engines.engine("chatterbox")
        windows, vocodings = TimedLog(), TimedLog()
        observe(engine, windows, vocodings)
        warm = {"text": SENTENCES[0], "stream": True, "export_formats": ["wav"], "seed": 1}
        time_stream(client, warm)  # the model's first use: conditioning, numba warm-up
        text = " ".join(SENTENCES[i % len(SENTENCES)] for i in range(args.sentences))
        body = {"text": text, "stream": True, "export_formats": ["wav"], "seed": 3}
        print(
            f"\nStreaming {args.sentences} sentences ({len(text)} characters, {tokens} tokens each, "
            f"{args.sentences * tokens / 25:.1f} s of speech), T3 batch {args.batch}:"
        )
        print(
            f"{'S3Gen':13} {'first audio':>11} {'total':>8} {'ratio':>6} {'T3 tokens at 1st':>16} "
            f"{'until S3Gen':>11} {'1st S3Gen':>9} {'load':>10}"
        )
        for mode, windowed in (("windows", True), ("whole chunks", False)):
            engine.windowed_vocoding = windowed
            windows.clear()
            vocodings.clear()
            load = os.getloadavg()[0]
            started = time.perf_counter()
            first, total, size = time_stream(client, body)
            at_first = str(windows[0][0][0]) if windows else f"{tokens} (all)"
            (began, ended) = vocodings[0][0] - started, vocodings[0][1] - started
            print(
                f"{mode:13} {first:10.2f}s {total:7.1f}s {first / total:6.1%} {at_first:>16} "
                f"{began:10.2f}s {ended - began:8.2f}s {load:4.1f}-{os.getloadavg()[0]:<4.1f}  (goal <= 10%)"
            )
            print(f"{'':13} {(size - 44) / 2 / 24_000:.1f} s of audio received")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sentences", type=int, default=10)
    parser.add_argument(
        "--tokens",
        type=int,
        nargs="+",
        default=[40, 100],
        help="speech tokens per sentence (25 a second); 100: about 4 s, a real sentence of ~70 characters",
    )
    parser.add_argument("--layers", type=int, default=30, help="T3 layers (30: the real size)")
    parser.add_argument("--batch", type=int, default=4, help="models.t3_batch_size")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, small_t3(args.layers):
        data = Path(tmp)
        started = time.perf_counter()
        checkpoint = build_random_checkpoint(data / "ckpt", speech_wav_path(data), layers=args.layers)
        print(f"random checkpoint ({args.layers} T3 layers) built in {time.perf_counter() - started:.0f} s")
        print(f"{os.cpu_count()} CPUs, torch threads {torch.get_num_threads()}")
        for tokens in args.tokens:
            run_rows(data, checkpoint, tokens, args)


if __name__ == "__main__":
    main()
