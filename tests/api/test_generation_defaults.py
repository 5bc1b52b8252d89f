"""A server whose configuration leaves ``generation`` out speaks with the engines' own defaults
(``engines.base.SynthesisParams``, where they are declared once) and says so in ``/api/v1/config``."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pytest
import yaml

from config import CONFIG_FILE_ENV, DEFAULT_CONFIG_FILE
from core.requests import SAMPLING_KEYS
from engines.base import SynthesisParams
from tests.conftest import settings_for
from tests.support.compat import CLONING, start
from tests.support.engines import ToneEngine
from utils.audio import Clip


class HearingEngine(ToneEngine):
    """Keeps the sampling controls each call was given."""

    def __init__(self) -> None:
        super().__init__(clones_voices=True)
        self.heard: list[SynthesisParams] = []

    def synthesize(self, text: str, voice: Path | str | None, params: SynthesisParams) -> Clip:
        self.heard.append(params)
        return super().synthesize(text, voice, params)


def test_without_a_generation_section_requests_get_the_engines_own_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = yaml.safe_load(DEFAULT_CONFIG_FILE.read_text())
    shipped.pop("generation")
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(shipped))
    monkeypatch.setenv(CONFIG_FILE_ENV, str(config))
    settings = settings_for(tmp_path, engines=CLONING)
    own = {key: value for key, value in asdict(SynthesisParams()).items() if key in SAMPLING_KEYS}
    assert settings.generation.model_dump() == own

    engine = HearingEngine()
    with start(settings, {"chatterbox": engine}) as client:
        spoken = client.post("/api/v1/tts", json={"text": "Nothing set.", "export_formats": ["wav"]})
        assert spoken.status_code == 200, spoken.text
        heard = {key: getattr(engine.heard[-1], key) for key in SAMPLING_KEYS}
        assert heard == own
        shown = client.get("/api/v1/config").json()["tts_defaults"]
        assert {key: shown[key] for key in ("exaggeration", "cfg_weight", "temperature")} == {
            key: own[key] for key in ("exaggeration", "cfg_weight", "temperature")
        }
