"""Chatterbox ``stream: true``: first audio byte / total and the listener's waits, windows vs whole chunks.

A random-weight Chatterbox checkpoint at full size (T3 Llama 520M, 30 layers; built in a temporary
folder, never kept), served under uvicorn on a loopback port with ``models.t3_loop: own``. A text of
N sentences is streamed by ``POST /api/v1/tts`` (``stream: true``, wav) three times per token count,
side by side in one run:

- **when starving**: S3Gen vocodes the first chunk in windows while T3 still decodes it
  (``engines/s3gen_stream.py``; the head of the stream decodes alone to its first window, T3 paused
  while it is vocoded), and a later chunk only while the audio sent is less than
  ``models.stream_window_margin_seconds`` (``--margin``) ahead of the listener (core/windows.py);
- **every chunk**: windows for every chunk the listener waits on (a margin of 60 s);
- **whole chunks**: the same server with windows turned off: the first audio goes out once the first
  sentence is decoded and vocoded.

Besides first audio / total and the total, each row shows how long a listener playing the audio in
real time as it arrives would have waited after its first audio ("stalled"), the S3Gen calls made and
their mean length (whole chunks: one call per chunk, the figure ``--margin`` should cover).

Random weights never emit the stop token, so every sentence decodes ``--tokens`` tokens
(``models.max_new_tokens``): the speech of each sentence is ``tokens / 25`` seconds long. Each value of
``--tokens`` gets its own server (the budget is a load-time setting). Each row also shows where the
first audio's time went: until S3Gen's first call (T3: conditioning, prefill, the first window's
steps) and that call itself; and the machine's load average while it ran.

    uv run --frozen python bench/chatterbox_stream_bench.py [--sentences 10] [--tokens 40 100] [--layers 30] [--margin 2]

Not a test: timings depend on the machine (read the ratios of one run).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    BYTES_PER_SECOND,
    SENTENCES,
    chatterbox_settings,
    s3gen_calls,
    served,
    served_checkpoint,
    time_stream,
)
from config import Settings
from core_engine import CoreEngine
from engines import chatterbox
from tests.support.random_checkpoint import small_t3
from tests.support.speech import speech_wav_path

PLAIN_WINDOWS = chatterbox.vocode_while_decoding


class TimedLog(list):
    """Entries stamped with the time they were added (``time.perf_counter``)."""

    def append(self, item: object) -> None:
        super().append((item, time.perf_counter()))


def observe(engine: object, windows: TimedLog) -> list[tuple[float, float]]:
    """Log each streamed window (as the slow test does); each S3Gen call's start and end, returned."""
    chatterbox.vocode_while_decoding = lambda *args: PLAIN_WINDOWS(*args, log=windows)  # type: ignore[assignment]
    return s3gen_calls(engine)


def with_margin(settings: Settings, margin: float) -> Settings:
    """``settings`` with ``models.stream_window_margin_seconds`` set (read by each new stream)."""
    models = settings.models.model_copy(update={"stream_window_margin_seconds": margin})
    return settings.model_copy(update={"models": models})


def run_rows(data: Path, checkpoint: Path, tokens: int, args: argparse.Namespace) -> None:
    """One server with ``tokens`` per sentence: the text streamed with each window policy in turn."""
    settings = chatterbox_settings(
        data / f"t{tokens}", checkpoint, tokens, t3_loop="own", t3_batch_size=args.batch
    )
    core = CoreEngine(settings)
    with served(settings, core, timeout=7200, poll=0.5) as client:
        engine = core.engines.engine("chatterbox")
        windows = TimedLog()
        vocodings = observe(engine, windows)
        warm = {"text": SENTENCES[0], "stream": True, "export_formats": ["wav"], "seed": 1}
        time_stream(client, warm)  # the model's first use: conditioning, numba warm-up
        text = " ".join(SENTENCES[i % len(SENTENCES)] for i in range(args.sentences))
        body = {"text": text, "stream": True, "export_formats": ["wav"], "seed": 3}
        print(
            f"\nStreaming {args.sentences} sentences ({len(text)} characters, {tokens} tokens each, "
            f"{args.sentences * tokens / 25:.1f} s of speech), T3 batch {args.batch}:"
        )
        print(
            f"{'windows':14} {'first audio':>11} {'total':>8} {'ratio':>6} {'stalled':>8} {'S3Gen calls':>11} "
            f"{'mean':>6} {'T3 tokens at 1st':>16} {'until S3Gen':>11} {'1st S3Gen':>9} {'load':>10}"
        )
        modes = (
            ("when starving", args.margin, True),
            ("every chunk", 60.0, True),
            ("whole chunks", 0.0, False),
        )
        for mode, margin, windowed in modes:
            core.speech.settings = with_margin(settings, margin)
            engine.windowed_vocoding = windowed
            windows.clear()
            vocodings.clear()
            load = os.getloadavg()[0]
            started = time.perf_counter()
            first, total, size, stalled = time_stream(client, body)
            at_first = str(windows[0][0][0]) if windows else f"{tokens} (all)"
            began, ended = vocodings[0][0] - started, vocodings[0][1] - started
            calls = [end - start for start, end in vocodings]
            print(
                f"{mode:14} {first:10.2f}s {total:7.1f}s {first / total:6.1%} {stalled:7.1f}s {len(calls):11} "
                f"{sum(calls) / len(calls):5.2f}s {at_first:>16} {began:10.2f}s {ended - began:8.2f}s "
                f"{load:4.1f}-{os.getloadavg()[0]:<4.1f}"
            )
            print(f"{'':14} {(size - 44) / BYTES_PER_SECOND:.1f} s of audio received")
        print("goal: first audio / total <= 10 %")


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
    parser.add_argument(
        "--margin", type=float, default=2.0, help="models.stream_window_margin_seconds of the first row"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, small_t3(args.layers):
        data = Path(tmp)
        started = time.perf_counter()
        voice = speech_wav_path(data)
        checkpoint = served_checkpoint(data, voice, args.layers)
        print(f"random checkpoint ({args.layers} T3 layers) built in {time.perf_counter() - started:.0f} s")
        print(f"{os.cpu_count()} CPUs, torch threads {torch.get_num_threads()}")
        for tokens in args.tokens:
            run_rows(data, checkpoint, tokens, args)


if __name__ == "__main__":
    main()
