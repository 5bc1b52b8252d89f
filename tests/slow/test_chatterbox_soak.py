"""Memory stays flat over repeated Chatterbox generations (random weights, a real server process)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.soak import chatterbox_server, soak

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads resident memory from /proc"),
]
REQUESTS = 8  # the smoke size; bench/soak_bench.py runs hundreds
# Before two leaks were fixed (the watermark's autograd graph, oneDNN's unbounded kernel cache) the
# first 8 requests grew the server by about 40 MB; since, by about 8 MB (docs/reliability.md,
# "Chatterbox soak"): this bound catches a leak of 3 MB a request.
FLAT_MB = 24


def test_repeated_generations_leave_memory_flat(tmp_path: Path, speech_wav: Path) -> None:
    with chatterbox_server(tmp_path, speech_wav) as (base, sampler):
        result = soak(base, sampler, REQUESTS)
    assert len(result.readings_mb) == REQUESTS
    assert result.growth_mb < FLAT_MB, (result.baseline_mb, result.readings_mb)
