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
import torch
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


SENTENCES = (
    "The river ran past the mill. Children watched the boats. The market opened at dawn. "
    "Stalls sold apples and bread. A dog slept by the fountain."
)


def test_a_long_text_is_vocoded_in_groups_and_sounds_the_same_every_time(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = client.app.state.engine.engines.engine("chatterbox")
    vocodings: list[int] = []
    real = engine._vocode

    def vocode(model: object, speech: torch.Tensor, conds: object) -> np.ndarray:
        vocodings.append(speech.numel())
        return real(model, speech, conds)

    monkeypatch.setattr(engine, "_vocode", vocode)
    grouped = speak(client, "v0", 11, SENTENCES)
    # five sentences of ~30 characters: the first four (the most a text holds in the batch) in one S3Gen
    # pass, the fifth alone
    assert len(vocodings) == 2 and vocodings[0] > 3 * vocodings[1], vocodings
    grouped_tokens = sum(vocodings)
    np.testing.assert_array_equal(
        speak(client, "v0", 11, SENTENCES), grouped
    )  # the same seed, the same audio
    monkeypatch.setattr(type(engine), "vocode_group_chars", property(lambda _: 0))
    vocodings.clear()
    alone = speak(client, "v0", 11, SENTENCES)
    assert len(vocodings) == 5  # each chunk on its own, as upstream's generate()
    assert sum(vocodings) == grouped_tokens  # the same tokens
    # the same tokens: as long, but for a frame or two that S3Gen drops a call where the voice's prompt
    # has more mel frames than twice its tokens (20-40 ms a call; at most 80 ms allowed)
    assert len(alone) == pytest.approx(len(grouped), abs=0.08 * 24_000 * 5)


def test_a_group_cuts_its_audio_where_its_chunks_tokens_meet(client: TestClient) -> None:
    from engines.base import SynthesisParams

    engine = client.app.state.engine.engines.engine("chatterbox")
    texts = ["The river ran past the mill.", "Children watched the boats."]
    params = [SynthesisParams(seed=21), SynthesisParams(seed=22)]
    spoken = engine.synthesize_group(texts, None, params)
    for (clip, notes), text, chosen in zip(spoken, texts, params, strict=True):
        alone = engine.synthesize(text, None, chosen)
        assert clip.sample_rate == alone.sample_rate == 24_000
        # the same tokens, cut at their boundary (to the frame or two S3Gen drops a call, see above)
        assert len(clip.samples) == pytest.approx(len(alone.samples), abs=0.08 * 24_000)
        assert notes == [
            f"speech reached the token budget (models.max_new_tokens={MAX_TOKENS}) before its end: "
            "the audio may be cut"
        ]
