"""Plus scripts: its admin routes, its config keys, its error fields and its defaults, as its docs call them."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from config import Settings
from tests.support.compat import CLONING, start, tone_wav, upload_voice


@pytest.fixture
def client(make_settings: Callable[..., Settings]) -> Iterator[TestClient]:
    with start(make_settings(engines=CLONING)) as client:
        yield client


def test_errors_recent_and_summary_carry_request_ids(client: TestClient) -> None:
    assert client.get("/api/v1/errors/summary").json()["total_errors"] == 0
    bad = client.post("/api/v1/tts", json={"text": "Hi.", "temperature": 99})
    missing = client.get("/api/v1/voices/nobody.wav")
    assert (bad.status_code, missing.status_code) == (400, 404)
    recent = client.get("/api/v1/errors/recent", params={"count": 10}).json()
    assert recent["total_stored"] == 2
    newest, older = recent["recent_errors"]
    assert newest["request_id"] == missing.headers["x-request-id"] and newest["status"] == 404
    assert older["request_id"] == bad.headers["x-request-id"] and older["param"] == "temperature"
    summary = client.get("/api/v1/errors/summary").json()
    assert summary["total_errors"] == 2
    assert summary["by_severity"] == {"client": 2}
    assert summary["by_category"] == {"invalid_request_error": 1, "not_found_error": 1}
    assert summary["by_operation"]["POST /api/v1/tts"] == 1
    assert summary["unresolved_count"] == 0
    assert len(summary["recent_errors"]) == 2
    too_many = client.get("/api/v1/errors/recent", params={"count": 0})
    assert too_many.status_code == 400 and too_many.json()["error"]["param"] == "count"


def test_metrics_json_counts_requests(client: TestClient) -> None:
    spoken = client.post(
        "/api/v1/tts?response_mode=url", json={"text": "Count me.", "export_formats": ["wav"]}
    )
    assert spoken.status_code == 200, spoken.text
    metrics = client.get("/api/v1/metrics").json()
    assert metrics["performance"]["processing_times"]["count"] == 1
    assert metrics["performance"]["processing_times"]["avg_ms"] >= 0
    assert metrics["performance"]["response_times"]["count"] >= 1
    assert metrics["system"]["memory"]["rss_mb"] > 0
    assert metrics["requests"]["total_requests"] >= 1
    assert client.get("/metrics").headers["content-type"].startswith("text/plain")  # Prometheus stays


def test_config_has_plus_keys(client: TestClient) -> None:
    config = client.get("/api/v1/config").json()
    assert config["tts_defaults"]["temperature"] == 0.8 and config["tts_defaults"]["cfg_weight"] == 0.5
    assert config["tts_defaults"]["disable_watermark"] is False
    assert config["vc_defaults"]["chunk_sec"] == 60
    assert {"wav", "mp3", "flac"} <= set(config["supported_formats"])
    assert config["api_limits"]["max_text_length"] == 10_000
    assert config["generation"]["temperature"] == 0.8  # our own keys stay


def test_plus_error_fields_on_request_or_by_setting(
    client: TestClient, make_settings: Callable[..., Settings]
) -> None:
    plain = client.get("/api/v1/voices/nobody.wav").json()
    assert "success" not in plain and plain["error"]["param"] == "path"
    for answer in (
        client.get("/api/v1/voices/nobody.wav", params={"compat": "plus"}),
        client.get("/api/v1/voices/nobody.wav", headers={"X-Compat": "plus"}),
    ):
        body = answer.json()
        assert answer.status_code == 404
        assert body["success"] is False and body["error_code"] == "RESOURCE_NOT_FOUND"
        assert body["detail"] == body["error"]["message"] and body["timestamp"]
        assert int(answer.headers["content-length"]) == len(answer.content)
    with start(make_settings(engines=CLONING, compat={"error_fields": True})) as always:
        body = always.post("/api/v1/tts", json={"text": ""}).json()
        assert body["success"] is False and body["error_code"] == "VALIDATION_ERROR"
        assert body["error"]["param"] == "text"
        audio = always.post("/v1/audio/speech", json={"input": "Fine.", "response_format": "wav"})
        assert audio.status_code == 200 and audio.content[:4] == b"RIFF"  # answers that are not errors pass


def test_plus_defaults_setting(make_settings: Callable[..., Settings]) -> None:
    with start(make_settings(engines=CLONING, compat={"plus_defaults": True})) as client:
        defaults = client.get("/api/v1/config").json()["tts_defaults"]
        assert (defaults["temperature"], defaults["cfg_weight"], defaults["disable_watermark"]) == (
            0.75,
            1.0,
            True,
        )
        result = client.post(
            "/api/v1/tts?response_mode=url", json={"text": "Defaults.", "export_formats": ["wav"]}
        )
        assert result.status_code == 200, result.text
        record = client.get(
            f"/api/v1/outputs/{result.json()['output_files'][0]['url'].removeprefix('/outputs/')}"
        )
        assert record.status_code == 200, record.text
        parameters = record.json()["metadata"]["parameters"]
        assert parameters["temperature"] == 0.75 and parameters["cfg_weight"] == 1.0
    kept = make_settings(compat={"plus_defaults": True}, generation={"temperature": 0.9})
    assert kept.generation.temperature == 0.9 and kept.generation.cfg_weight == 1.0  # a changed key stays


def test_plus_voice_upload_keeps_the_file_name(client: TestClient) -> None:
    # Plus's documented upload, then its documented follow-ups by file name
    saved = upload_voice(
        client, "my_voice.wav", name="My Custom Voice", description="A custom voice", tags="custom,female"
    )
    assert saved["filename"] == "my_voice.wav" and saved["voice_metadata"]["name"] == "My Custom Voice"
    assert saved["message"] == "Voice 'My Custom Voice' uploaded successfully"
    by_file = client.post(
        "/api/v1/tts?response_mode=url", json={"text": "By file.", "reference_audio_filename": "my_voice.wav"}
    )
    assert by_file.status_code == 200, by_file.text
    by_name = client.post("/v1/audio/speech", json={"input": "By name.", "voice": "My Custom Voice"})
    assert by_name.status_code == 200 and by_name.headers["x-voice-source"] == "library"
    edited = client.put("/api/v1/voice/my_voice.wav/metadata", json={"description": "Edited"})
    assert edited.status_code == 200 and edited.json()["voice_metadata"]["description"] == "Edited"
    assert edited.json()["voice_metadata"]["name"] == "My Custom Voice"
    bad = client.post(
        "/api/v1/voice", data={"name": "../x"}, files={"voice_file": ("v.wav", tone_wav(), "audio/wav")}
    )
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "name"


def test_a_bare_name_in_several_folders_is_a_409_everywhere(client: TestClient) -> None:
    upload_voice(client, "anna.wav", folder_path="books")
    upload_voice(client, "anna.wav", folder_path="ads")
    answers = {
        "tts": client.post("/api/v1/tts", json={"text": "Hi.", "voice": "anna.wav"}),
        "openai": client.post("/v1/audio/speech", json={"input": "Hi.", "voice": "anna"}),
        "vc": client.post(
            "/api/v1/vc", json={"input_audio_source": "x.wav", "target_voice_source": "anna.wav"}
        ),
        "get": client.get("/api/v1/voices/anna.wav"),
        "delete": client.delete("/api/v1/voice/anna.wav", params={"confirm": "true"}),
    }
    for route, answer in answers.items():
        assert answer.status_code == 409, (route, answer.text)
        assert (
            "ads/anna.wav" in answer.json()["error"]["message"]
            and "books/anna.wav" in answer.json()["error"]["message"]
        )
    upload_voice(client, "one.wav", name="Same")
    upload_voice(client, "two.wav", name="Same")
    same = client.post("/api/v1/tts", json={"text": "Hi.", "voice": "Same"})
    assert same.status_code == 409 and "one.wav, two.wav" in same.json()["error"]["message"]


def test_plus_sort_keys_and_limit(client: TestClient) -> None:
    upload_voice(client, "small.wav")
    for text in ("One.", "Two, a little longer."):
        assert (
            client.post(
                "/api/v1/tts?response_mode=url", json={"text": text, "export_formats": ["wav"]}
            ).status_code
            == 200
        )
    outputs = client.get("/api/v1/outputs", params={"sort_by": "file_size", "limit": 1}).json()
    assert outputs["page_size"] == 1 and len(outputs["files"]) == 1
    by_name = client.get("/api/v1/outputs", params={"sort_by": "filename", "sort_order": "asc"}).json()[
        "files"
    ]
    assert [f["filename"] for f in by_name] == sorted(f["filename"] for f in by_name)
    assert client.get("/api/v1/outputs", params={"sort_by": "created_date"}).status_code == 200
    voices = client.get("/api/v1/voices", params={"sort_by": "usage_count", "limit": 5}).json()
    assert voices["page_size"] == 5 and voices["voices"][0]["filename"] == "small.wav"
    for params, field in (
        ({"sort_by": "colour"}, "sort_by"),
        ({"sort_by": "usage_count"}, "sort_by"),  # outputs have no usage count
        ({"limit": 0}, "limit"),
        ({"limit": 5, "page_size": 6}, "limit"),
    ):
        answer = client.get("/api/v1/outputs", params=params)
        assert answer.status_code == 400 and answer.json()["error"]["param"] == field, params
