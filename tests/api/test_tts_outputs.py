"""Output forms of /api/v1/tts: formats, stream/url modes, projects, post-processing, file serving."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from config import Settings
from core_engine import CoreEngine
from main_api import create_app
from tests.support.engines import ToneEngine
from utils.audio import decode, loudness


@pytest.fixture
def tone_client(make_settings: Callable[..., Settings]) -> Iterator[TestClient]:
    settings = make_settings(engines={"enabled": ["piper"], "default": "piper", "fallback": None})
    engine = CoreEngine(settings, engines={"tone": ToneEngine()})
    with TestClient(create_app(settings, engine=engine)) as client:
        yield client


def tts(client: TestClient, query: str = "", **body: object):  # type: ignore[no-untyped-def]
    response = client.post(f"/api/v1/tts{query}", json={"text": "Anything.", "engine": "tone", **body})
    assert response.status_code == 200, response.text
    return response


def test_every_export_format_decodes_with_the_same_duration(tone_client: TestClient) -> None:
    formats = ["wav", "mp3", "flac", "opus", "aac"]
    body = tts(tone_client, "?response_mode=url", export_formats=formats).json()
    assert [f["format"] for f in body["output_files"]] == formats
    for item in body["output_files"]:
        fetched = tone_client.get(item["url"])
        assert fetched.status_code == 200
        assert decode(fetched.content).duration == pytest.approx(3.0, abs=0.1), item["format"]
    pcm = tts(tone_client, export_formats=["pcm"])
    assert pcm.headers["content-type"] == "audio/pcm" and len(pcm.content) == 2 * 3 * 24000


def test_stream_mode_returns_the_primary_file_and_names_the_others(tone_client: TestClient) -> None:
    response = tts(tone_client, export_formats=["wav", "mp3", "flac"])
    assert response.headers["content-type"] == "audio/wav"
    alternatives = dict(item.split(":", 1) for item in response.headers["x-alternative-formats"].split("|"))
    assert set(alternatives) == {"mp3", "flac"}
    assert tone_client.get(alternatives["mp3"]).headers["content-type"] == "audio/mpeg"
    chosen = tts(tone_client, "?return_format=mp3", export_formats=["wav", "mp3"])
    assert chosen.headers["content-type"] == "audio/mpeg"
    assert 'filename="tts_' in chosen.headers["content-disposition"]
    single = tts(tone_client, export_formats=["flac"])
    assert "x-alternative-formats" not in single.headers


def test_url_mode_answers_plus_json_from_query_or_body(tone_client: TestClient) -> None:
    for query, body in (("?response_mode=url", {}), ("", {"response_mode": "json"})):
        data = tts(tone_client, query, seed=99, **body).json()
        assert data["success"] is True and data["message"] == "TTS generation completed successfully"
        assert data["generation_seed_used"] == 99 and data["engine"] == "tone"
        assert data["duration_seconds"] == pytest.approx(3.0, abs=0.01) and data["sample_rate"] == 24000
        wav = data["output_files"][0]
        assert wav["url"] == f"/outputs/{wav['filename']}" and wav["path"].endswith(wav["filename"])
        assert wav["filename"].startswith("tts_") and "_temp0.8_seed99" in wav["filename"]


@pytest.mark.parametrize(
    ("query", "body", "param"),
    [
        ("?response_mode=carrier-pigeon", {}, "response_mode"),
        ("?return_format=flac", {"export_formats": ["wav"]}, "return_format"),
        ("", {"export_formats": ["wav", "ogg-vorbis"]}, "export_formats"),
        ("", {"export_formats": []}, "export_formats"),
        ("", {"project": "../escape"}, "project"),
        ("", {"project": "a", "folder": "b"}, "folder"),
        ("", {"speed_factor": 3}, "speed_factor"),
        ("", {"trim_threshold_ms": 10}, "trim_threshold_ms"),
    ],
)
def test_bad_output_options_are_400_naming_the_field(
    tone_client: TestClient, query: str, body: dict, param: str
) -> None:
    response = tone_client.post(f"/api/v1/tts{query}", json={"text": "x", "engine": "tone", **body})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == param


def test_projects_nest_and_their_files_are_served(tone_client: TestClient) -> None:
    data = tts(tone_client, "?response_mode=url", project="book/chapter1", export_formats=["wav"]).json()
    item = data["output_files"][0]
    assert item["url"].startswith("/outputs/book/chapter1/tts_")
    outputs = Path(tone_client.app.state.settings.paths.outputs_dir)
    assert (outputs / "book" / "chapter1" / item["filename"]).is_file()
    alias = tts(tone_client, "?response_mode=url", folder="book/chapter2", export_formats=["wav"]).json()
    assert alias["output_files"][0]["url"].startswith("/outputs/book/chapter2/")


def test_trim_removes_the_known_silence(tone_client: TestClient) -> None:
    plain = decode(tts(tone_client, export_formats=["wav"]).content)
    trimmed_response = tts(tone_client, export_formats=["wav"], trim=True, trim_threshold_ms=100)
    trimmed = decode(trimmed_response.content)
    assert plain.duration == pytest.approx(3.0, abs=0.01)
    assert trimmed.duration == pytest.approx(1.1, abs=0.03)  # the tone plus 50 ms at each end
    assert "_trim100" in trimmed_response.headers["content-disposition"]


def test_loudness_normalisation_reaches_the_target(tone_client: TestClient) -> None:
    out = decode(tts(tone_client, export_formats=["wav"], normalize_audio=True, normalize_level=-18).content)
    assert loudness(out) == pytest.approx(-18, abs=0.5)
    peak = decode(
        tts(
            tone_client,
            export_formats=["wav"],
            normalize_audio=True,
            normalize_method="peak",
            normalize_level=-1,
        ).content
    )
    assert float(abs(peak.samples).max()) == pytest.approx(10 ** (-1 / 20), abs=0.01)


def test_the_metadata_sidecar_records_the_recipe(tone_client: TestClient) -> None:
    data = tts(
        tone_client, "?response_mode=url", seed=7, speed_factor=1.5, export_formats=["wav", "mp3"]
    ).json()
    wav = data["output_files"][0]
    record = json.loads(tone_client.get(wav["url"].removesuffix(".wav") + ".json").content)
    assert record["type"] == "tts" and record["engine"] == "tone" and record["text"] == "Anything."
    assert record["parameters"]["seed"] == 7
    assert record["parameters"]["post_processing"]["speed_factor"] == 1.5
    assert record["files"] == {"wav": wav["filename"], "mp3": wav["filename"].replace(".wav", ".mp3")}
    assert record["duration_seconds"] == pytest.approx(2.0, abs=0.02) and record["sample_rate"] == 24000


def test_outputs_support_range_requests_and_downloads(tone_client: TestClient) -> None:
    url = tts(tone_client, "?response_mode=url", export_formats=["wav"]).json()["output_files"][0]["url"]
    part = tone_client.get(url, headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and len(part.content) == 100
    assert "attachment" in tone_client.get(url + "?download=true").headers["content-disposition"]
    assert tone_client.get("/outputs/nothing.wav").status_code == 404
    assert tone_client.get("/outputs/%2e%2e/secret").status_code in (400, 404)


def test_speed_two_about_halves_real_speech(piper_client: TestClient) -> None:
    text = {
        "text": "The quick brown fox jumps over the lazy dog, again and again.",
        "export_formats": ["wav"],
    }
    normal = decode(io.BytesIO(piper_client.post("/api/v1/tts", json=text).content).getvalue())
    fast = piper_client.post("/api/v1/tts", json={**text, "speed_factor": 2.0})
    assert "_speed2.0" in fast.headers["content-disposition"]
    fast_clip = decode(fast.content)
    assert fast_clip.sample_rate == normal.sample_rate
    assert fast_clip.duration / normal.duration == pytest.approx(0.5, abs=0.05)


def test_a_voice_url_is_fetched_for_the_request_then_removed(
    make_settings: Callable[..., Settings], speech_wav: Path
) -> None:
    from tests.support.http_server import serve

    settings = make_settings(
        engines={"enabled": ["piper"], "default": "piper", "fallback": None},
        downloads={"allow_private_addresses": True},
    )
    cloner = ToneEngine(clones_voices=True)
    engine = CoreEngine(settings, engines={"tone": cloner})
    routes = {"/narrator.wav": (200, {}, speech_wav.read_bytes(), 0.0)}
    with serve(routes) as base, TestClient(create_app(settings, engine=engine)) as client:
        ok = client.post(
            "/api/v1/tts", json={"text": "Hi.", "engine": "tone", "voice": f"{base}/narrator.wav"}
        )
        assert ok.status_code == 200, ok.text
        assert len(cloner.voices_heard) == 1
        assert not cloner.voices_heard[0].exists()  # the download was removed after the request
        missing = client.post(
            "/api/v1/tts", json={"text": "Hi.", "engine": "tone", "voice": f"{base}/nobody.wav"}
        )
        assert missing.status_code == 400
        assert (
            missing.json()["error"]["param"] == "voice" and "HTTP 404" in missing.json()["error"]["message"]
        )
    assert list(Path(settings.paths.temp_dir).iterdir()) == []
