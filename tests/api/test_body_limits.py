"""Through the real server (uvicorn, raw sockets): keys with the real `openai` SDK, bodies counted while they
stream in (chunked JSON and multipart refused early), and a trickling body cut with a 408."""

from __future__ import annotations

import logging
import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import openai
import pytest

from api.security import warn_if_exposed
from config import load_settings
from tests.support.live_server import live_server
from utils.audio import decode

KEY = "live-test-key-0123456789"
TIMEOUT_S = 2.0


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    env = {
        "CHATTERBOX_SECURITY__API_KEYS": '[{"name": "ci", "env": "LIVE_TEST_KEY"}]',
        "LIVE_TEST_KEY": KEY,
        "CHATTERBOX_SECURITY__MAX_JSON_KB": "8",
        "CHATTERBOX_SECURITY__BODY_TIMEOUT_SECONDS": str(TIMEOUT_S),
        "CHATTERBOX_LIMITS__MAX_UPLOAD_MB": "1",
    }
    with live_server(tmp_path_factory.mktemp("keyed-server"), **env) as url:
        yield url


def connect(base: str) -> socket.socket:
    parts = urlsplit(base)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
    return sock


def status_of(sock: socket.socket) -> tuple[int, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return int(data.split(b" ", 2)[1]), data


def readable(sock: socket.socket) -> bool:
    return bool(select.select([sock], [], [], 0)[0])


def head(path: str, extra: str) -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: {KEY}\r\n{extra}\r\n").encode()


def send_chunked(
    base: str, path: str, content_type: str, offered: int, first: bytes = b""
) -> tuple[int, int]:
    """Send up to ``offered`` bytes as 64 KB chunks, stopping once the server answers; (status, bytes sent)."""
    sock = connect(base)
    sock.sendall(head(path, f"Content-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n"))
    sent, block = 0, first + b"a" * (65536 - len(first))
    try:
        while sent < offered and not readable(sock):
            sock.sendall(f"{len(block):x}\r\n".encode() + block + b"\r\n")
            sent += len(block)
            block = b"a" * 65536
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server stopped reading: its answer is waiting
    status, _ = status_of(sock)
    sock.close()
    return status, sent


def test_the_openai_sdk_works_with_its_api_key(base: str) -> None:
    client = openai.OpenAI(base_url=f"{base}/v1", api_key=KEY, max_retries=0)
    audio = client.audio.speech.create(
        model="tts-1", voice="alloy", input="Keys work.", response_format="wav"
    )
    assert decode(audio.content).duration > 0.3
    stranger = openai.OpenAI(base_url=f"{base}/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError, match="not valid"):
        stranger.audio.speech.create(model="tts-1", voice="alloy", input="No.")


def test_chunked_json_is_cut_at_the_limit(base: str) -> None:
    status, sent = send_chunked(base, "/api/v1/tts/jobs", "application/json", 50 * 2**20, b'{"text": "')
    assert status == 413
    assert sent < 10 * 2**20  # refused after about 8 KB (plus what the socket buffers hold), not 50 MB


def test_chunked_multipart_is_cut_while_streaming(base: str) -> None:
    boundary = "b0undary"
    first = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="a.wav"\r\n'
        "Content-Type: audio/wav\r\n\r\n"
    ).encode()
    content_type = f"multipart/form-data; boundary={boundary}"
    status, sent = send_chunked(base, "/api/v1/concat/mixed", content_type, 400 * 2**20, first)
    assert status == 413
    assert sent < 40 * 2**20  # 20 files of 1 MB allowed (+25%); the 400 MB offered were never spooled


def test_a_trickling_body_is_cut_with_408(base: str) -> None:
    sock = connect(base)
    sock.sendall(head("/api/v1/tts/jobs", "Content-Type: application/json\r\nContent-Length: 1000\r\n"))
    started = time.monotonic()
    while not readable(sock) and time.monotonic() - started < TIMEOUT_S + 8:
        try:
            sock.sendall(b" ")  # one byte every half second
        except (BrokenPipeError, ConnectionResetError):
            break
        time.sleep(0.5)
    status, data = status_of(sock)
    sock.close()
    assert status == 408 and b"security.body_timeout_seconds" in data
    assert time.monotonic() - started < TIMEOUT_S + 5


def test_a_normal_upload_is_not_cut(base: str, speech_wav: Path) -> None:
    import httpx

    with speech_wav.open("rb") as handle:
        response = httpx.post(
            f"{base}/api/v1/vc_input",
            headers={"X-API-Key": KEY},
            files={"vc_input_file": ("clip.wav", handle, "audio/wav")},
            timeout=60,
        )
    assert response.status_code in (200, 201), response.text


def test_listening_beyond_loopback_without_keys_warns(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="api.security"):
        warn_if_exposed(load_settings(server={"host": "127.0.0.1"}))
        assert not caplog.records
        warn_if_exposed(load_settings(server={"host": "0.0.0.0"}))
    assert "no API key" in caplog.text and "security.api_keys" in caplog.text
    caplog.clear()
    keyed = load_settings(
        server={"host": "0.0.0.0"}, security={"api_keys": [{"name": "a", "sha256": "0" * 64}]}
    )
    warn_if_exposed(keyed)
    assert not caplog.records
