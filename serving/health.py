"""Every replica in /health: the controller's list of replicas, with each one's own report."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

logger = logging.getLogger(__name__)

PROBE_SECONDS = 2.0  # for all of a deployment's probes
PROBES_PER_REPLICA = 3  # requests are routed by Serve, not addressed: ask a few times to reach each
PROBE_ROUNDS = 4  # rounds of probes for the replicas not reached yet, within PROBE_SECONDS


def replica_names(deployment: str) -> list[str]:
    """The replica ids Ray knows for a deployment (its live, named replica actors)."""
    import ray

    ids = []
    for actor in ray.util.list_named_actors(all_namespaces=True):
        name = actor["name"] if isinstance(actor, dict) else actor
        parts = name.removeprefix("SERVE_REPLICA::").split("#")
        if name.startswith("SERVE_REPLICA::") and len(parts) == 3 and parts[1] == deployment:
            ids.append(parts[2])
    return sorted(ids)


def deployment_status(deployment: str) -> dict[str, Any]:
    """What the Serve controller says of a deployment: its status and replicas by state."""
    from ray import serve

    for app in serve.status().applications.values():
        found = app.deployments.get(deployment)
        if found is not None:
            return {
                "status": str(found.status.value if hasattr(found.status, "value") else found.status),
                "message": found.message or None,
                "replica_states": {
                    str(k.value if hasattr(k, "value") else k): v for k, v in found.replica_states.items()
                },
            }
    return {"status": "UNKNOWN", "message": None, "replica_states": {}}


class ClusterHealth:
    """The ``cluster`` part of the ingress' /health (app.state.cluster_health)."""

    def __init__(self, handles: dict[str, Any]) -> None:
        self._handles = handles  # deployment name -> handle

    async def __call__(self) -> dict[str, Any]:
        found = await asyncio.gather(*(self._one(name, handle) for name, handle in self._handles.items()))
        return {"deployments": dict(zip(self._handles, found, strict=True))}

    async def _one(self, deployment: str, handle: Any) -> dict[str, Any]:
        status, ids = await asyncio.gather(
            asyncio.to_thread(deployment_status, deployment), asyncio.to_thread(replica_names, deployment)
        )
        reports = await self._reports(handle, ids)
        replicas = [reports.get(rid, {"replica": rid, "state": "not reached by this probe"}) for rid in ids]
        return {**status, "replicas": replicas}

    @staticmethod
    async def _reports(handle: Any, ids: list[str]) -> dict[str, dict[str, Any]]:
        """Each replica's own report, by id. Serve routes each probe to a replica of its choosing, so
        one round can miss a replica (two replicas, six probes: missed in a clean CI run): the ones
        not reached are probed again, for a few rounds, until ``PROBE_SECONDS`` have passed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + PROBE_SECONDS
        reports: dict[str, dict[str, Any]] = {}
        wanted = max(len(ids), 1) * PROBES_PER_REPLICA
        for _ in range(PROBE_ROUNDS):
            left = deadline - loop.time()
            if not wanted or left <= 0:
                break
            answers = await asyncio.gather(
                *(asyncio.wait_for(handle.health.remote(), left) for _ in range(wanted)),
                return_exceptions=True,
            )
            reports |= {a["replica"]: a for a in answers if isinstance(a, dict)}
            wanted = sum(rid not in reports for rid in ids) * PROBES_PER_REPLICA
        return reports
