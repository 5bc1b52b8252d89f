"""``models.torch_threads``: torch's CPU threads per operator, checked, set at load, and per Ray replica."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import torch

from config import ConfigError, Settings
from engines.device import configure_cpu
from serving.replica import group_settings

PIPER_ONLY = {"enabled": ["piper"], "default": "piper", "fallback": None}


@pytest.fixture
def threads_kept() -> Iterator[int]:
    """torch's thread count as it was, restored after the test (it is process-wide)."""
    before = torch.get_num_threads()
    yield before
    torch.set_num_threads(before)


def test_the_setting_sets_torchs_threads_and_0_leaves_them(
    make_settings: Callable[..., Settings], threads_kept: int
) -> None:
    configure_cpu(make_settings(models={"torch_threads": 0}).models)
    assert torch.get_num_threads() == threads_kept
    configure_cpu(make_settings(models={"torch_threads": 3}).models)
    assert torch.get_num_threads() == 3


@pytest.mark.parametrize("value", [-1, 257])
def test_the_config_refuses_a_thread_count_out_of_range(
    make_settings: Callable[..., Settings], value: int
) -> None:
    with pytest.raises(ConfigError, match=r"models\.torch_threads"):
        make_settings(models={"torch_threads": value})


@pytest.mark.parametrize(("cpus", "threads"), [(1.0, 1), (2.0, 2), (0.5, 1), (None, 0)])
def test_a_replica_gives_torch_one_thread_per_cpu_it_holds(
    make_settings: Callable[..., Settings], cpus: float | None, threads: int
) -> None:
    assert group_settings(make_settings(engines=PIPER_ONLY), ["piper"], cpus).models.torch_threads == threads


def test_torch_threads_set_in_the_config_win_over_the_replica_cpus(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(engines=PIPER_ONLY, models={"torch_threads": 2})
    assert group_settings(settings, ["piper"], 1.0).models.torch_threads == 2
