"""A finished app lets go of its engine and models: nothing of ours keeps them alive."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable

from fastapi.testclient import TestClient

from config import Settings
from main_api import create_app
from tests.conftest import PIPER_ONLY, forget_finished_apps, wait_until_ready


def test_a_finished_app_and_its_engine_are_freed(make_settings: Callable[..., Settings]) -> None:
    app = create_app(make_settings(engines=PIPER_ONLY))
    with TestClient(app) as client:
        wait_until_ready(client)
        response = client.post("/api/v1/tts", json={"text": "Hello there.", "export_formats": ["wav"]})
        assert response.status_code == 200
        engine = weakref.ref(app.state.engine)
    freed_app = weakref.ref(app)
    del app, client, response
    assert forget_finished_apps()  # FastAPI's own caches held the endpoints (the suite clears them)
    gc.collect()
    assert freed_app() is None, "something still holds the finished app"
    assert engine() is None, "something still holds the finished app's engine"
