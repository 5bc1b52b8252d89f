"""The Serve application: ``serve run serve.yaml`` (or ``serve.run(build({...}))``).

``build(args)`` reads the server's config, makes one engine deployment per engine group with
enabled engines (Chatterbox on GPU replicas, Piper on CPU replicas; serving/options.py) and the
ingress deployment: ``main_api.create_app`` (every route and /ui) over a CoreEngine whose engines
are stand-ins calling the replicas (serving/proxy.py).
"""

from __future__ import annotations

import logging
import os
from typing import Any

from ray import serve
from ray.serve import Application

from config import Settings, load_settings
from serving.options import ServingOptions, enabled_groups
from serving.replica import EngineReplica, enter_project

logger = logging.getLogger(__name__)

DEPLOYMENT_NAMES = {"chatterbox": "ChatterboxEngines", "piper": "PiperEngines"}


@serve.deployment(name="Ingress")
@serve.ingress()
class Ingress:
    """The FastAPI app of the single-process server, with engines that live on replicas."""

    def __init__(
        self, settings: Settings, handles: dict[str, Any], options: ServingOptions, root: str
    ) -> None:
        enter_project(root)
        self._settings = settings
        self._handles = handles
        self._options = options

    def __serve_build_asgi_app__(self) -> Any:
        from core_engine import CoreEngine
        from engines.registry import build_engines
        from main_api import create_app
        from serving.health import ClusterHealth
        from serving.options import group_of
        from serving.proxy import proxy_for

        engines = {}
        for name, twin in build_engines(self._settings).items():  # unloaded: their facts only
            group = group_of(name)
            engines[name] = (
                twin
                if group is None  # remote:<name> engines are I/O: called from here as before
                else proxy_for(
                    twin, self._handles[group], DEPLOYMENT_NAMES[group], self._options.engine_calls
                )
            )
        app = create_app(self._settings, engine=CoreEngine(self._settings, engines=engines))
        app.state.cluster_health = ClusterHealth(
            {DEPLOYMENT_NAMES[group]: handle for group, handle in self._handles.items()}
        )
        return app


def cluster_gpus() -> float | None:
    """The GPUs of the Ray cluster this process is connected to; None when it is not connected."""
    import ray

    return float(ray.cluster_resources().get("GPU", 0.0)) if ray.is_initialized() else None


def build(args: dict[str, Any]) -> Application:
    """The application from serve.yaml's ``args`` (serving/options.py)."""
    options = ServingOptions(**args)
    root = os.path.abspath(options.project_dir or os.getcwd())
    enter_project(root)
    settings = load_settings(options.config_file, **options.overrides)
    handles = {}
    gpus = cluster_gpus()
    for group, names in enabled_groups(settings).items():
        deployment = serve.deployment(EngineReplica, name=DEPLOYMENT_NAMES[group])
        wanted = getattr(options, group)
        if wanted.num_gpus == "auto" and wanted.gpus(gpus) == 0:
            logger.warning(
                "%s: the Ray cluster has no GPU, so its replicas run on CPU (num_gpus: auto; "
                "set a number in serve.yaml where GPU nodes join later)",
                DEPLOYMENT_NAMES[group],
            )
        handles[group] = deployment.options(**wanted.serve_options(gpus)).bind(  # type: ignore[attr-defined]
            settings, names, root
        )
    ingress = Ingress.options(ray_actor_options={"num_cpus": options.ingress_num_cpus})  # type: ignore[attr-defined]
    return ingress.bind(settings, handles, options, root)
