"""Symlinks planted inside the data folders, pointing out, on every field that names a file or a folder:
zero reads, writes or deletes outside the data folders (issue 18's traversal corpus, second half).

Someone with shell access may link a folder in on purpose; the server still treats the data folders as
its whole world: a link that leads out is neither listed, read, written through nor deleted through.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from main_api import create_app
from tests.conftest import PIPER_ONLY, settings_for, wait_until_ready
from tests.support.bad_audio import tone_wav

LINK = "planted"  # in each data folder, a link to a folder outside


def snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Path, bytes]]:
    root = tmp_path_factory.mktemp("symlinks")
    outside = root / "outside"
    outside.mkdir()
    secret = tone_wav(2.0, rate=22050)
    (outside / "secret.wav").write_bytes(secret)
    (outside / "secret.wav.json").write_text(json.dumps({"description": "outside"}))
    settings = settings_for(root / "data", engines=PIPER_ONLY)
    for folder in (settings.paths.voices_dir, settings.paths.outputs_dir, settings.paths.vc_inputs_dir):
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / LINK).symlink_to(outside, target_is_directory=True)
        (Path(folder) / "linked.wav").symlink_to(outside / "secret.wav")
    with TestClient(create_app(settings)) as client:
        wait_until_ready(client)
        yield client, outside, secret


def _zip(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


def attempts(secret: bytes) -> list[tuple[str, str, dict]]:
    """(method, url, request kwargs): every route and field that names a file or a folder."""
    wav = tone_wav(1.5)
    tts = {"text": "Hello.", "export_formats": ["wav"]}
    return [
        # reads
        ("GET", f"/api/v1/voices/{LINK}/secret.wav", {}),
        ("GET", f"/api/v1/voices/{LINK}/secret.wav/audio", {}),
        ("GET", "/api/v1/voices/linked.wav/audio", {}),
        ("GET", f"/api/v1/outputs/{LINK}/secret.wav", {}),
        ("GET", f"/outputs/{LINK}/secret.wav", {}),
        ("GET", "/outputs/linked.wav", {}),
        ("GET", f"/api/v1/vc_inputs/{LINK}/secret.wav", {}),
        ("GET", "/api/v1/voices/export", {"params": {"folder": LINK}}),
        ("GET", "/api/v1/voices/export", {}),
        ("POST", "/api/v1/tts", {"json": {**tts, "voice": f"{LINK}/secret.wav"}}),
        ("POST", "/api/v1/tts", {"json": {**tts, "reference_audio_filename": "linked.wav"}}),
        ("POST", "/api/v1/concat", {"json": {"files": [f"{LINK}/secret.wav"], "export_formats": ["wav"]}}),
        ("POST", "/api/v1/concat", {"json": {"files": ["linked.wav"], "export_formats": ["wav"]}}),
        ("POST", "/api/v1/vc", {"json": {"input_audio_source": f"{LINK}/secret.wav"}}),
        ("POST", "/api/v1/emotions", {"json": {"character": "a", "emotion": "b", "samples": ["linked.wav"]}}),
        # writes
        ("POST", "/api/v1/tts", {"json": {**tts, "project": LINK}}),
        ("POST", "/api/v1/tts", {"json": {**tts, "project": f"{LINK}/deeper"}}),
        ("POST", "/api/v1/tts", {"json": {**tts, "output_filename": "secret", "project": LINK}}),
        ("POST", "/api/v1/tts/jobs", {"json": {**tts, "project": LINK}}),
        ("POST", "/v1/audio/speech", {"json": {"input": "Hello.", "voice": f"{LINK}/secret.wav"}}),
        ("POST", "/api/v1/voice", {"files": {"voice_file": ("x.wav", wav)}, "data": {"folder_path": LINK}}),
        ("POST", "/api/v1/voice", {"files": {"voice_file": ("x.wav", wav)}, "data": {"project": LINK}}),
        (
            "POST",
            "/api/v1/voice",
            {"files": {"voice_file": ("linked.wav", wav)}, "data": {"overwrite": "true"}},
        ),
        (
            "POST",
            "/api/v1/voices",
            {"files": [("voice_files", ("y.wav", wav))], "data": {"folder_path": LINK}},
        ),
        (
            "POST",
            "/api/v1/voices/import",
            {"files": {"archive": ("a.zip", _zip("z.wav", wav))}, "data": {"folder_path": LINK}},
        ),
        ("POST", "/api/v1/voices/import", {"files": {"archive": ("a.zip", _zip(f"{LINK}/z.wav", wav))}}),
        (
            "POST",
            "/api/v1/voices/import",
            {"files": {"archive": ("a.zip", _zip("linked.wav", wav))}, "data": {"overwrite": "true"}},
        ),
        ("POST", "/api/v1/vc_input", {"files": {"vc_input_file": ("x.wav", wav)}, "data": {"project": LINK}}),
        (
            "POST",
            "/api/v1/vc_input",
            {"files": {"vc_input_file": ("linked.wav", wav)}, "data": {"overwrite": "true"}},
        ),
        (
            "POST",
            "/api/v1/emotions",
            {
                "files": [("sample_files", ("s.wav", wav))],
                "data": {"character": "c", "emotion": "d", "folder": LINK},
            },
        ),
        ("POST", "/api/v1/concat", {"json": {"files": [], "export_formats": ["wav"], "project": LINK}}),
        ("PUT", f"/api/v1/voice/{LINK}/secret.wav/metadata", {"json": {"description": "changed"}}),
        ("PUT", "/api/v1/voice/linked.wav/metadata", {"json": {"description": "changed"}}),
        # deletes
        ("DELETE", f"/api/v1/voice/{LINK}/secret.wav", {"params": {"confirm": "true"}}),
        ("DELETE", "/api/v1/voice/linked.wav", {"params": {"confirm": "true"}}),
        ("DELETE", f"/api/v1/output/{LINK}/secret.wav", {"params": {"confirm": "true"}}),
        ("DELETE", "/api/v1/output/linked.wav", {"params": {"confirm": "true"}}),
        ("DELETE", f"/api/v1/vc_input/{LINK}/secret.wav", {"params": {"confirm": "true"}}),
        ("DELETE", "/api/v1/voices", {"params": {"confirm": "true", "folder": LINK}}),
        ("DELETE", "/api/v1/voices", {"params": {"confirm": "true", "all": "true"}}),
        ("DELETE", "/api/v1/outputs", {"params": {"confirm": "true", "all": "true"}}),
        ("DELETE", "/api/v1/vc_inputs", {"params": {"confirm": "true", "project": LINK}}),
        ("DELETE", "/api/v1/vc_inputs", {"params": {"confirm": "true", "all": "true"}}),
        ("POST", "/api/v1/cleanup", {}),
    ]


def test_planted_links_lead_nowhere(world: tuple[TestClient, Path, bytes]) -> None:
    client, outside, secret = world
    before = snapshot(outside)
    problems = []
    for method, url, kwargs in attempts(secret):
        response = client.request(method, url, **kwargs)
        if response.status_code >= 500:
            problems.append(
                f"{method} {url} {kwargs.get('data') or kwargs.get('json') or ''}: {response.status_code} {response.text[:200]}"
            )
        if secret[1000:1400] in response.content:
            problems.append(f"{method} {url}: served the outside file")
        if (now := snapshot(outside)) != before:
            problems.append(
                f"{method} {url} {kwargs.get('data') or kwargs.get('json') or ''}: changed outside: {set(now) ^ set(before) or 'content'}"
            )
            before = now
    for folder in ("voices", "outputs", "vc_inputs"):
        listed = json.dumps(client.get(f"/api/v1/{folder}", params={"page_size": 500}).json())
        if "secret" in listed:
            problems.append(f"/api/v1/{folder} lists the outside file")
    assert problems == []


def test_the_same_routes_work_on_real_folders(world: tuple[TestClient, Path, bytes]) -> None:
    """The control: the server is not refusing everything, only what leads out."""
    client, _, _ = world
    wav = tone_wav(1.5)
    tts = {"text": "Hello.", "export_formats": ["wav"], "project": "real"}
    assert client.post("/api/v1/tts", json=tts).status_code == 200
    upload = client.post("/api/v1/voice", files={"voice_file": ("x.wav", wav)}, data={"folder_path": "real"})
    assert upload.status_code == 200, upload.text
    assert client.get("/api/v1/voices/real/x.wav/audio").content == wav
    assert client.delete("/api/v1/voice/real/x.wav", params={"confirm": "true"}).status_code == 200
