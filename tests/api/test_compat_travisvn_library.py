"""travisvn/chatterbox-tts-api clients: streamed speech with an uploaded voice, and its voice library routes.

Replayed as its README, docs/VOICE_LIBRARY_MANAGEMENT.md and frontend send them: multipart
``/v1/audio/speech/stream/upload`` (``input, voice, exaggeration, cfg_weight, temperature, voice_file``);
``POST /v1/voices`` (``voice_name, voice_file, language``), ``GET/PUT/DELETE /v1/voices/{name}``,
``GET /v1/voices/{name}/download``, ``GET /v1/voices/all-names``; its frontend's default-voice,
alias and cleanup calls (frontend/src/services/tts.ts); the same paths without ``/v1``.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from config import Settings
from engines.base import SynthesisParams
from tests.support.compat import CLONING, start, tone_wav
from tests.support.engines import RATE, ToneEngine
from utils.audio import Clip, decode


@pytest.fixture
def served(make_settings: Callable[..., Settings]) -> Iterator[tuple[TestClient, ToneEngine, Settings]]:
    engine = ToneEngine(clones_voices=True)
    settings = make_settings(engines=CLONING)
    with start(settings, {"chatterbox": engine}) as client:
        yield client, engine, settings


def leftovers(settings: Settings) -> list[Path]:
    temp = Path(settings.paths.temp_dir)
    return [p for p in temp.rglob("*") if p.is_file()] if temp.is_dir() else []


@pytest.mark.parametrize("prefix", ["/v1", ""])
def test_stream_upload_speaks_with_the_sent_file_and_removes_it(
    served: tuple[TestClient, ToneEngine, Settings], prefix: str
) -> None:
    client, engine, settings = served
    form = {"input": "Stream with my file.", "exaggeration": "0.6", "cfg_weight": "0.5", "temperature": "0.8"}
    with client.stream(
        "POST",
        f"{prefix}/audio/speech/stream/upload",
        data=form,
        files={"voice_file": ("me.wav", tone_wav(2.0), "audio/wav")},
    ) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"] == "audio/wav"
        assert "content-length" not in response.headers  # streamed as spoken
        body = response.read()
    clip = decode(body)
    assert clip.sample_rate == RATE and clip.duration == pytest.approx(3.0, abs=0.1)
    heard = engine.voices_heard[-1]
    assert heard.suffix == ".wav" and not heard.exists()  # the upload was used, then removed
    assert leftovers(settings) == []


def test_stream_upload_without_a_file_and_bad_fields(served: tuple[TestClient, ToneEngine, Settings]) -> None:
    client, _, settings = served
    plain = client.post(
        "/v1/audio/speech/stream/upload", data={"input": "No file.", "response_format": "mp3"}
    )
    assert plain.status_code == 200 and plain.headers["content-type"] == "audio/mpeg"
    assert decode(plain.content).duration == pytest.approx(3.0, abs=0.1)
    for form, files, field in (
        ({"input": "Hi.", "response_format": "ogg"}, None, "response_format"),
        ({"input": "Hi.", "temperature": "99"}, None, "temperature"),
        ({"input": "Hi."}, {"voice_file": ("x.wav", b"not audio", "audio/wav")}, "voice_file"),
    ):
        answer = client.post("/v1/audio/speech/stream/upload", data=form, files=files)
        assert answer.status_code == 400 and answer.json()["error"]["param"] == field, answer.text
    assert leftovers(settings) == []


def test_voice_library_upload_use_rename_download_delete(
    served: tuple[TestClient, ToneEngine, Settings],
) -> None:
    client, engine, settings = served
    audio = tone_wav(2.0)
    upload = {"voice_name": "bob", "language": "en"}
    created = client.post("/v1/voices", data=upload, files={"voice_file": ("sample.wav", audio, "audio/wav")})
    assert created.status_code == 201, created.text
    voice = created.json()["voice"]
    assert created.json()["message"] == "Voice uploaded successfully"
    assert (voice["filename"], voice["file_size"], voice["language"]) == ("bob.wav", len(audio), "en")
    assert (Path(settings.paths.voices_dir) / "bob.wav").is_file()

    spoken = client.post("/v1/audio/speech", json={"input": "As Bob.", "voice": "bob"})
    assert spoken.status_code == 200 and spoken.headers["x-voice-source"] == "library"
    assert engine.voices_heard[-1].name == "bob.wav"
    assert client.get("/voices/bob").json()["voice"]["filename"] == "bob.wav"
    downloaded = client.get("/v1/voices/bob/download")
    assert downloaded.content == audio and "attachment" in downloaded.headers["content-disposition"]
    assert client.get("/v1/voices/all-names").json() == {"voice_names": ["bob"], "count": 1}

    taken = client.post("/v1/voices", data=upload, files={"voice_file": ("other.wav", audio, "audio/wav")})
    assert taken.status_code == 409 and taken.json()["error"]["param"] == "voice_name"
    foreign = client.post(
        "/v1/voices", data={"voice_name": "ana", "language": "xx"}, files={"voice_file": ("a.wav", audio)}
    )
    assert foreign.status_code == 400 and foreign.json()["error"]["param"] == "language"

    renamed = client.put("/v1/voices/bob", data={"new_name": "robert"})
    assert renamed.json() == {
        "message": "Voice renamed successfully",
        "old_name": "bob",
        "new_name": "robert",
    }
    assert client.get("/v1/voices/bob").status_code == 404
    again = client.post("/v1/audio/speech", json={"input": "Renamed.", "voice": "robert"})
    assert again.status_code == 200 and engine.voices_heard[-1].name == "robert.wav"

    deleted = client.delete("/voices/robert")
    assert deleted.json() == {"message": "Voice deleted successfully", "voice_name": "robert"}
    assert client.get("/v1/voices").json()["count"] == 0
    assert not (Path(settings.paths.voices_dir) / "robert.wav").exists()
    missing = client.delete("/v1/voices/robert")
    assert missing.status_code == 404 and missing.json()["error"]["param"] == "voice_name"


def test_default_voice_set_used_and_reset(make_settings: Callable[..., Settings]) -> None:
    """Its frontend's calls: FormData ``voice_name`` to POST /voices/default, then DELETE it."""
    engine = ToneEngine(clones_voices=True)
    with start(
        make_settings(engines=CLONING, openai={"fallback_voice": "narrator"}), {"chatterbox": engine}
    ) as client:
        for name in ("narrator", "bob"):
            files = {"voice_file": (f"{name}.wav", tone_wav(2.0), "audio/wav")}
            assert client.post("/v1/voices", data={"voice_name": name}, files=files).status_code == 201
        assert client.get("/v1/voices/default").json() == {
            "default_voice": "narrator",
            "source": "configuration",
        }
        client.post("/v1/audio/speech", json={"input": "Configured."})
        assert engine.voices_heard[-1].name == "narrator.wav"

        chosen = client.post("/voices/default", data={"voice_name": "bob"})
        assert chosen.status_code == 200, chosen.text
        assert chosen.json()["message"] == "Default voice updated successfully"
        assert chosen.json()["voice_info"]["filename"] == "bob.wav"
        shown = client.get("/v1/voices/default").json()
        assert (shown["default_voice"], shown["source"]) == ("bob.wav", "voice_library")
        for body in ({"input": "No voice."}, {"input": "An OpenAI name.", "voice": "alloy"}):
            spoken = client.post("/v1/audio/speech", json=body)
            assert spoken.status_code == 200 and engine.voices_heard[-1].name == "bob.wav", body
        client.put("/v1/voices/bob", data={"new_name": "robert"})  # the mark follows a renamed voice
        assert client.get("/v1/voices/default").json()["default_voice"] == "robert.wav"
        client.post("/v1/audio/speech/upload", data={"input": "Through the upload route."})
        assert engine.voices_heard[-1].name == "robert.wav"

        missing = client.post("/v1/voices/default", data={"voice_name": "nobody"})
        assert missing.status_code == 404 and missing.json()["error"]["param"] == "voice_name"
        reset = client.delete("/v1/voices/default")
        assert reset.json()["default_voice"] == "narrator" and reset.json()["source"] == "configuration"
        client.post("/v1/audio/speech", json={"input": "Back to the configuration."})
        assert engine.voices_heard[-1].name == "narrator.wav"
    with start(make_settings(engines=CLONING)) as client:
        assert client.get("/default-voice").json() == {"default_voice": None, "source": "engine"}


