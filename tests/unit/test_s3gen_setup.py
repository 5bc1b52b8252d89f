"""``models.s3gen_dtype``: S3Gen's estimator under autocast, its weights and the solver's state float32.

On upstream's estimator as S3Gen builds it (random weights, full size): the lowered call stays close
to float32's and is not the same call (autocast is on); the solver around it keeps float32.
"""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest
import torch

from engines.s3gen_setup import AutocastEstimator, lower_estimator
from tests.support.s3gen_estimator import estimator_inputs, s3gen_estimator


@pytest.fixture(scope="module")
def estimator() -> torch.nn.Module:
    return s3gen_estimator()


def _s3gen(decoder: object) -> SimpleNamespace:
    """What ``lower_estimator`` reaches into: ``s3gen.flow.decoder`` (whose ``estimator`` it wraps)."""
    return SimpleNamespace(flow=SimpleNamespace(decoder=decoder))


def _relative(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).norm() / b.norm())


def test_the_estimator_under_bf16_autocast_stays_close_to_float32(estimator: torch.nn.Module) -> None:
    inputs = estimator_inputs(150)
    lowered = AutocastEstimator(estimator, torch.bfloat16)
    with torch.inference_mode():
        plain = estimator.forward(*inputs)
        out = lowered.forward(*inputs)
    assert out.dtype == torch.float32 and out.shape == plain.shape
    assert lowered.dtype == torch.float32  # the solver casts its state to this: it stays float32
    assert next(estimator.parameters()).dtype == torch.float32  # weights are not cast
    error = _relative(out, plain)
    assert 1e-4 < error < 0.03, error  # lowered (not float32's call), and close to it


def test_the_solver_keeps_float32_state_around_a_lowered_estimator(estimator: torch.nn.Module) -> None:
    from chatterbox.models.s3gen.flow_matching import CausalConditionalCFM

    cfm = CausalConditionalCFM(spk_emb_dim=80, estimator=estimator).eval()
    x, mask, mu, _, spks, cond = estimator_inputs(100, seed=2)
    t_span = torch.linspace(0, 1, 4)
    seen: list[torch.dtype] = []
    hook = estimator.register_forward_hook(
        lambda _m, args, kwargs, _o: seen.append(kwargs["x"].dtype), with_kwargs=True
    )
    with torch.inference_mode():
        plain = cfm.solve_euler(x, t_span, mu, mask, spks, cond)
        lower_estimator(_s3gen(cfm), "bfloat16", "test")
        lowered = cfm.solve_euler(x, t_span, mu, mask, spks, cond)
    hook.remove()
    assert isinstance(cfm.estimator, AutocastEstimator)
    assert seen == [torch.float32] * 3  # (upstream calls .forward: no hook fires unwrapped) float32 in
    assert lowered.dtype == torch.float32
    assert 1e-4 < _relative(lowered, plain) < 0.03


def test_float32_leaves_the_estimator_and_lowering_happens_once(estimator: torch.nn.Module) -> None:
    s3gen = _s3gen(SimpleNamespace(estimator=estimator))
    assert lower_estimator(s3gen, "float32", "test") is None
    assert s3gen.flow.decoder.estimator is estimator
    wrapper = lower_estimator(s3gen, "bfloat16", "test")
    assert wrapper is s3gen.flow.decoder.estimator and wrapper.inner is estimator
    assert lower_estimator(s3gen, "bfloat16", "test") is None  # a shared S3Gen (voice conversion): once
    assert s3gen.flow.decoder.estimator is wrapper


def test_float16_on_a_cpu_warns_that_it_may_be_slower(
    estimator: torch.nn.Module, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="engines.s3gen_setup"):
        lower_estimator(_s3gen(SimpleNamespace(estimator=estimator)), "float16", "chatterbox")
    assert any(
        "models.s3gen_dtype float16" in r.getMessage() and "slower" in r.getMessage() for r in caplog.records
    )


def test_an_unknown_s3gen_dtype_is_refused_naming_the_setting() -> None:
    from config import load_settings
    from exceptions import ConfigError

    with pytest.raises(ConfigError) as error:
        load_settings(models={"s3gen_dtype": "int8"})
    assert "models.s3gen_dtype" in str(error.value) and "bfloat16" in str(error.value)
