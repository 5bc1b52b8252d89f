"""The real chatterbox-tts modules, loaded from a random-weight checkpoint, driven over HTTP.

Random weights make noise, not speech: these tests prove the loading and generation path
(files, shapes, sample rate, conditioning, seeding), not voice quality.
"""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from monitoring.logs import request_id_var
from tests.support.chatterbox_app import chatterbox_client, record_t3_calls

pytestmark = pytest.mark.slow

MAX_TOKENS = 25  # random weights never emit the stop token; 25 tokens = 1 s of audio


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, speech_wav: Path) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("chatterbox")
    for folder in ("voices", "vc_inputs"):
        (root / folder).mkdir()
    shutil.copy(speech_wav, root / "vc_inputs" / "line.wav")
    # The checkpoint's built-in voice may have been made from speech_wav itself: the narrator must
    # differ from it, or "the voice mattered" could not be told apart. The clip reversed will do.
    samples, rate = sf.read(str(speech_wav), dtype="float32")
    sf.write(str(root / "voices" / "narrator.wav"), samples[::-1], rate)
    with chatterbox_client(
        root,
        speech_wav,
        engines=("chatterbox", "chatterbox-vc"),
        max_new_tokens=MAX_TOKENS,
        conditionals_cache_dir=str(root / "cache"),
    ) as test_client:
        health = test_client.get("/health").json()
        assert health["models_loaded"] == {"tts": True, "vc": True}
        yield test_client


def _audio(response) -> tuple[np.ndarray, int]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "audio/wav"
    samples, rate = sf.read(io.BytesIO(response.content), dtype="float32")
    assert samples.size > 0 and np.isfinite(samples).all()
    assert np.abs(samples).max() > 1e-4  # not silence
    return samples, rate


def test_builtin_voice_gives_24khz_audio_even_with_cfg_weight_zero(client: TestClient) -> None:
    response = client.post("/api/v1/tts", json={"text": "Hello there.", "cfg_weight": 0})
    samples, rate = _audio(response)
    assert rate == 24000
    assert response.headers["x-engine"] == "chatterbox"
    assert 0.3 < len(samples) / rate <= MAX_TOKENS / 25 + 0.2


def test_a_cloned_voice_never_leaks_into_the_builtin_voice_and_seeds_repeat(client: TestClient) -> None:
    first = client.post("/api/v1/tts", json={"text": "Hello there.", "seed": 5})
    cloned = client.post("/api/v1/tts", json={"text": "Hello there.", "seed": 5, "voice": "narrator"})
    again = client.post("/api/v1/tts", json={"text": "Hello there.", "seed": 5})
    builtin, _ = _audio(first)
    narrator, rate = _audio(cloned)
    assert rate == 24000
    assert np.array_equal(builtin, _audio(again)[0])  # same seed, same voice: same audio
    assert not np.array_equal(builtin[: len(narrator)], narrator[: len(builtin)])  # the voice mattered


def test_voice_conversion_keeps_the_length_of_the_source(client: TestClient, speech_wav: Path) -> None:
    response = client.post(
        "/api/v1/vc", json={"input_audio_source": "line.wav", "target_voice_source": "narrator"}
    )
    samples, rate = _audio(response)
    assert rate == 24000
    assert response.headers["x-engine"] == "chatterbox-vc"
    assert abs(len(samples) / rate - sf.info(str(speech_wav)).duration) < 0.5


def test_vc_with_missing_input_is_404_naming_the_field(client: TestClient) -> None:
    response = client.post("/api/v1/vc", json={"input_audio_source": "absent.wav"})
    assert response.status_code == 404
    assert response.json()["error"]["param"] == "input_audio_source"


def test_vc_takes_uploads_and_keeps_the_input_in_its_project(client: TestClient, speech_wav: Path) -> None:
    audio = speech_wav.read_bytes()
    response = client.post(
        "/api/v1/vc?response_mode=url",
        data={"project": "book", "export_formats": "wav", "seed": "3"},
        files={
            "input_audio": ("line two.wav", audio, "audio/wav"),
            "target_voice": ("t.wav", audio, "audio/wav"),
        },
    )
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["sample_rate"] == 24000 and data["output_files"][0]["url"].startswith("/outputs/book/vc_")
    kept = Path(client.app.state.settings.paths.vc_inputs_dir) / "book" / "line two.wav"
    assert kept.read_bytes() == audio
    assert list(Path(client.app.state.settings.paths.temp_dir).glob("*")) == []


def test_a_long_input_is_converted_in_overlapping_windows(client: TestClient, speech_wav: Path) -> None:
    from utils.audio import decode, windows

    body = {"input_audio_source": "line.wav", "chunk_sec": 2, "overlap_sec": 0.1, "export_formats": ["wav"]}
    data = client.post("/api/v1/vc?response_mode=url", json=body).json()
    source = decode(speech_wav)
    assert len(data["chunks"]) == len(windows(source, 2, 0.1)) >= 2
    assert "_chunk2" in data["output_files"][0]["filename"]
    assert abs(data["duration_seconds"] - source.duration) < 0.3


