"""serve.yaml's engine deployment options (serving/options.py): ``num_gpus: auto``."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from serving.options import EngineDeployment, ServingOptions


def test_chatterbox_takes_a_gpu_where_the_cluster_has_one_and_runs_on_cpu_where_it_has_none() -> None:
    chatterbox = ServingOptions().chatterbox
    assert chatterbox.num_gpus == "auto"
    assert chatterbox.serve_options(cluster_gpus=2.0)["ray_actor_options"]["num_gpus"] == 1.0
    assert chatterbox.serve_options(cluster_gpus=0.0)["ray_actor_options"]["num_gpus"] == 0.0
    assert chatterbox.gpus(None) == 1.0  # not connected to a cluster: as before auto, one GPU


def test_a_number_of_gpus_is_kept_whatever_the_cluster_has() -> None:
    options = ServingOptions(chatterbox={"num_gpus": 1}, piper={"num_gpus": 0.5})
    assert options.chatterbox.serve_options(cluster_gpus=0.0)["ray_actor_options"]["num_gpus"] == 1.0
    assert options.piper.gpus(4.0) == 0.5
    assert ServingOptions().piper.gpus(4.0) == 0.0  # Piper's default: CPU replicas


@pytest.mark.parametrize("value", [-1, "many"])
def test_num_gpus_is_a_number_of_zero_or_more_or_auto(value: object) -> None:
    with pytest.raises(ValidationError, match="num_gpus"):
        EngineDeployment(num_gpus=value)  # type: ignore[arg-type]
