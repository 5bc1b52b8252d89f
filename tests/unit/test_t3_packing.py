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


def test_a_batched_step_gives_each_row_the_same_result_whatever_the_others(linear: nn.Linear) -> None:
    rows = RowsLinear(linear, packing=True)
    with torch.inference_mode():
        x = torch.randn(8, 1, 256)
        together = rows(x)
        assert rows.packed_bytes == linear.weight.numel() * 4  # one fp32 copy, made once
        assert torch.allclose(together, F.linear(x, linear.weight, linear.bias), rtol=1e-5, atol=1e-5)
        halves = torch.cat([rows(x[:4]), rows(x[4:])])
        assert torch.equal(torch.cat([rows(x[i : i + 1]) for i in range(8)]), together)  # each row alone
        others = x.clone()
        others[4:] = torch.randn(4, 1, 256)  # the first four rows beside other sequences
        assert torch.equal(together, halves)
        assert torch.equal(rows(others)[:4], together[:4])


def test_a_cast_model_is_packed_again(linear: nn.Linear) -> None:
    rows = RowsLinear(linear, packing=True)
    with torch.inference_mode():
        rows(torch.randn(4, 1, 256))
        linear.weight = nn.Parameter(torch.randn(384, 256))  # as a cast or a move replaces it
        x = torch.randn(4, 1, 256)
        assert torch.allclose(rows(x), F.linear(x, linear.weight, linear.bias), rtol=1e-5, atol=1e-5)
