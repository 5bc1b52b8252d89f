"""Our T3 decoding loop gives exactly upstream's tokens (fp32, CPU, same seed).

The T3 models are the random-weight test checkpoints' recipe (tests/support), built in memory: the
English T3 with 2 layers, the multilingual one with the 14 narrow layers its alignment analyzer
needs, turbo's GPT-2 with 2 layers. Upstream runs ``T3.inference`` / ``inference_turbo`` seeded
through torch's global RNG; ours gets a generator of its own with the same seed.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from engines.t3_loop import Decoder, Sampling
from engines.t3_sequences import chatterbox_sequence, generator, turbo_sequence
from tests.support.random_checkpoint import small_t3
from tests.support.random_multilingual import small_mtl_t3
from tests.support.random_turbo import small_turbo_t3
from tests.support.t3_inputs import build_t3, likely_stop, made_up_cond, made_up_text

TOKENS = 12  # speech tokens per run: enough to pass the analyzer's first frames and a few stops

ENGLISH_SETS = [
    Sampling(),  # the server's defaults
    Sampling(temperature=1.0, top_p=0.9, min_p=0.0, repetition_penalty=1.0, cfg_weight=0.7),
    Sampling(temperature=0.5, top_p=1.0, min_p=0.1, repetition_penalty=2.0, cfg_weight=0.0),
]
TURBO_SETS = [
    Sampling(temperature=0.8, top_p=0.95, top_k=1000, repetition_penalty=1.2),
    Sampling(temperature=1.0, top_p=1.0, top_k=50, repetition_penalty=1.0),
]


@pytest.fixture(scope="module")
def english_t3() -> nn.Module:
    from chatterbox.models.t3.modules.t3_config import T3Config

    return build_t3(small_t3(), T3Config.english_only())


@pytest.fixture(scope="module")
def multilingual_t3() -> nn.Module:
    from chatterbox.models.t3.modules.t3_config import T3Config

    from engines.multilingual_fixes import install_analyzer_fix

    install_analyzer_fix()
    return build_t3(small_mtl_t3(), T3Config.multilingual())


@pytest.fixture(scope="module")
def turbo_t3() -> nn.Module:
    from engines.chatterbox_turbo import t3_config

    return build_t3(small_turbo_t3(), t3_config("turbo"))


def _upstream(t3: nn.Module, sampling: Sampling, seed: int, tokens: int = TOKENS) -> list[int]:
    torch.manual_seed(seed)
    out = t3.inference(
        t3_cond=made_up_cond(t3, 1),
        text_tokens=made_up_text(t3),
        max_new_tokens=tokens,
        temperature=sampling.temperature,
        cfg_weight=sampling.cfg_weight,
        repetition_penalty=sampling.repetition_penalty,
        min_p=sampling.min_p,
        top_p=sampling.top_p,
    )
    return out[0].tolist()


def _ours(t3: nn.Module, sampling: Sampling, seed: int, tokens: int = TOKENS, **kwargs: bool) -> list[int]:
    with torch.inference_mode():
        seq = chatterbox_sequence(
            t3, made_up_cond(t3, 1), made_up_text(t3), sampling, generator("cpu", seed), tokens, **kwargs
        )
    Decoder(t3, "chatterbox", check_every=4).decode([seq])
    return seq.tokens


@pytest.mark.parametrize("seed", [0, 7, 12345])
@pytest.mark.parametrize("sampling", ENGLISH_SETS, ids=["defaults", "no-penalty", "cfg0"])
def test_english_tokens_equal_upstream(english_t3: nn.Module, sampling: Sampling, seed: int) -> None:
    expected = _upstream(english_t3, sampling, seed)
    assert len(expected) == TOKENS  # random weights: the budget ends it
    assert _ours(english_t3, sampling, seed) == expected


def test_english_stops_where_upstream_stops(english_t3: nn.Module) -> None:
    stopped = 0
    with likely_stop(english_t3, bias=4.0):
        for seed in range(6):
            expected = _upstream(english_t3, Sampling(), seed, tokens=40)
            assert _ours(english_t3, Sampling(), seed, tokens=40) == expected
            stopped += expected[-1] == english_t3.hp.stop_speech_token and len(expected) < 40
    assert stopped >= 2, "the biased head should end some runs before the budget"


def test_seeds_differ_and_repeat(english_t3: nn.Module) -> None:
    assert _ours(english_t3, Sampling(), 1) == _ours(english_t3, Sampling(), 1)
    assert _ours(english_t3, Sampling(), 1) != _ours(english_t3, Sampling(), 2)


@pytest.mark.parametrize("seed", [0, 3])
@pytest.mark.parametrize("sampling", ENGLISH_SETS[:2], ids=["defaults", "no-penalty"])
def test_multilingual_tokens_equal_upstream_with_hook_fix(
    multilingual_t3: nn.Module, sampling: Sampling, seed: int
) -> None:
    from engines.multilingual_fixes import attention_hook_count, closing_analyzer

    with closing_analyzer(multilingual_t3):
        expected = _upstream(multilingual_t3, sampling, seed, tokens=20)
    hooks = attention_hook_count(multilingual_t3)
    assert _ours(multilingual_t3, sampling, seed, tokens=20, multilingual=True) == expected
    assert attention_hook_count(multilingual_t3) == hooks  # ours adds none


def _turbo_upstream(t3: nn.Module, sampling: Sampling, seed: int, tokens: int) -> list[int]:
    torch.manual_seed(seed)
    out = t3.inference_turbo(
        made_up_cond(t3, 2),
        made_up_text(t3)[:1] + 300,  # one row of GPT-2 ids, no start/stop framing
        temperature=sampling.temperature,
        top_k=sampling.top_k,
        top_p=sampling.top_p,
        repetition_penalty=sampling.repetition_penalty,
        max_gen_len=tokens,
    )
    return out[0].tolist()


def _turbo_ours(t3: nn.Module, sampling: Sampling, seed: int, tokens: int) -> list[int]:
    with torch.inference_mode():
        seq = turbo_sequence(
            t3, made_up_cond(t3, 2), made_up_text(t3)[:1] + 300, sampling, generator("cpu", seed), tokens
        )
    Decoder(t3, "turbo", check_every=4).decode([seq])
    return seq.tokens


@pytest.mark.parametrize("seed", [0, 99])
@pytest.mark.parametrize("sampling", TURBO_SETS, ids=["defaults", "top-k-50"])
def test_turbo_tokens_equal_upstream(turbo_t3: nn.Module, sampling: Sampling, seed: int) -> None:
    expected = _turbo_upstream(turbo_t3, sampling, seed, TOKENS)
    assert len(expected) == TOKENS + 1  # upstream samples one token past max_gen_len
    assert _turbo_ours(turbo_t3, sampling, seed, TOKENS) == expected


def test_turbo_stops_where_upstream_stops(turbo_t3: nn.Module) -> None:
    stopped = 0
    with likely_stop(turbo_t3, bias=4.0):
        for seed in range(6):
            expected = _turbo_upstream(turbo_t3, TURBO_SETS[0], seed, 40)
            assert _turbo_ours(turbo_t3, TURBO_SETS[0], seed, 40) == expected
            stopped += len(expected) < 41
    assert stopped >= 2, "the biased head should end some runs before the budget"


def test_a_sequence_decodes_the_same_alone_and_batched(english_t3: nn.Module) -> None:
    """Sequences with their own voice, text length, parameters, seed and budget share one batch."""

    def sequence(voice: int, text: int, sampling: Sampling, seed: int, budget: int):  # type: ignore[no-untyped-def]
        text_tokens = made_up_text(english_t3, text)
        with torch.inference_mode():
            cond = made_up_cond(english_t3, voice)
            return chatterbox_sequence(
                english_t3, cond, text_tokens, sampling, generator("cpu", seed), budget
            )

    specs = [(1, 20, Sampling(), 4, 10), (2, 9, ENGLISH_SETS[2], 5, 14), (3, 30, ENGLISH_SETS[1], 6, 6)]
    decoder = Decoder(english_t3, "chatterbox", check_every=4)
    alone = [decoder.decode([sequence(*spec)])[0].tokens for spec in specs]
    batched = [seq.tokens for seq in decoder.decode([sequence(*spec) for spec in specs])]
    assert [len(tokens) for tokens in alone] == [10, 14, 6]
    assert batched == alone


@pytest.mark.parametrize("loop", ["upstream", "own"])
def test_the_engine_setting_picks_the_loop_and_the_tokens_agree(english_t3: nn.Module, loop: str) -> None:
    """``models.t3_loop`` chooses the loop the engine runs; both give the same speech tokens."""
    from types import SimpleNamespace

    from config import ModelSettings
    from engines.base import SynthesisParams
    from engines.chatterbox import ChatterboxTTSEngine

    engine = ChatterboxTTSEngine(ModelSettings(t3_loop=loop, max_new_tokens=TOKENS))
    engine.device = "cpu"
    params = SynthesisParams(seed=7)
    calls: list[str] = []
    original = english_t3.inference
    english_t3.inference = lambda **kw: calls.append("upstream") or original(**kw)  # type: ignore[method-assign]
    try:
        torch.manual_seed(params.seed)  # upstream samples from the global generator, seeded per call
        with torch.inference_mode():
            tokens = engine._sample_speech(
                SimpleNamespace(t3=english_t3), made_up_cond(english_t3, 1), made_up_text(english_t3), params
            )
    finally:
        english_t3.inference = original  # type: ignore[method-assign]
    assert calls == (["upstream"] if loop == "upstream" else [])
    sampling = Sampling(temperature=0.8, cfg_weight=0.5, repetition_penalty=1.2, min_p=0.05, top_p=1.0)
    assert tokens[0].tolist() == _upstream(english_t3, sampling, params.seed)
