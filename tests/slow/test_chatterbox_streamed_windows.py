"""``stream: true`` with our T3 loop: S3Gen vocodes windows while T3 still decodes the chunk.

The real chatterbox modules on random weights (they never stop: every chunk decodes its whole
budget), through the HTTP route: the first audio goes out before T3 has finished the chunk, the
streamed audio has the length of the non-streamed one for the same seed and no seam at its window
joins, and the saved file is the non-streamed generation itself.
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

from engines import chatterbox
from engines.s3gen_stream import FIRST_WINDOW
from tests.support.chatterbox_app import chatterbox_client
from utils.audio import decode

pytestmark = pytest.mark.slow

MAX_TOKENS = 96  # 3.84 s of audio per chunk
BODY = {"text": "Hello there.", "seed": 5, "export_formats": ["wav"], "disable_watermark": True}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, speech_wav: Path) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("windows")
    models = {"max_new_tokens": MAX_TOKENS, "t3_loop": "own", "t3_batch_size": 2}
    with chatterbox_client(root, speech_wav, **models) as test_client:
        yield test_client
    shutil.rmtree(root, ignore_errors=True)


def _wav(data: bytes) -> np.ndarray:
    samples, rate = sf.read(io.BytesIO(data), dtype="float32")
    assert rate == 24_000 and samples.size > 0 and np.isfinite(samples).all()
    return samples


def test_stream_starts_before_t3_ends_and_sounds_like_the_whole(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = client.post("/api/v1/tts", json=BODY)
    assert plain.status_code == 200, plain.text
    whole = _wav(plain.content)
    # Random weights never stop: the chunk ends at its budget, and the response says so.
    assert (
        "chunk 1: speech reached the token budget (models.max_new_tokens=96)" in plain.headers["x-warnings"]
    )
    windows: list[tuple[int, int]] = []  # per streamed window: tokens T3 had decoded, samples sent by then
    vocode_while_decoding = chatterbox.vocode_while_decoding
    monkeypatch.setattr(
        chatterbox, "vocode_while_decoding", lambda *args: vocode_while_decoding(*args, log=windows)
    )

    response = client.post("/api/v1/tts", json={**BODY, "stream": True, "project": "live"})
    assert response.status_code == 200, response.text
    streamed = _wav(response.content)

    assert windows, "no window was streamed"
    tokens_then, _ = windows[0]
    # The first audio went out at the first window, T3 paused while it was vocoded (not at a later check).
    assert tokens_then <= FIRST_WINDOW + 4 < MAX_TOKENS
    assert streamed.size == whole.size  # the same duration as the non-streamed take (same seed)
    # No seam: at each join of two windows the step between samples is no larger than the audio's own.
    biggest = np.abs(np.diff(whole)).max()
    for _, joined_at in windows:
        step = abs(float(streamed[joined_at]) - float(streamed[joined_at - 1]))
        assert step <= biggest, (joined_at, step, biggest)
    # The windows sound like the whole: mostly the same signal, not another take.
    assert np.corrcoef(streamed, whole)[0, 1] > 0.5
    # The saved file is the whole chunk vocoded once: the non-streamed generation itself.
    outputs = Path(client.app.state.settings.paths.outputs_dir) / "live"
    saved = decode(next(outputs.glob("*.wav")))
    np.testing.assert_allclose(saved.samples, whole, atol=1e-4)
