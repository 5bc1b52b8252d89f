"""The fixed-shape decode step that ``models.cuda_graphs`` captures gives the ordinary step's tokens.

The graphs themselves need a GPU (bench/gpu_bench.sh measures them); on a CPU the same step runs
eagerly (``StepGraphs(capture=False)``): attention over the cache's whole length with rows masked
past their position, inputs read from buffers. Batched sequences at different positions included.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from engines.t3_graphs import StepGraphs
from engines.t3_loop import Decoder, Sampling
from engines.t3_sequences import chatterbox_sequence, generator
from tests.support.random_checkpoint import small_t3
from tests.support.t3_inputs import build_t3, made_up_cond, made_up_text


@pytest.fixture(scope="module")
def english_t3() -> nn.Module:
    from chatterbox.models.t3.modules.t3_config import T3Config

    return build_t3(small_t3(), T3Config.english_only())


SPECS = [(1, 20, Sampling(), 4, 10), (2, 9, Sampling(cfg_weight=0.0), 5, 14), (3, 30, Sampling(), 6, 6)]


def _fixed_shape_decoder(t3: nn.Module) -> Decoder:
    decoder = Decoder(t3, "chatterbox", check_every=4)
    decoder.backbone.graphs = StepGraphs(decoder.backbone, capture=False)
    return decoder


def _decode(
    t3: nn.Module, fixed_shapes: bool, specs: list = SPECS, decoder: Decoder | None = None
) -> list[list[int]]:
    if decoder is None:
        decoder = _fixed_shape_decoder(t3) if fixed_shapes else Decoder(t3, "chatterbox", check_every=4)
    with torch.inference_mode():
        sequences = [
            chatterbox_sequence(
                t3, made_up_cond(t3, voice), made_up_text(t3, text), sampling, generator("cpu", seed), budget
            )
            for voice, text, sampling, seed, budget in specs
        ]
    return [seq.tokens for seq in decoder.decode(sequences)]


def test_the_fixed_shape_step_gives_the_same_tokens_as_the_ordinary_step(english_t3: nn.Module) -> None:
    ordinary = _decode(english_t3, fixed_shapes=False)
    assert [len(tokens) for tokens in ordinary] == [10, 14, 6]  # three lengths: rows at different positions
    assert _decode(english_t3, fixed_shapes=True) == ordinary


def test_the_graphs_cache_is_kept_between_batches_and_its_old_contents_do_not_leak(
    english_t3: nn.Module,
) -> None:
    """The second batch reuses the first one's cache (no new capture), stale keys and values included."""
    other = [(4, 12, Sampling(temperature=0.5), 8, 9), (5, 25, Sampling(), 9, 11)]
    decoder = _fixed_shape_decoder(english_t3)
    graphs = decoder.backbone.graphs
    first = _decode(english_t3, True, SPECS, decoder)
    cache = graphs._cache
    second = _decode(english_t3, True, other, decoder)
    assert graphs._cache is cache  # large enough: kept
    assert cache.keys.size(1) == 8 and cache.length % 256 == 0  # 5 rows rounded up to a power of two
    assert first == _decode(english_t3, False, SPECS)
    assert second == _decode(english_t3, False, other)


def test_the_fixed_shape_step_gives_the_same_hidden_states_and_cache(english_t3: nn.Module) -> None:
    """Two rows at different positions (3 and 7), one step each way from the same cache."""
    backbone = Decoder(english_t3, "chatterbox").backbone
    dim = english_t3.hp.n_channels
    rng = torch.Generator().manual_seed(0)
    prompts = [torch.randn(1, length, dim, generator=rng) for length in (3, 7)]
    new = torch.randn(2, 1, dim, generator=rng)
    results = []
    with torch.inference_mode():
        for graphs in (None, StepGraphs(backbone, capture=False)):
            backbone.graphs = graphs
            cache = backbone.new_cache(2, 12, like=new)
            for row, prompt in enumerate(prompts):
                backbone.prefill(prompt, cache, slice(row, row + 1))
            results.append((backbone.step(new, [3, 7], cache), cache.keys.clone(), cache.values.clone()))
    backbone.graphs = None
    (hidden, keys, values), (fixed_hidden, fixed_keys, fixed_values) = results
    assert torch.allclose(fixed_hidden, hidden, atol=1e-5)
    assert fixed_keys.size(3) == 256  # the graphs' cache: positions rounded up
    # Equal up to rounding: past the first layer, attention sums over 256 (masked) positions, not 8.
    assert torch.allclose(fixed_keys[:, :, :, :12], keys, atol=1e-5)
    assert torch.allclose(fixed_values[:, :, :, :12], values, atol=1e-5)
    assert not fixed_keys[:, :, :, 12:].any()


def test_graphs_are_asked_for_only_on_a_gpu(english_t3: nn.Module) -> None:
    assert Decoder(english_t3, "chatterbox", cuda_graphs=True).backbone.graphs is None  # a CPU model
