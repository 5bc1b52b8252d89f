"""T3 in bfloat16 on the CPU with packed weights (``models.dtype: bfloat16`` +
``models.cpu_packed_weights``), through the server: the real chatterbox modules (random weights).

T3's weights are cast (S3Gen stays float32), its decode steps multiply by weights packed for
oneDNN's bf16 kernels, and a request's audio is still the same decoded alone or batched (same seed).
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

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not torch.ops.mkldnn._is_mkldnn_bf16_supported(), reason="a CPU without oneDNN's bf16 kernels"
    ),
]

MAX_TOKENS = 16  # random weights never stop: every request decodes its full budget


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, speech_wav: Path) -> Iterator[TestClient]:
    models = {
        "max_new_tokens": MAX_TOKENS,
        "t3_batch_size": 4,
        "dtype": "bfloat16",
        "cpu_packed_weights": True,
    }
    with client_with_voices(tmp_path_factory, speech_wav, 1, **models) as test_client:
        yield test_client


def test_bf16_t3_with_packed_steps_serves_the_same_audio_alone_and_batched(client: TestClient) -> None:
    from engines.t3_fusion import packed_bytes
    from engines.t3_packing import packs_steps

    engine = client.app.state.engine.engines.engine("chatterbox")
    t3 = engine.model.t3
    assert next(t3.parameters()).dtype == torch.bfloat16
    assert next(engine.model.s3gen.parameters()).dtype == torch.float32
    assert packs_steps(t3.tfmr)
    alone = speak(client, "v0", 7)
    steps_before = engine._t3_scheduler.steps
    with ThreadPoolExecutor(4) as pool:
        batched = list(pool.map(lambda seed: speak(client, "v0", seed), [7, 8, 9, 10]))
    assert engine._t3_scheduler.steps - steps_before < 4 * (MAX_TOKENS - 1)  # steps were shared
    np.testing.assert_array_equal(batched[0], alone)  # same seed: the same audio, batched or not
    assert not np.array_equal(batched[0], batched[1])
    layers = sum(p.numel() * p.element_size() for layer in t3.tfmr.layers for p in layer.parameters())
    assert packed_bytes(t3) >= layers  # bf16 copies, packed at the first step
    assert engine.memory_bytes() >= packed_bytes(t3) + layers  # and counted in the engine's memory