def test_every_sampling_control_reaches_the_model(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = client.app.state.engine.engines.engine("chatterbox")
    seen = record_t3_calls(monkeypatch, engine)  # random weights: watch what T3 receives
    controls = {"exaggeration": 1.5, "cfg_weight": 0.3, "temperature": 1.6, "repetition_penalty": 1.7}
    controls |= {"min_p": 0.1, "top_p": 0.9}
    _audio(client.post("/api/v1/tts", json={"text": "Hello there.", "export_formats": ["wav"], **controls}))
    (call,) = seen
    assert float(call["t3_cond"].emotion_adv.flatten()[0]) == pytest.approx(1.5)
    for key in ("cfg_weight", "temperature", "repetition_penalty", "min_p", "top_p"):
        assert call[key] == pytest.approx(controls[key]), key
    assert call["max_new_tokens"] == MAX_TOKENS


def test_openai_route_streams_chatterbox_with_library_voices_and_seeds(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def speak(**body: object) -> bytes:
        response = client.post(
            "/v1/audio/speech",
            json={"model": "tts-1", "input": "Hello there.", "response_format": "pcm", **body},
        )
        assert response.status_code == 200, response.text
        assert response.headers["x-engine"] == "chatterbox"
        return response.content

    builtin = speak(voice="alloy", seed=9)  # an OpenAI name with no alias: the built-in voice
    assert 0.3 < len(builtin) / 2 / 24000 <= MAX_TOKENS / 25 + 0.2  # pcm at Chatterbox's 24 kHz
    assert speak(voice="alloy", seed=9) == builtin  # same seed, same audio
    narrator = speak(voice="narrator", seed=9)  # a voice from voices/
    assert narrator != builtin
    engine = client.app.state.engine.engines.engine("chatterbox")
    seen = record_t3_calls(monkeypatch, engine)  # random weights: watch what T3 receives
    speak(voice="alloy", seed=9)
    speak(voice="alloy", seed=9, instructions="Say it excitedly!")
    plain, excited = seen
    assert float(excited["t3_cond"].emotion_adv.flatten()[0]) > float(
        plain["t3_cond"].emotion_adv.flatten()[0]
    )
    assert excited["cfg_weight"] < plain["cfg_weight"]


def _voice_cache(client: TestClient) -> dict[str, int]:
    engines = client.get("/api/v1/models").json()["engines"]
    return next(e for e in engines if e["name"] == "chatterbox")["voice_cache"]


def test_a_voice_is_conditioned_once_until_its_file_changes(client: TestClient, speech_wav: Path) -> None:
    settings = client.app.state.settings
    samples, rate = sf.read(str(speech_wav), dtype="float32")
    voice = Path(settings.paths.voices_dir) / "cached.wav"
    sf.write(str(voice), samples[::-1] * 0.5, rate)

    def speak(**body: object) -> None:
        _audio(
            client.post(
                "/api/v1/tts", json={"text": "Hi.", "voice": "cached", "export_formats": ["wav"], **body}
            )
        )

    before = _voice_cache(client)
    speak(exaggeration=0.3)
    first = _voice_cache(client)
    assert first["misses"] == before["misses"] + 1
    speak(exaggeration=1.4)  # a new exaggeration is applied per request: no conditioning work
    second = _voice_cache(client)
    assert (second["misses"], second["hits"]) == (first["misses"], first["hits"] + 1)
    assert second["bytes"] > 0
    saved = list(Path(settings.models.conditionals_cache_dir).glob("chatterbox-*.pt"))
    assert saved  # on disk for the next start

    sf.write(str(voice), samples[::-1] * 0.25, rate)  # the user re-records the voice
    speak()
    assert _voice_cache(client)["misses"] == first["misses"] + 1

    # ... and uploads the new take over it: the same size and, on a coarse clock, the same time
    before = voice.stat()
    take = io.BytesIO()
    sf.write(take, samples[::-1] * 0.125, rate, format="WAV", subtype="PCM_16")
    files = {"voice_file": ("cached.wav", take.getvalue(), "audio/wav")}
    replaced = client.post("/api/v1/voice", data={"overwrite": "true"}, files=files)
    assert replaced.status_code == 200, replaced.text
    assert voice.stat().st_size == before.st_size
    os.utime(voice, ns=(before.st_atime_ns, before.st_mtime_ns))
    speak()
    assert _voice_cache(client)["misses"] == first["misses"] + 2  # never the old take's conditionals


def test_fifty_concurrent_requests_each_use_their_own_voice(
    client: TestClient, speech_wav: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = client.app.state.settings
    engine = client.app.state.engine.engines.engine("chatterbox")
    short = engine._settings.model_copy(update={"max_new_tokens": 5})  # 0.2 s each: the voices are the point
    monkeypatch.setattr(engine, "_settings", short)
    samples, rate = sf.read(str(speech_wav), dtype="float32")
    voices = {}
    for i in range(5):  # five distinct 2 s recordings: slices of the clip at different gains
        path = Path(settings.paths.voices_dir) / f"crowd{i}.wav"
        sf.write(str(path), samples[i * 4000 : i * 4000 + 2 * rate] * (0.3 + 0.1 * i), rate)
        voices[f"crowd{i}"] = path
    names = list(voices)
    # Which conditionals each call used, by request id: the engine's own lookup, observed from outside.
    used: dict[str, set[str]] = {}
    lookup = engine._conditionals

    def recording(voice: Path | None) -> tuple[str, object]:
        key, conds = lookup(voice)
        request_id = request_id_var.get()
        if request_id and request_id.startswith("crowd-"):
            used.setdefault(request_id, set()).add(key)
        return key, conds

    monkeypatch.setattr(engine, "_conditionals", recording)

    def speak(n: int) -> int:
        body = {"text": "Hi there.", "voice": names[n % 5], "seed": n + 1, "export_formats": ["wav"]}
        response = client.post("/api/v1/tts", json=body, headers={"X-Request-ID": f"crowd-{n}"})
        return response.status_code

    with ThreadPoolExecutor(50) as pool:
        assert list(pool.map(speak, range(50))) == [200] * 50

    expected = {name: engine.prepare_voice(path) for name, path in voices.items()}
    assert len(set(expected.values())) == 5
    assert len(used) == 50
    for n in range(50):
        assert used[f"crowd-{n}"] == {expected[names[n % 5]]}, n


def _live_tensors() -> int:
    import gc

    import torch

    gc.collect()
    return sum(1 for o in gc.get_objects() if issubclass(type(o), torch.Tensor))


def test_speech_and_conversion_leave_no_tensors_behind(client: TestClient) -> None:
    """A generation must free everything it made: the watermark once ran outside inference mode and
    each request left its autograd graph alive (16 tensors, about 2 MB a request, without end)."""

    def work(seed: int) -> None:
        marked = {"seed": seed, "disable_watermark": False}
        _audio(client.post("/api/v1/tts", json={"text": "Hi.", "export_formats": ["wav"], **marked}))
        conversion = {"input_audio_source": "line.wav", "target_voice_source": "narrator", **marked}
        _audio(client.post("/api/v1/vc", json=conversion))

    work(1)  # the first of each loads and caches what stays (voices, windows, buffers)
    before = _live_tensors()
    for seed in range(2, 5):
        work(seed)
    assert _live_tensors() - before <= 2  # what 3 more of each left alive


def test_a_voice_blend_mixes_the_speaker_embeddings(
    client: TestClient, speech_wav: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kokoro's ``a(3)+b(1)``: T3 and S3Gen get 3/4 of one speaker embedding and 1/4 of the other."""
    import torch

    from engines.base import VoiceBlend

    settings = client.app.state.settings
    engine = client.app.state.engine.engines.engine("chatterbox")
    samples, rate = sf.read(str(speech_wav), dtype="float32")
    other = Path(settings.paths.voices_dir) / "other.wav"
    sf.write(str(other), samples[::2], rate)  # twice as fast: another speaker embedding
    narrator = Path(settings.paths.voices_dir) / "narrator.wav"
    seen = record_t3_calls(monkeypatch, engine)
    body = {"model": "kokoro", "input": "Hello.", "voice": "narrator(3)+other(1)", "response_format": "wav"}
    response = client.post("/v1/audio/speech", json=body)
    assert response.status_code == 200, response.text
    assert response.headers["x-voice-source"] == "blend"
    audio, sample_rate = _audio(response)
    assert sample_rate == 24_000 and audio.size > 0

    parts = {
        path.stem: engine._voices.get(path, engine._compute_conditionals)[1] for path in (narrator, other)
    }
    a, b = parts["narrator"], parts["other"]
    assert not torch.allclose(a.t3.speaker_emb, b.t3.speaker_emb)
    sent = seen[-1]["t3_cond"].speaker_emb.float().cpu()
    expected = (0.75 * a.t3.speaker_emb + 0.25 * b.t3.speaker_emb).float().cpu()
    assert torch.allclose(sent, expected, atol=1e-5)
    _, mixed = engine._conditionals(VoiceBlend(((narrator, 0.75), (other, 0.25))))
    assert torch.allclose(mixed.gen["embedding"], 0.75 * a.gen["embedding"] + 0.25 * b.gen["embedding"])
    assert torch.equal(mixed.gen["prompt_token"], a.gen["prompt_token"])  # the prompt: the first voice's
    assert torch.equal(
        a.t3.speaker_emb, engine._voices.get(narrator, engine._compute_conditionals)[1].t3.speaker_emb
    )
