"""T3's weights packed for batched CPU decode steps (engines/t3_packing.py)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from engines.t3_packing import RowsLinear

pytestmark = pytest.mark.skipif(not torch.backends.mkldnn.is_available(), reason="torch without oneDNN")


@pytest.fixture
def linear() -> nn.Linear:
    torch.manual_seed(0)
    return nn.Linear(256, 384)


def test_plain_matmuls_unless_packing_and_a_cpu_decode_step_in_inference_mode(linear: nn.Linear) -> None:
    """Without packing (the default: upstream's kernel, its tokens bitwise), a prefill, or outside
    inference mode: ``F.linear``, and no copy of the weight is made."""
    plain, packing = RowsLinear(linear), RowsLinear(linear, packing=True)
    with torch.inference_mode():
        for rows, x in ((plain, torch.randn(8, 1, 256)), (packing, torch.randn(2, 40, 256))):
            assert torch.equal(rows(x), F.linear(x, linear.weight, linear.bias))
    with torch.no_grad():
        x = torch.randn(8, 1, 256)
        assert torch.equal(packing(x), F.linear(x, linear.weight, linear.bias))
    assert plain.packed_bytes == packing.packed_bytes == 0


BF16 = pytest.param(
    torch.bfloat16,
    marks=pytest.mark.skipif(
        not torch.ops.mkldnn._is_mkldnn_bf16_supported(), reason="a CPU without oneDNN's bf16 kernels"
    ),
)


@pytest.mark.parametrize("dtype", [torch.float32, BF16])
def test_a_batched_step_gives_each_row_the_same_result_whatever_the_others(
    linear: nn.Linear, dtype: torch.dtype
) -> None:
    """fp32, and bf16 (``models.dtype: bfloat16``: oneDNN's bf16 kernels), up to 32 rows."""
    linear = linear.to(dtype)
    rows = RowsLinear(linear, packing=True)
    tolerance = 1e-5 if dtype == torch.float32 else 2e-2
    with torch.inference_mode():
        x = torch.randn(32, 1, 256, dtype=dtype)
        together = rows(x)
        # one copy, made once
        assert rows.packed_bytes == linear.weight.numel() * linear.weight.element_size()
        plain = F.linear(x, linear.weight, linear.bias)
        assert torch.allclose(together, plain, rtol=tolerance, atol=tolerance)
        alone = torch.cat([rows(x[i : i + 1]) for i in range(32)])
        assert torch.equal(alone, together)  # each row alone
        for count in (2, 3, 8, 16):  # the first rows of a batch of any size
            assert torch.equal(rows(x[:count]), together[:count])
        others = x.clone()
        others[4:] = torch.randn(28, 1, 256, dtype=dtype)  # the first four rows beside other sequences
        assert torch.equal(rows(others)[:4], together[:4])


def test_a_cast_model_is_packed_again(linear: nn.Linear) -> None:
    rows = RowsLinear(linear, packing=True)
    with torch.inference_mode():
        rows(torch.randn(4, 1, 256))
        linear.weight = nn.Parameter(torch.randn(384, 256))  # as a cast or a move replaces it
        x = torch.randn(4, 1, 256)
        assert torch.allclose(rows(x), F.linear(x, linear.weight, linear.bias), rtol=1e-5, atol=1e-5)
