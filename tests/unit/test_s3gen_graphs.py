"""S3Gen's estimator as ``models.cuda_graphs`` replays it gives the estimator's own output.

The graphs need a GPU (bench/first_audio_bench.py measures them); on a CPU the same padded call runs
eagerly (``GraphedEstimator(capture=False)``). A capture fails on any read of a device tensor by the
host: the estimator, once installed, runs on the meta device, where such a read raises.
"""

from __future__ import annotations

import pytest
import torch

from engines.s3gen_graphs import BUCKET, GraphedEstimator, _mask_check_on_device


def _estimator(device: str = "cpu") -> torch.nn.Module:
    """Upstream's estimator as S3Gen builds it (random weights, 71M parameters)."""
    from chatterbox.models.s3gen.decoder import ConditionalDecoder

    torch.manual_seed(0)
    return (
        ConditionalDecoder(
            in_channels=320,
            out_channels=80,
            causal=True,
            channels=[256],
            dropout=0.0,
            attention_head_dim=64,
            n_blocks=4,
            num_mid_blocks=12,
            num_heads=8,
            act_fn="gelu",
        )
        .eval()
        .to(device)
    )


def _inputs(frames: int, seed: int = 1) -> tuple[torch.Tensor, ...]:
    rng = torch.Generator().manual_seed(seed)
    x, mu, cond = (torch.randn(2, 80, frames, generator=rng) for _ in range(3))
    mask = torch.ones(2, 1, frames)
    return x, mask, mu, torch.rand(2, generator=rng), torch.randn(2, 80, generator=rng), cond


@pytest.fixture(scope="module")
def estimator() -> torch.nn.Module:
    _mask_check_on_device()
    return _estimator()


@pytest.mark.parametrize("frames", [BUCKET - 1, 2 * BUCKET + 5])
def test_padded_to_a_bucket_the_estimator_gives_the_same_frames(
    estimator: torch.nn.Module, frames: int
) -> None:
    inputs = _inputs(frames)
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
    meta = _estimator("meta")
    with torch.inference_mode():
        out = meta.forward(*(value.to("meta") for value in _inputs(BUCKET)))
    assert out.shape == (2, 80, BUCKET)
