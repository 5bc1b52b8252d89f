"""Upstream's S3Gen flow-matching estimator at full size (random weights), and inputs for one call: for
the tests of ``engines.s3gen_graphs`` and ``engines.s3gen_setup``."""

from __future__ import annotations

import torch


def s3gen_estimator(device: str = "cpu") -> torch.nn.Module:
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


def estimator_inputs(frames: int, seed: int = 1) -> tuple[torch.Tensor, ...]:
    """Random (x, mask, mu, t, spks, cond) for ``frames`` mel frames, CFG's two rows, no padding."""
    rng = torch.Generator().manual_seed(seed)
    x, mu, cond = (torch.randn(2, 80, frames, generator=rng) for _ in range(3))
    mask = torch.ones(2, 1, frames)
    return x, mask, mu, torch.rand(2, generator=rng), torch.randn(2, 80, generator=rng), cond
