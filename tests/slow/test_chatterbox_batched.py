"""Continuous batching through the server: the real chatterbox modules (random weights) with our loop.

``models.t3_loop: own`` with ``t3_batch_size: 4``: concurrent requests share T3 decode steps, and a
request's audio is the same whether it was decoded alone or in a batch (same seed).
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.support.chatterbox_app import client_with_voices, speak

pytestmark = pytest.mark.slow

MAX_TOKENS = 20  # random weights never stop: every request decodes its full budget


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, speech_wav: Path) -> Iterator[TestClient]:
    models = {"max_new_tokens": MAX_TOKENS, "t3_loop": "own", "t3_batch_size": 4}
    with client_with_voices(tmp_path_factory, speech_wav, 2, **models) as test_client:
        yield test_client


def test_concurrent_requests_share_decode_steps_and_sound_as_they_do_alone(client: TestClient) -> None:
    engine = client.app.state.engine.engines.engine("chatterbox")
    alone = speak(client, "v0", 7)
    before = client.get("/health").json()["engines"][0]["t3_batch"]
    scheduler = engine._t3_scheduler
    steps_before = scheduler.steps
    jobs = [("v0", 7), ("v1", 8), ("v0", 9), ("v1", 10)]
    with ThreadPoolExecutor(4) as pool:
        batched = list(pool.map(lambda job: speak(client, *job), jobs))
    after = client.get("/health").json()["engines"][0]["t3_batch"]
    tokens = after["tokens_total"] - before["tokens_total"]
    steps = scheduler.steps - steps_before
    assert tokens >= 4 * (MAX_TOKENS - 1)  # every request ran its budget (the first token is the prefill's)
    assert steps < tokens, (steps, tokens)  # so some steps decoded several requests at once
    assert after["max_batch_size"] == 4
    np.testing.assert_array_equal(batched[0], alone)  # same voice, text and seed: the same audio
    assert not np.array_equal(batched[0], batched[2])  # another seed, another take
    metrics = client.get("/metrics").text
    assert 't3_batch_size{engine="chatterbox"}' in metrics
