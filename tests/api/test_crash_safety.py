"""Killed mid-work, the server starts again with nothing half-written in sight.

A real server (Piper) is killed with SIGKILL while it generates, streams, takes a voice upload,
concatenates and imports a voice zip, at a different moment each round; it is started again and checked:
no 0-byte, partial or temporary file in any listing, the index matches the folders, every voice has
its record, and every output that was answered with a 2xx is intact.
"""

from __future__ import annotations

import io
import random
import threading
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import soundfile as sf

from tests.support.live_server import live_server_process
from tests.support.memory_probe import PIPER_SERVER, text_of
from utils.audio import decode

ROUNDS = 5
AUDIO = {".wav", ".mp3", ".flac", ".opus", ".aac", ".ogg", ".m4a", ".webm"}


def voice_wav(seconds: float, seed: int) -> bytes:
    rate = 24000
    t = np.arange(int(seconds * rate)) / rate
    noise = np.random.default_rng(seed).normal(0, 0.01, t.size)
    samples = (0.3 * np.sin(2 * np.pi * 180 * t) * (np.sin(2 * np.pi * 2 * t) > 0) + noise).astype(np.float32)
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format="WAV")
    return buffer.getvalue()


def voice_zip(tag: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for i in range(3):
            archive.writestr(f"zip_{tag}_{i}.wav", voice_wav(6.0, i))
    return buffer.getvalue()


def workload(base: str, tag: str, answered: list[str]) -> list[Callable[[], None]]:
    """Requests to run at once; each output answered with a 2xx is noted in ``answered``."""

    def post(path: str, **kwargs: Any) -> httpx.Response | None:
        try:
            return httpx.post(f"{base}{path}", timeout=120, **kwargs)
        except httpx.HTTPError:  # the server was killed under it
            return None

    def tts() -> None:
        body = {"text": text_of(1500), "export_formats": ["wav", "mp3"], "project": f"r{tag}"}
        response = post("/api/v1/tts?response_mode=json", json=body)
        if response is not None and response.status_code == 200:
            answered.extend(f["url"] for f in response.json()["output_files"])

    def streamed() -> None:
        body = {"text": text_of(1500), "stream": True, "export_formats": ["mp3", "flac"]}
        post("/api/v1/tts", json=body)  # what it saves is not promised until the stream ends

    def upload() -> None:  # one after another until the kill: some land inside the quality analysis
        for i in range(100):
            files = {"voice_file": (f"up_{tag}_{i}.wav", voice_wav(8.0, i), "audio/wav")}
            if post("/api/v1/voice", files=files) is None:
                return

    def imported() -> None:
        for i in range(100):
            archive = {"archive": ("v.zip", voice_zip(f"{tag}_{i}"), "application/zip")}
            if post("/api/v1/voices/import", files=archive) is None:
                return

    def concat() -> None:
        body = {"files": ["voice:base", "(1s)"], "export_formats": ["wav", "flac"], "response_mode": "json"}
        for _ in range(100):
            response = post("/api/v1/concat", json=body)
            if response is None:
                return
            if response.status_code == 200:
                answered.extend(f["url"] for f in response.json()["files"])

    return [tts, streamed, upload, imported, concat]


def every_page(client: httpx.Client, route: str, key: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in range(1, 1000):
        body = client.get(route, params={"page_size": 100, "page": page}).json()
        items += body[key]
        if not body["has_next"]:
            return items
    raise AssertionError(f"{route} never ends")


def check_consistent(base: str, data: Path, answered: list[str]) -> None:
    with httpx.Client(base_url=base, timeout=60) as client:
        listed = every_page(client, "/api/v1/outputs", "files")
        for item in listed:
            name = item["filename"]
            assert not name.startswith(".") and not name.endswith(".part"), name
            assert item["file_size_bytes"] > 0, name
            fetched = client.get(item["url"])
            assert fetched.status_code == 200, item["url"]
            assert decode(fetched.content).duration > 0, item["url"]
        on_disk = {
            p.relative_to(data / "outputs").as_posix()
            for p in (data / "outputs").rglob("*")
            if p.suffix in AUDIO and not any(part.startswith(".") for part in p.parts)
        }
        assert on_disk == {item["path"] for item in listed}
        for url in answered:  # promised with a 2xx before a kill
            response = client.get(url)
            assert response.status_code == 200, url
            assert decode(response.content).duration > 1.0, url
        voices = every_page(client, "/api/v1/voices", "voices")
        for voice in voices[::7]:  # a sample: each is one request
            assert voice["file_size_bytes"] > 0 and not voice["filename"].startswith("."), voice
            assert client.get(voice["audio_url"]).status_code == 200, voice["audio_url"]
        voice_files = [
            p for p in (data / "voices").rglob("*") if p.suffix in AUDIO and not p.name.startswith(".")
        ]
        assert {p.relative_to(data / "voices").as_posix() for p in voice_files} == {v["path"] for v in voices}
        for path in voice_files:
            assert path.with_name(path.name + ".json").is_file(), f"{path.name} has no record"


@pytest.mark.skipif(not hasattr(__import__("os"), "kill"), reason="needs SIGKILL")
def test_killed_mid_work_the_server_restarts_consistent(tmp_path: Path) -> None:
    answered: list[str] = []
    chance = random.Random(20261204)
    for round_ in range(ROUNDS):
        with live_server_process(tmp_path, **PIPER_SERVER) as (base, server):
            if round_:
                check_consistent(base, tmp_path, answered)
            else:
                files = {"voice_file": ("base.wav", voice_wav(3.0, 99), "audio/wav")}
                assert httpx.post(f"{base}/api/v1/voice", files=files, timeout=60).status_code == 200
            threads = [threading.Thread(target=job) for job in workload(base, str(round_), answered)]
            for thread in threads:
                thread.start()
            time.sleep(chance.uniform(0.2, 9.0))  # before, during and after the TTS requests
            server.kill()
            server.wait(30)
            for thread in threads:
                thread.join(150)
    with live_server_process(tmp_path, **PIPER_SERVER) as (base, _):
        check_consistent(base, tmp_path, answered)
