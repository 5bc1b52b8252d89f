"""S3Gen's estimator as ``models.cuda_graphs`` replays it gives the estimator's own output.

The graphs need a GPU (bench/first_audio_bench.py measures them); on a CPU the same padded call runs
eagerly (``GraphedEstimator(capture=False)``). A capture fails on any read of a device tensor by the
host: the estimator, once installed, runs on the meta device, where such a read raises.
"""

from __future__ import annotations

import pytest
import torch

from engines.s3gen_graphs import BUCKET, GraphedEstimator, _mask_check_on_device
from tests.support.s3gen_estimator import estimator_inputs, s3gen_estimator


@pytest.fixture(scope="module")
def estimator() -> torch.nn.Module:
    _mask_check_on_device()
    return s3gen_estimator()


@pytest.mark.parametrize("frames", [BUCKET - 1, 2 * BUCKET + 5])
def test_padded_to_a_bucket_the_estimator_gives_the_same_frames(
    estimator: torch.nn.Module, frames: int
) -> None:
    inputs = estimator_inputs(frames)
    with torch.inference_mode():
        plain = estimator.forward(*inputs)
        padded = GraphedEstimator(estimator, capture=False).forward(*inputs)
    assert padded.shape == plain.shape == (2, 80, frames)
    assert torch.allclose(padded, plain, atol=1e-4), (padded - plain).abs().max()
    assert not torch.equal(padded[:1], plain[1:])  # the rows differ: a real comparison


def test_the_mask_fix_up_on_the_device_is_upstreams(estimator: torch.nn.Module) -> None:
    """All-false rows become all true, other rows stay (upstream's own fix-up, whose warning branch
    fails with ``NameError``: its module never imports ``logging``)."""
    from chatterbox.models.s3gen import decoder

    masks = torch.tensor([[[True, False, True]], [[False, False, False]]])
    fixed = decoder.add_optional_chunk_mask(torch.zeros(2, 3, 4), masks, False, False, 0, 0, -1)
    assert torch.equal(fixed, torch.tensor([[[True, False, True]], [[True, True, True]]]))
    everywhere = torch.ones(2, 1, 3, dtype=torch.bool)
    assert torch.equal(
        decoder.add_optional_chunk_mask(torch.zeros(2, 3, 4), everywhere, False, False, 0, 0, -1), everywhere
    )


def test_the_installed_estimator_never_reads_the_device_from_the_host(estimator: torch.nn.Module) -> None:
    """What a CUDA graph needs: the meta device raises on ``.item()``, ``bool(tensor)`` and the like."""
    meta = s3gen_estimator("meta")
    with torch.inference_mode():
        out = meta.forward(*(value.to("meta") for value in estimator_inputs(BUCKET)))
    assert out.shape == (2, 80, BUCKET)
