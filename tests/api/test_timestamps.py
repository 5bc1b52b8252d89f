"""``timestamps: true``: where each sentence piece is heard, after speed and trim."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from config import Settings
from core_engine import CoreEngine
from main_api import create_app
from tests.conftest import similarity
from tests.support.engines import ToneEngine

THREE = "The first sentence is here. Then comes the second one. And this is the last."


@pytest.fixture
def tone_client(make_settings: Callable[..., Settings]) -> Iterator[TestClient]:
    settings = make_settings(engines={"enabled": ["piper"], "default": "piper", "fallback": None})
    with TestClient(
        create_app(settings, engine=CoreEngine(settings, engines={"tone": ToneEngine()}))
    ) as client:
        yield client


def _tts(client: TestClient, **body: object) -> dict:
    response = client.post(
        "/api/v1/tts?response_mode=json", json={"export_formats": ["wav"], "timestamps": True, **body}
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_each_sentence_gets_its_span_in_the_joined_audio(tone_client: TestClient) -> None:
    # The tone engine speaks every piece as exactly 3 s; pieces overlap by the 20 ms crossfade.
    data = _tts(tone_client, text=THREE, engine="tone")
    spans = [(t["start"], t["end"]) for t in data["timestamps"]]
    assert spans == [(0.0, 3.0), (2.98, 5.98), (5.96, 8.96)]
    assert data["timestamps"][0]["text"] == "the first sentence is here."
    assert data["duration_seconds"] == 8.96


def test_speed_and_trim_move_the_timestamps(tone_client: TestClient) -> None:
    data = _tts(tone_client, text=THREE, engine="tone", speed_factor=2.0, trim=True)
    spans = [(t["start"], t["end"]) for t in data["timestamps"]]
    # At double speed each piece lasts 1.5 s and the seams come every 1.49 s; trim cuts the first
    # 0.5 s of silence to about 50 ms (the stretched tone's onset smears a little earlier).
    shift = 1.49 - spans[1][0]
    assert 0.4 < shift <= 0.45
    end = data["duration_seconds"]  # the last piece's trailing silence was trimmed too
    assert end == pytest.approx(4.48 - shift - 0.45, abs=0.03)
    expected = [(0.0, 1.5 - shift), (1.49 - shift, 2.99 - shift), (2.98 - shift, end)]
    for (start, end), (want_start, want_end) in zip(spans, expected, strict=True):
        assert start == pytest.approx(want_start, abs=0.011)
        assert end == pytest.approx(want_end, abs=0.011)


def test_timestamps_are_kept_in_the_output_metadata(tone_client: TestClient) -> None:
    data = _tts(tone_client, text=THREE, engine="tone")
    path = data["output_files"][0]["filename"]
    metadata = tone_client.get(f"/api/v1/outputs/{path}").json()
    assert metadata["metadata"]["timestamps"] == data["timestamps"]


def test_without_the_flag_there_are_none(tone_client: TestClient) -> None:
    assert _tts(tone_client, text=THREE, engine="tone", timestamps=False)["timestamps"] is None


def test_timestamps_with_auto_editor_is_a_400_naming_the_field(tone_client: TestClient) -> None:
    response = tone_client.post(
        "/api/v1/tts", json={"text": THREE, "engine": "tone", "timestamps": True, "use_auto_editor": True}
    )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "timestamps"


def test_each_span_of_real_speech_holds_its_sentence(
    piper_client: TestClient, transcribe: Callable[[Path], str], tmp_path: Path
) -> None:
    data = _tts(piper_client, text=THREE, to_lowercase=False)
    assert len(data["timestamps"]) == 3
    wav = piper_client.get(data["output_files"][0]["url"]).content
    samples, rate = sf.read(io.BytesIO(wav), dtype="float32")
    for piece in data["timestamps"]:
        part = tmp_path / f"piece{piece['index']}.wav"
        sf.write(str(part), samples[int(piece["start"] * rate) : int(piece["end"] * rate)], rate)
        heard = transcribe(part)
        assert similarity(heard, piece["text"]) > 0.7, (heard, piece["text"])


def test_short_sentences_each_get_their_own_span(
    piper_client: TestClient, transcribe: Callable[[Path], str], tmp_path: Path
) -> None:
    # "Second one." is short enough that synthesis alone would join it to its neighbour; timestamps
    # keep each sentence apart (the README's example).
    data = _tts(piper_client, text="First sentence. Second one.", to_lowercase=False)
    spans = data["timestamps"]
    assert [t["text"] for t in spans] == ["First sentence.", "Second one."]
    assert spans[0]["end"] <= spans[1]["start"] + 0.03 and spans[1]["end"] == data["duration_seconds"]
    wav = piper_client.get(data["output_files"][0]["url"]).content
    samples, rate = sf.read(io.BytesIO(wav), dtype="float32")
    for piece in spans:
        part = tmp_path / f"short{piece['index']}.wav"
        sf.write(str(part), samples[int(piece["start"] * rate) : int(piece["end"] * rate)], rate)
        assert similarity(transcribe(part), piece["text"]) > 0.7


def test_word_timestamps_list_the_texts_words_in_order_inside_the_audio(
    piper_client: TestClient, transcribe: Callable[[Path], str], tmp_path: Path
) -> None:
    text = "The quick brown fox jumps over the lazy dog. Then it runs far away into the green forest."
    data = _tts(piper_client, text=text, to_lowercase=False, timestamps="word")
    words = data["words"]
    assert [w["word"] for w in words] == text.split()
    times = [t for w in words for t in (w["start"], w["end"])]
    assert times == sorted(times) and times[0] >= 0 and times[-1] <= data["duration_seconds"]
    assert all(w["end"] > w["start"] for w in words)
    # each word lies in its sentence's span, and the second sentence's first word starts near it
    first, second = data["timestamps"]
    assert all(first["start"] <= w["start"] and w["end"] <= first["end"] for w in words[:9])
    assert abs(words[9]["start"] - second["start"]) < 0.6
    # The audio from a word's start on says the text from that word on, without the word before
    # ("brown", "into") but with the one after ("jumps", "green"): the times are where it is heard.
    wav = piper_client.get(data["output_files"][0]["url"]).content
    samples, rate = sf.read(io.BytesIO(wav), dtype="float32")
    for k, before, after in ((3, "brown", "jumps"), (15, "into", "green")):
        part = tmp_path / f"from{k}.wav"
        sf.write(str(part), samples[int(words[k]["start"] * rate) :], rate)
        heard = transcribe(part)
        assert similarity(heard, " ".join(text.split()[k:])) > 0.8, (k, heard)
        heard_words = heard.lower().replace(".", " ").replace(",", " ").split()
        assert before not in heard_words and after in heard_words, (k, heard)
    path = data["output_files"][0]["filename"]
    assert piper_client.get(f"/api/v1/outputs/{path}").json()["metadata"]["words"] == words


def test_word_timestamps_with_auto_editor_is_a_400_naming_the_field(tone_client: TestClient) -> None:
    response = tone_client.post(
        "/api/v1/tts", json={"text": THREE, "engine": "tone", "timestamps": "word", "use_auto_editor": True}
    )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "timestamps"


def test_an_unknown_timestamps_mode_is_a_422_naming_the_field(tone_client: TestClient) -> None:
    response = tone_client.post("/api/v1/tts", json={"text": THREE, "engine": "tone", "timestamps": "letter"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == "timestamps" and '"word"' in error["message"]


def test_word_timestamps_without_a_whisper_model_is_a_503_saying_so(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(
        engines={"enabled": ["piper"], "default": "piper", "fallback": None},
        validation={"whisper_model": "not-installed", "allow_download": False},
    )
    with TestClient(
        create_app(settings, engine=CoreEngine(settings, engines={"tone": ToneEngine()}))
    ) as client:
        response = client.post("/api/v1/tts", json={"text": THREE, "engine": "tone", "timestamps": " Word "})
    assert response.status_code == 503
    assert "word timestamps need a Whisper model" in response.json()["error"]["message"]
    assert "not-installed" in response.json()["error"]["message"]
