"""Streaming and HTTP overhead, measured side by side with Piper in one run.

1. Time to first byte / total time for a 2,000-character text, streamed by ``POST /v1/audio/speech``
   (chunked mp3 and SSE) and ``POST /api/v1/tts`` with ``stream: true``. Goal: at most 10 %.
2. The same ~300-character request through the API (``/api/v1/tts``, wav, saved) and by calling
   ``CoreEngine.synthesize`` directly in the same process. Goal: API / direct at most 1.10x.

    uv run --frozen python bench/streaming_bench.py [--repeat 5]

Measured 2026-11-30 on the 2-core CI machine: first byte / total 3.8 % (OpenAI mp3), 4.1 % (SSE),
3.8 % (REST stream wav), first audio after about 0.35 s of a 9 s job; API / direct 0.96x
(1.11 s vs 1.15 s: within noise, the HTTP layer costs next to nothing beside generation).

Not a test: timings depend on the machine. The server runs in this process under uvicorn on a
loopback port, with its data folders in a temporary folder removed afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import SENTENCES, bench_settings, served
from core_engine import CoreEngine, OutputOptions, SpeechRequest


def long_text(chars: int) -> str:
    words, i = [], 0
    while len(" ".join(words)) < chars:
        words.append(SENTENCES[i % len(SENTENCES)])
        i += 1
    return " ".join(words)[:chars].rsplit(".", 1)[0] + "."


def time_stream(client: httpx.Client, path: str, body: dict) -> tuple[float, float]:
    """Seconds to the first audio bytes and to the end."""
    started = time.perf_counter()
    first = None
    with client.stream("POST", path, json=body) as response:
        response.raise_for_status()
        for piece in response.iter_bytes():
            if piece and first is None:
                first = time.perf_counter() - started
    return first or 0.0, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--chars", type=int, default=2000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        settings = bench_settings(
            data,
            engines={"enabled": ["piper"], "default": "piper", "fallback": None},
            openai={"models": {"tts-1": "piper"}},
        )
        core = CoreEngine(settings)
        loop = capture_loop(core)
        with served(settings, core, timeout=600, poll=0.2) as client:
            text = long_text(args.chars)
            doors = {
                "openai mp3 (chunked)": (
                    "/v1/audio/speech",
                    {"model": "tts-1", "voice": "alloy", "input": text, "response_format": "mp3"},
                ),
                "openai sse": (
                    "/v1/audio/speech",
                    {"model": "tts-1", "voice": "alloy", "input": text, "stream_format": "sse"},
                ),
                "/api/v1/tts stream wav": (
                    "/api/v1/tts",
                    {"text": text, "stream": True, "export_formats": ["wav"]},
                ),
            }
            time_stream(client, *doors["openai mp3 (chunked)"])  # warm-up: the voice is loaded on first use
            print(f"Streaming a {len(text)}-character text with Piper, median of {args.repeat}:")
            print(f"{'door':28} {'first byte':>11} {'total':>8} {'ratio':>7}")
            for name, (path, body) in doors.items():
                runs = [time_stream(client, path, body) for _ in range(args.repeat)]
                first = statistics.median(r[0] for r in runs)
                total = statistics.median(r[1] for r in runs)
                print(f"{name:28} {first:10.3f}s {total:7.3f}s {first / total:7.1%}   (goal <= 10%)")

            short = " ".join(SENTENCES[:4])
            body = {"text": short, "export_formats": ["wav"], "seed": 1}

            def via_api() -> float:
                started = time.perf_counter()
                response = client.post("/api/v1/tts", json=body)
                response.raise_for_status()
                return time.perf_counter() - started

            request = SpeechRequest(text=short, seed=1, output=OutputOptions(formats=("wav",)))

            def direct() -> float:
                started = time.perf_counter()
                asyncio.run_coroutine_threadsafe(core.synthesize(request), loop[0]).result()
                return time.perf_counter() - started

            via_api(), direct()
            api_times, direct_times = [], []
            for _ in range(args.repeat * 2):  # interleaved, so drift hits both alike
                api_times.append(via_api())
                direct_times.append(direct())
            api, plain = statistics.median(api_times), statistics.median(direct_times)
            print(f"\nA {len(short)}-character request, median of {len(api_times)}, interleaved:")
            print(f"  through the API   {api:.3f}s")
            print(f"  CoreEngine direct {plain:.3f}s")
            print(f"  ratio             {api / plain:.3f}x   (goal <= 1.10x)")


def capture_loop(core: CoreEngine) -> list[asyncio.AbstractEventLoop]:
    """The server's event loop, once it starts the engine: direct calls must run there too."""
    found: list[asyncio.AbstractEventLoop] = []
    start = core.start

    async def starting(*args, **kwargs):  # type: ignore[no-untyped-def]
        found.append(asyncio.get_running_loop())
        return await start(*args, **kwargs)

    core.start = starting  # type: ignore[method-assign]
    return found


if __name__ == "__main__":
    main()