def test_aliases_name_a_voice_everywhere(served: tuple[TestClient, ToneEngine, Settings]) -> None:
    """Its frontend's calls: FormData ``alias`` to POST /voices/{name}/aliases, GET and DELETE them."""
    client, engine, _ = served
    for name in ("bob", "ana"):
        files = {"voice_file": (f"{name}.wav", tone_wav(2.0), "audio/wav")}
        assert client.post("/voices", data={"voice_name": name}, files=files).status_code == 201
    added = client.post("/voices/bob/aliases", data={"alias": "narrator"})
    assert added.status_code == 201, added.text
    assert added.json() == {
        "message": "Alias added successfully",
        "voice_name": "bob",
        "alias": "narrator",
        "aliases": ["narrator"],
    }
    spoken = client.post("/v1/audio/speech", json={"input": "By alias.", "voice": "narrator"})
    assert spoken.status_code == 200 and spoken.headers["x-voice-source"] == "library"
    assert engine.voices_heard[-1].name == "bob.wav"
    assert client.get("/v1/voices/narrator").json()["voice"]["filename"] == "bob.wav"
    assert client.get("/v1/voices/bob/aliases").json() == {
        "voice_name": "bob",
        "aliases": ["narrator"],
        "count": 1,
    }
    listed = {v["filename"]: v["aliases"] for v in client.get("/v1/voices").json()["voices"]}
    assert listed == {"ana.wav": [], "bob.wav": ["narrator"]}
    assert client.get("/v1/voices/all-names").json() == {
        "voice_names": ["ana", "bob", "narrator"],
        "count": 3,
    }

    for voice, alias, status in (
        ("bob", "ana", 409),  # another voice's name
        ("ana", "Narrator", 409),  # bob answers to it already (case ignored)
        ("bob", "a/b", 400),
        ("bob", "what?", 400),
    ):
        answer = client.post(f"/v1/voices/{voice}/aliases", data={"alias": alias})
        assert answer.status_code == status, (alias, answer.text)
        assert answer.json()["error"]["param"] == "alias"
    assert client.get("/v1/voices/nobody/aliases").json()["error"]["param"] == "voice_name"

    removed = client.delete("/v1/voices/bob/aliases/narrator")
    assert removed.json()["aliases"] == [] and removed.json()["message"] == "Alias removed successfully"
    gone = client.post("/v1/audio/speech", json={"input": "Hi.", "voice": "narrator"})
    assert gone.status_code == 400 and gone.json()["error"]["param"] == "voice"
    again = client.delete("/v1/voices/bob/aliases/narrator")
    assert again.status_code == 404 and again.json()["error"]["param"] == "alias"


