"""The memory budget through the API: /api/v1/engines and /api/v1/resources show it, and evictions."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from config import Settings
from core_engine import CoreEngine
from engines.memory import MB
from engines.piper import PiperEngine
from main_api import create_app
from tests.conftest import PIPER_ONLY, wait_until_ready
from tests.support.engines import ToneEngine


class HeavyTone(ToneEngine):
    """The tone engine, holding 100 MB of (pretend) weights while loaded."""

    def memory_bytes(self) -> int:
        return 100 * MB if self.loaded else 0

    def estimated_bytes(self) -> int:
        return 100 * MB


def test_engines_and_resources_show_the_budget_and_the_least_recently_used_engine_unloaded(
    make_settings: Callable[..., Settings],
) -> None:
    # Piper's bundled voice is a 60 MB model: Piper and the tone engine do not fit in 120 MB together.
    settings = make_settings(engines=PIPER_ONLY, models={"memory_budget_mb": 120})
    core = CoreEngine(settings, engines={"piper": PiperEngine(settings.piper), "tone": HeavyTone()})
    with TestClient(create_app(settings, engine=core)) as client:
        wait_until_ready(client)

        def engines() -> tuple[dict[str, str], dict]:
            body = client.get("/api/v1/engines").json()
            return {e["name"]: e["state"] for e in body["engines"]}, body["memory"]

        state, memory = engines()
        assert state == {"piper": "loaded", "tone": "unloaded"}  # it did not fit at start: loads on first use
        assert memory["budget_mb"] == 120 and 55 < memory["engines"]["piper"] < 65

        spoken = client.post("/api/v1/tts", json={"text": "Tone, please.", "engine": "tone"})
        assert spoken.status_code == 200 and spoken.headers["x-engine"] == "tone"
        state, memory = engines()
        assert state == {"piper": "unloaded", "tone": "loaded"}
        assert memory["engines"] == {"piper": 0, "tone": 100} and memory["resident_mb"] == 100
        assert memory["warning"] is None

        resources = client.get("/api/v1/resources").json()["engine_memory"]
        assert resources["budget_mb"] == 120 and resources["engines"]["tone"] == 100

        assert client.post("/api/v1/tts", json={"text": "Piper again."}).status_code == 200
        state, memory = engines()
        assert state == {"piper": "loaded", "tone": "unloaded"}
        assert memory["engines"]["tone"] == 0 and 55 < memory["resident_mb"] < 65
        details = {e["name"]: e["details"] for e in client.get("/api/v1/engines").json()["engines"]}
        assert details["tone"]["resident_mb"] == 0 and details["piper"]["resident_mb"] > 55


def test_an_engine_larger_than_the_budget_is_served_and_the_warning_is_shown(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(engines=PIPER_ONLY, models={"memory_budget_mb": 50, "load_on_startup": False})
    core = CoreEngine(settings, engines={"tone": HeavyTone()})
    with TestClient(create_app(settings, engine=core)) as client:
        assert client.post("/api/v1/tts", json={"text": "Big.", "engine": "tone"}).status_code == 200
        memory = client.get("/api/v1/engines").json()["memory"]
        assert "engine tone holds 100 MB, more than the 50 MB memory budget" in memory["warning"]
        warnings = client.get("/api/v1/resources").json()["warnings"]
        assert any("more than the 50 MB memory budget" in w for w in warnings)
