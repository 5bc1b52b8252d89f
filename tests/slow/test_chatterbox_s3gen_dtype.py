"""``models.s3gen_dtype: bfloat16`` through the server: the real chatterbox modules (random weights,
S3Gen at full size). TTS and voice conversion (which shares S3Gen) both vocode with the estimator
under autocast; the audio keeps float32's length and stays close to it, without being float32's.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from tests.support.chatterbox_app import client_with_voices, speak

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, speech_wav: Path) -> Iterator[TestClient]:
    models = {
        "engines": ("chatterbox", "chatterbox-vc"),
        "max_new_tokens": 16,  # random weights never stop: every request decodes its full budget
        "s3gen_dtype": "bfloat16",
    }
    with client_with_voices(tmp_path_factory, speech_wav, 1, **models) as test_client:
        vc_inputs = Path(test_client.app.state.settings.paths.vc_inputs_dir)
        vc_inputs.mkdir(parents=True, exist_ok=True)
        shutil.copy(speech_wav, vc_inputs / "line.wav")
        yield test_client


def test_tts_vocodes_under_bf16_autocast_close_to_float32(client: TestClient) -> None:
    import torch

    from engines.s3gen_setup import AutocastEstimator

    engine = client.app.state.engine.engines.engine("chatterbox")
    cfm = engine.model.s3gen.flow.decoder
    assert isinstance(cfm.estimator, AutocastEstimator) and cfm.estimator.lowered == torch.bfloat16
    assert next(engine.model.s3gen.parameters()).dtype == torch.float32  # weights stay float32
    lowered = speak(client, "v0", 7)
    wrapper, cfm.estimator = cfm.estimator, cfm.estimator.inner  # the same request vocoded at float32
    try:
        plain = speak(client, "v0", 7)
    finally:
        cfm.estimator = wrapper
    assert lowered.shape == plain.shape  # the same tokens, the same length
    assert not np.array_equal(lowered, plain)
    error = float(np.linalg.norm(lowered - plain) / np.linalg.norm(plain))
    assert error < 0.02, error


def test_voice_conversion_shares_the_lowered_s3gen(client: TestClient, speech_wav: Path) -> None:
    from engines.s3gen_setup import AutocastEstimator

    vc = client.app.state.engine.engines.engine("chatterbox-vc")
    assert isinstance(vc._s3gen.flow.decoder.estimator, AutocastEstimator)
    response = client.post("/api/v1/vc", json={"input_audio_source": "line.wav", "target_voice_source": "v0"})
    assert response.status_code == 200, response.text
    samples, rate = sf.read(io.BytesIO(response.content), dtype="float32")
    assert rate == 24_000 and np.isfinite(samples).all() and np.abs(samples).max() > 1e-4
    assert abs(len(samples) / rate - sf.info(str(speech_wav)).duration) < 0.5
