"""``openai.save_outputs``: the OpenAI route's results are saved in outputs/ only when asked."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from config import Settings
from main_api import create_app
from tests.conftest import PIPER_ONLY, wait_until_ready
from utils.audio import decode


@pytest.mark.parametrize("save", [True, False])
def test_openai_results_are_saved_when_configured(make_settings: Callable[..., Settings], save: bool) -> None:
    settings = make_settings(engines=PIPER_ONLY, openai={"save_outputs": save})
    with TestClient(create_app(settings)) as client:
        wait_until_ready(client)
        body = {"model": "tts-1", "voice": "alloy", "input": "Saved for later.", "response_format": "mp3"}
        spoken = client.post("/v1/audio/speech", json=body)
        assert spoken.status_code == 200 and len(spoken.content) > 1000
        files = client.get("/api/v1/outputs").json()["files"]
    if not save:
        assert files == []
        return
    assert [item["format"] for item in files] == ["mp3"]  # the format the client asked for
    assert files[0]["text"] == "Saved for later." and files[0]["metadata"]["engine"] == "piper"
    saved = settings.paths.outputs_dir / files[0]["path"]
    assert decode(saved).duration > 0.5
