"""Fused q/k/v and gate/up projections: nothing stored twice, never stale, the same numbers as upstream's."""

from __future__ import annotations

import torch
from transformers import LlamaConfig, LlamaModel

from engines.t3_backbone import LlamaBackbone
from engines.t3_fusion import fused_layers


def _llama() -> LlamaModel:
    torch.manual_seed(0)
    config = LlamaConfig(
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        vocab_size=16,
    )
    return LlamaModel(config).eval()


def test_the_modules_weights_become_views_into_the_fused_weight() -> None:
    model = _llama()
    before = sum(p.numel() for p in model.parameters())
    first = model.layers[0]
    q_weight = first.self_attn.q_proj.weight.detach().clone()
    fused = fused_layers(model)[0]
    # the same numbers, now read from the fused tensor: one storage for q, k and v, none copied
    assert torch.equal(first.self_attn.q_proj.weight, q_weight)
    assert first.self_attn.k_proj.weight.untyped_storage().data_ptr() == fused.qkv_linear.weight.data_ptr()
    assert first.mlp.up_proj.weight.untyped_storage().data_ptr() == fused.gate_up.weight.data_ptr()
    assert sum(p.numel() for p in model.parameters()) == before
    assert fused_layers(model)[0] is fused  # kept, not fused again


def test_fused_projections_give_upstreams_outputs() -> None:
    model = _llama()
    x = torch.randn(2, 3, 64)
    layer = model.layers[1]
    with torch.no_grad():
        q, k, v = (getattr(layer.self_attn, name)(x) for name in ("q_proj", "k_proj", "v_proj"))
        mlp = layer.mlp(x)
        fused = fused_layers(model)[1]
        assert torch.equal(fused.qkv(x), torch.cat([q, k, v], dim=-1))
        assert torch.equal(fused.mlp(x), mlp)
        assert torch.equal(layer.mlp(x), mlp)  # upstream's own forward, through the views


def test_a_model_cast_after_fusing_is_fused_again_not_read_stale() -> None:
    model = _llama()
    old = fused_layers(model)
    model.to(torch.float64)  # new, separate weights: the old fused tensors are stale
    fresh = LlamaBackbone(model).fused
    assert fresh is not old and fresh[0].qkv_linear.weight.dtype == torch.float64
    x = torch.randn(1, 1, 64, dtype=torch.float64)
    attn = model.layers[0].self_attn
    with torch.no_grad():
        expected = torch.cat([attn.q_proj(x), attn.k_proj(x), attn.v_proj(x)], dim=-1)
        assert torch.equal(fresh[0].qkv(x), expected)
