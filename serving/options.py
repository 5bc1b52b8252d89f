"""The Serve application's own configuration: the ``args`` of serve.yaml, validated by pydantic."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from config import Settings

# Engines that share one replica (Chatterbox TTS and VC share S3Gen) and the deployment they run in.
GROUPS: dict[str, tuple[str, ...]] = {
    "chatterbox": ("chatterbox", "chatterbox-vc", "chatterbox-multilingual", "chatterbox-turbo"),
    "piper": ("piper",),
}


class EngineDeployment(BaseModel):
    """Replicas of one engine group: how many (fixed, or autoscaled on queue depth) and what each needs."""

    model_config = ConfigDict(extra="forbid")
    num_replicas: int | None = Field(
        None, ge=1, description="A fixed number of replicas; None: autoscaled between min and max."
    )
    min_replicas: int = Field(1, ge=0)
    max_replicas: int = Field(2, ge=1)
    target_ongoing_requests: float = Field(
        2.0, gt=0, description="Model calls per replica (running and queued) the autoscaler aims for."
    )
    max_ongoing_requests: int = Field(
        8, ge=1, description="Calls one replica holds at once; more wait in the caller's queue."
    )
    max_queued_requests: int = Field(
        64, ge=-1, description="Calls waiting for a replica; past that a 503 with Retry-After. -1: no limit."
    )
    num_cpus: float = Field(1.0, ge=0)
    num_gpus: float | Literal["auto"] = Field(
        0.0,
        description='GPUs per replica; "auto": 1 where the cluster has a GPU when deployed, else 0 (CPU).',
    )

    @field_validator("num_gpus")
    @classmethod
    def _not_negative(cls, value: float | str) -> float | str:
        if not isinstance(value, str) and value < 0:
            raise ValueError("num_gpus must be 0 or more, or auto")
        return value

    def gpus(self, cluster_gpus: float | None) -> float:
        """GPUs per replica: ``num_gpus``, with "auto" resolved against the GPUs the cluster has
        (``cluster_gpus``; None: not known, taken as having one)."""
        if self.num_gpus != "auto":
            return float(self.num_gpus)
        return 1.0 if cluster_gpus is None or cluster_gpus >= 1 else 0.0

    def serve_options(self, cluster_gpus: float | None = None) -> dict[str, Any]:
        """Options for ``Deployment.options`` (``cluster_gpus``: for ``num_gpus: auto``)."""
        scaling: dict[str, Any]
        if self.num_replicas is not None:
            scaling = {"num_replicas": self.num_replicas}
        else:
            scaling = {
                "autoscaling_config": {
                    "min_replicas": self.min_replicas,
                    "max_replicas": self.max_replicas,
                    "target_ongoing_requests": self.target_ongoing_requests,
                }
            }
        return {
            **scaling,
            "max_ongoing_requests": self.max_ongoing_requests,
            "max_queued_requests": self.max_queued_requests,
            "ray_actor_options": {"num_cpus": self.num_cpus, "num_gpus": self.gpus(cluster_gpus)},
        }


def _chatterbox_default() -> EngineDeployment:
    return EngineDeployment(num_gpus="auto", max_ongoing_requests=16, target_ongoing_requests=8.0)


class ServingOptions(BaseModel):
    """What serve.yaml's ``args`` say: the server's config file and one deployment per engine group."""

    model_config = ConfigDict(extra="forbid")
    config_file: str | None = Field(
        None, description="The server's config.yaml ($CHATTERBOX_CONFIG_FILE or config.yaml when unset)."
    )
    overrides: dict[str, Any] = Field(
        default_factory=dict, description="Config sections over the file's, as load_settings takes them."
    )
    project_dir: str | None = Field(
        None,
        description="The checkout every node runs from (same path on every node); None: the current folder.",
    )
    chatterbox: EngineDeployment = Field(default_factory=_chatterbox_default)
    piper: EngineDeployment = Field(default_factory=EngineDeployment)
    ingress_num_cpus: float = Field(0.0, ge=0)
    engine_calls: int = Field(
        32, ge=1, description="Model calls the ingress keeps in flight per engine (across its replicas)."
    )


def group_of(engine: str) -> str | None:
    """The deployment group that runs an engine (None: it stays in the ingress, like a remote)."""
    return next((group for group, names in GROUPS.items() if engine in names), None)


def enabled_groups(settings: Settings) -> dict[str, list[str]]:
    """Each group with at least one enabled engine, and those engines."""
    found: dict[str, list[str]] = {}
    for name in settings.engines.enabled:
        group = group_of(name)
        if group is not None:
            found.setdefault(group, []).append(name)
    return found