def test_upload_keeps_its_language_and_rename_errors_name_new_name(
    served: tuple[TestClient, ToneEngine, Settings],
) -> None:
    client, _, settings = served
    files = {"voice_file": ("s.wav", tone_wav(2.0), "audio/wav")}
    assert (
        client.post("/v1/voices", data={"voice_name": "bob", "language": "EN"}, files=files).status_code
        == 201
    )
    record = json.loads((Path(settings.paths.voices_dir) / "bob.wav.json").read_text())
    assert record["language"] == "en"
    assert client.get("/v1/voices/bob").json()["voice"]["language"] == "en"
    files = {"voice_file": ("t.wav", tone_wav(2.0), "audio/wav")}
    assert client.post("/v1/voices", data={"voice_name": "ana"}, files=files).status_code == 201
    for new_name, status in (("ana", 409), ("../up", 400), ("", 400)):
        answer = client.put("/v1/voices/bob", data={"new_name": new_name})
        assert answer.status_code == status, (new_name, answer.text)
        assert answer.json()["error"]["param"] == "new_name"


def test_cleanup_forgets_voices_whose_audio_is_gone(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(engines=CLONING, housekeeping={"on_start": False, "grace_seconds": 0})
    with start(settings) as client:
        for name in ("bob", "ana"):
            files = {"voice_file": (f"{name}.wav", tone_wav(2.0), "audio/wav")}
            assert client.post("/voices", data={"voice_name": name}, files=files).status_code == 201
        voices = Path(settings.paths.voices_dir)
        (voices / "bob.wav").unlink()  # removed behind the server's back: its record stays
        assert (voices / "bob.wav.json").is_file()
        cleaned = client.post("/v1/voices/cleanup")
        assert cleaned.json() == {"message": "Cleanup completed", "removed_voices": ["bob.wav"], "count": 1}
        assert not (voices / "bob.wav.json").exists() and (voices / "ana.wav.json").is_file()
        assert [v["filename"] for v in client.get("/v1/voices").json()["voices"]] == ["ana.wav"]
        assert client.post("/voices/cleanup").json()["count"] == 0


class Bilingual(ToneEngine):
    """A cloning tone engine that speaks English and French and keeps the languages it was asked for."""

    languages = ("en", "fr")

    def __init__(self) -> None:
        super().__init__(clones_voices=True)
        self.asked: list[str | None] = []

    def synthesize(self, text: str, voice: Path | str | None, params: SynthesisParams) -> Clip:
        self.asked.append(params.language)
        return super().synthesize(text, voice, params)


def test_a_voice_speaks_the_language_it_was_uploaded_with(make_settings: Callable[..., Settings]) -> None:
    engine = Bilingual()
    with start(make_settings(engines=CLONING), {"chatterbox": engine}) as client:
        files = {"voice_file": ("m.wav", tone_wav(2.0), "audio/wav")}
        assert (
            client.post("/v1/voices", data={"voice_name": "marie", "language": "fr"}, files=files).status_code
            == 201
        )
        assert (
            client.post("/v1/audio/speech", json={"input": "Bonjour.", "voice": "marie"}).status_code == 200
        )
        assert engine.asked[-1] == "fr"
        client.post("/v1/audio/speech/upload", data={"input": "Bonjour.", "voice": "marie"})
        assert engine.asked[-1] == "fr"
        client.post("/v1/audio/speech", json={"input": "Hello.", "voice": "marie", "language": "en"})
        assert engine.asked[-1] == "en"  # a language sent wins
        client.post("/v1/audio/speech", json={"input": "Hello."})
        assert engine.asked[-1] == "en"  # no voice: the engine's default


def _zip_of(name: str, audio: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, audio)
    return buffer.getvalue()


@pytest.mark.parametrize("route", ["/api/v1/voice", "/api/v1/voices", "/api/v1/voices/import"])
def test_a_voice_whose_audio_is_replaced_keeps_its_aliases_default_mark_and_language(
    served: tuple[TestClient, ToneEngine, Settings], route: str
) -> None:
    """A user re-uploads bob.wav with overwrite: the new audio speaks, under the names and mark bob had."""
    client, engine, settings = served
    files = {"voice_file": ("s.wav", tone_wav(2.0), "audio/wav")}
    assert (
        client.post("/v1/voices", data={"voice_name": "bob", "language": "en"}, files=files).status_code
        == 201
    )
    assert client.post("/v1/voices/bob/aliases", data={"alias": "narrator"}).status_code == 201
    assert client.post("/v1/voices/default", data={"voice_name": "bob"}).status_code == 200

    new_audio = tone_wav(3.0)
    if route == "/api/v1/voices/import":
        sent = {"archive": ("voices.zip", _zip_of("bob.wav", new_audio), "application/zip")}
    else:
        field = "voice_file" if route == "/api/v1/voice" else "voice_files"
        sent = {field: ("bob.wav", new_audio, "audio/wav")}
    replaced = client.post(route, data={"overwrite": "true"}, files=sent)
    assert replaced.status_code == 200, replaced.text

    assert client.get("/v1/voices/bob/download").content == new_audio
    assert client.get("/v1/voices/bob/aliases").json()["aliases"] == ["narrator"]
    assert client.get("/v1/voices/default").json()["default_voice"] == "bob.wav"
    assert client.get("/v1/voices/bob").json()["voice"]["language"] == "en"
    for body in ({"input": "No voice."}, {"input": "By alias.", "voice": "narrator"}):
        spoken = client.post("/v1/audio/speech", json=body)
        assert spoken.status_code == 200, spoken.text
        assert engine.voices_heard[-1].name == "bob.wav"
        assert decode(engine.voices_heard[-1], param="voice").duration == pytest.approx(3.0, abs=0.01)
    record = json.loads((Path(settings.paths.voices_dir) / "bob.wav.json").read_text())
    assert record["duration_seconds"] == pytest.approx(3.0, abs=0.01)  # the record is the new audio's
