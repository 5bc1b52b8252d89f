"""Long text does not balloon the server: a request's peak stays a small multiple of its audio, and
memory returns to its baseline after many requests (real server process, real Piper speech).

The figures at full size come from ``bench/memory_bench.py``; this is its smoke size.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.memory_probe import PIPER_SERVER, measure, sampled_server, settle, speak

# Working memory of one chunk in the model, whatever the text's length (ONNX Runtime, encoders).
CHUNK_OVERHEAD_MB = 150


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads resident memory from Linux's /proc")
def test_long_text_peak_is_bounded_and_memory_returns_to_baseline(tmp_path: Path) -> None:
    with sampled_server(tmp_path, **PIPER_SERVER) as (base, sampler):
        for route in ("tts", "tts-stream", "openai"):  # warm every path once: codecs, threads, caches
            speak(base, route, 2000)
        baseline = settle(sampler)

        # Before the fix one 2,000-character request grew the server by 2.7 GB and kept it.
        long = measure(sampler, base, "tts", 6000)
        assert long.pcm_mb > 20  # about seven minutes of speech
        assert long.peak_above_baseline_mb < 4 * long.pcm_mb + CHUNK_OVERHEAD_MB, long

        for route in ("tts", "tts", "tts-stream", "openai"):
            speak(base, route, 2000)
        after = settle(sampler)
        assert after - baseline < 50, f"{after - baseline:.0f} MB above the baseline after 5 requests"
