"""The browser UI is mounted at /ui when ``ui.enabled`` (the default) and absent otherwise.

(Test settings turn it off; these tests turn it on.)
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from config import Settings, load_settings
from main_api import create_app
from tests.conftest import PIPER_ONLY, wait_until_ready


def test_ui_is_served_at_ui_with_every_tab(make_settings: Callable[..., Settings]) -> None:
    with TestClient(create_app(make_settings(engines=PIPER_ONLY, ui={"enabled": True}))) as client:
        wait_until_ready(client)
        page = client.get("/ui/")
        assert page.status_code == 200
        assert "text/html" in page.headers["content-type"]
        config = client.get("/ui/config").json()
        tabs = [c["props"]["label"] for c in config["components"] if c["type"] == "tabitem"]
        assert tabs == ["Speech", "Voice conversion", "Concatenate", "Outputs", "Voices", "Status"]
        assert client.get("/health").status_code == 200  # the API still answers beside it
        assert client.get("/").json()["endpoints"]["gradio_ui"] == "/ui"


def test_ui_can_be_switched_off(make_settings: Callable[..., Settings]) -> None:
    assert load_settings().ui.enabled  # on by default (config.yaml)
    with TestClient(create_app(make_settings(engines=PIPER_ONLY, ui={"enabled": False}))) as client:
        assert client.get("/ui/").status_code == 404
        assert client.get("/api/v1/models").status_code == 200
        assert "gradio_ui" not in client.get("/").json()["endpoints"]
