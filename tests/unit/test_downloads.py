"""URL inputs: fetched within limits, refused with a reason otherwise, never left half on disk."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from config import DownloadSettings
from exceptions import InvalidRequestError
from management.downloads import download_audio
from tests.support.http_server import serve

LOOPBACK_OK = DownloadSettings(max_mb=1, timeout_seconds=2, allow_private_addresses=True)


@pytest.fixture(scope="module")
def base_url(speech_wav: Path) -> Iterator[str]:
    wav = speech_wav.read_bytes()
    routes = {
        "/voice.wav": (200, {"Content-Type": "audio/wav"}, wav, 0.0),
        "/moved": (302, {"Location": "/voice.wav"}, b"", 0.0),
        "/loop": (302, {"Location": "/loop"}, b"", 0.0),
        "/page.html": (200, {"Content-Type": "text/html"}, b"<html>not audio</html>" * 10, 0.0),
        "/huge.wav": (200, {}, b"\0" * (2 * 2**20), 0.0),
        "/slow.wav": (200, {}, wav, 3.0),
    }
    with serve(routes) as url:
        yield url


def test_an_audio_url_is_downloaded(base_url: str, tmp_path: Path, speech_wav: Path) -> None:
    path = download_audio(f"{base_url}/voice.wav", tmp_path, LOOPBACK_OK, param="voice")
    assert path.read_bytes() == speech_wav.read_bytes()
    assert download_audio(f"{base_url}/moved", tmp_path, LOOPBACK_OK, param="voice").stat().st_size > 0


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/missing.wav", "HTTP 404"),
        ("/page.html", "could not be decoded"),
        ("/huge.wav", "larger than 1 MB"),
        ("/slow.wav", "too slow"),
        ("/loop", "redirects more than"),
    ],
)
def test_url_problems_are_400_with_the_reason_and_leave_nothing(
    base_url: str, tmp_path: Path, path: str, reason: str
) -> None:
    with pytest.raises(InvalidRequestError, match=reason) as caught:
        download_audio(f"{base_url}{path}", tmp_path, LOOPBACK_OK, param="voice")
    assert caught.value.param == "voice"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.com/voice.wav", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("http://127.0.0.1:9/voice.wav", "loopback, private or link-local"),
        ("http://169.254.169.254/latest/meta-data", "loopback, private or link-local"),
        ("http://10.1.2.3/voice.wav", "loopback, private or link-local"),
        ("http://[::1]/voice.wav", "loopback, private or link-local"),
        ("http://[::127.0.0.1]/voice.wav", "loopback, private or link-local"),
        ("http://[::ffff:127.0.0.1]/voice.wav", "loopback, private or link-local"),
        ("http://[64:ff9b::7f00:1]/voice.wav", "loopback, private or link-local"),
        ("http://[64:ff9b::a9fe:a9fe]/latest/meta-data", "loopback, private or link-local"),
        ("http://[2002:7f00:1::]/voice.wav", "loopback, private or link-local"),
        ("http://[2002:c0a8:101::1]/voice.wav", "loopback, private or link-local"),
        ("http://127.1/voice.wav", "loopback, private or link-local"),
        ("http://2130706433/voice.wav", "loopback, private or link-local"),
        ("http://0x7f.1/voice.wav", "loopback, private or link-local"),
    ],
)
def test_other_schemes_and_private_addresses_are_refused(tmp_path: Path, url: str, reason: str) -> None:
    with pytest.raises(InvalidRequestError, match=reason):
        download_audio(url, tmp_path, DownloadSettings(), param="target_voice_source")


def test_a_redirect_to_a_private_address_is_refused(tmp_path: Path) -> None:
    # The public-looking first hop is simulated by allowing it, then checking the next hop's rule.
    with serve({"/hop": (302, {"Location": "http://10.0.0.1/secret.wav"}, b"", 0.0)}) as url:
        settings = DownloadSettings(allow_private_addresses=False)
        with pytest.raises(InvalidRequestError, match="loopback, private or link-local"):
            download_audio(f"{url}/hop", tmp_path, settings, param="voice")


def test_downloads_can_be_switched_off(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequestError, match=r"downloads\.enabled"):
        download_audio("https://example.com/v.wav", tmp_path, DownloadSettings(enabled=False), param="voice")


def test_the_checked_address_is_the_one_connected_to(
    base_url: str, tmp_path: Path, speech_wav: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the name resolves once; a second answer (here: an error) is never asked for."""
    import socket
    from urllib.parse import urlparse

    port = urlparse(base_url).port
    real = socket.getaddrinfo
    answers = iter([real("127.0.0.1", port, type=socket.SOCK_STREAM)])

    def rebinding(host: str, *args: object, **kwargs: object) -> object:
        if host == "voices.example":
            return next(answers)  # a second lookup raises StopIteration: the test fails
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    path = download_audio(f"http://voices.example:{port}/voice.wav", tmp_path, LOOPBACK_OK, param="voice")
    assert path.read_bytes() == speech_wav.read_bytes()
