"""Fetching audio named by an http(s) URL: size and time limits, no private addresses by default."""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
import tempfile
import time
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urljoin, urlparse

import httpx

from config import DownloadSettings
from exceptions import InvalidRequestError
from utils.audio import decode

logger = logging.getLogger(__name__)

_MAX_REDIRECTS = 3


def is_url(name: str) -> bool:
    """Whether a voice/input name is a URL rather than a library name."""
    return "://" in name


def download_audio(url: str, folder: Path, settings: DownloadSettings, *, param: str) -> Path:
    """Download ``url`` into a new file in ``folder`` and check that it decodes as audio.

    Every problem (scheme, address, status, size, time, content) is a 400 naming ``param``.
    The caller deletes the file when done.
    """
    if not settings.enabled:
        raise InvalidRequestError(f"'{param}': URL downloads are disabled (downloads.enabled)", param=param)
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=folder, prefix="download_", suffix=".audio")
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            _fetch(url, handle, settings, param)
        decode(path, param=param)  # not audio: a 400 now, not a model error later
    except httpx.TimeoutException as exc:
        path.unlink(missing_ok=True)
        raise InvalidRequestError(
            f"'{param}': {url} was too slow (limit {settings.timeout_seconds:g} s, downloads.timeout_seconds)",
            param=param,
        ) from exc
    except httpx.HTTPError as exc:
        path.unlink(missing_ok=True)
        raise InvalidRequestError(f"'{param}': {url} could not be fetched: {exc}", param=param) from exc
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def _fetch(url: str, handle: BinaryIO, settings: DownloadSettings, param: str) -> None:
    """Stream ``url`` into ``handle``, following redirects by hand so every hop is checked.

    Each hop connects to the very address that was checked (the host is resolved once): a name that
    resolves to a public address for the check and to loopback for the connection gets nowhere.
    """
    limit = int(settings.max_mb * 2**20)
    deadline = time.monotonic() + settings.timeout_seconds
    with httpx.Client(timeout=settings.timeout_seconds, follow_redirects=False) as client:
        current = url
        for _ in range(_MAX_REDIRECTS + 1):
            pinned, host = _check_target(current, settings, param)
            request = client.build_request(
                "GET", pinned, headers={"Host": host}, extensions={"sni_hostname": urlparse(current).hostname}
            )
            response = client.send(request, stream=True)
            try:
                if response.is_redirect and "location" in response.headers:
                    current = urljoin(current, response.headers["location"])
                    continue
                if response.status_code != 200:
                    raise InvalidRequestError(
                        f"'{param}': {url} answered HTTP {response.status_code}", param=param
                    )
                if int(response.headers.get("content-length") or 0) > limit:
                    raise _too_large(url, settings, param)
                received = 0
                for chunk in response.iter_bytes():
                    received += len(chunk)
                    if received > limit:
                        raise _too_large(url, settings, param)
                    if time.monotonic() > deadline:
                        raise httpx.ReadTimeout("download deadline passed")
                    handle.write(chunk)
                return
            finally:
                response.close()
    raise InvalidRequestError(f"'{param}': {url} redirects more than {_MAX_REDIRECTS} times", param=param)


def _check_target(url: str, settings: DownloadSettings, param: str) -> tuple[str, str]:
    """Refuse what may not be fetched; the URL with its host replaced by the checked address, and the
    ``Host`` header to send with it."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https"):
        raise InvalidRequestError(
            f"'{param}': only http and https URLs are fetched, not {parsed.scheme!r}", param=param
        )
    if not parsed.hostname:
        raise InvalidRequestError(f"'{param}': {url} has no host", param=param)
    try:
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        infos = socket.getaddrinfo(parsed.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError) as exc:
        raise InvalidRequestError(f"'{param}': cannot resolve {parsed.hostname}: {exc}", param=param) from exc
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    if not settings.allow_private_addresses:
        for address in addresses:
            if not is_public(address):
                raise InvalidRequestError(
                    f"'{param}': {parsed.hostname} is a loopback, private or link-local address "
                    f"({address}); set downloads.allow_private_addresses to allow it",
                    param=param,
                )
    address = addresses[0]
    literal = f"[{address}]" if address.version == 6 else str(address)
    netloc = f"{literal}:{parsed.port}" if parsed.port else literal
    host = parsed.netloc.rsplit("@", 1)[-1]  # user:password@ never reaches the Host header
    return parsed._replace(netloc=netloc).geturl(), host


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """A globally routable address, also when an IPv6 form wraps an IPv4 one.

    IPv4-mapped (``::ffff:127.0.0.1``), IPv4-compatible (``::127.0.0.1``), NAT64 (``64:ff9b::/96``),
    6to4 (``2002::/16``) and Teredo forms are judged by the IPv4 address they carry.
    """
    if not address.is_global:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        packed = int(address)
        embedded = [address.ipv4_mapped, address.sixtofour, address.teredo and address.teredo[1]]
        if address in _NAT64 or packed >> 32 == 0:  # 64:ff9b::a.b.c.d and ::a.b.c.d
            embedded.append(ipaddress.IPv4Address(packed & 0xFFFFFFFF))
        return all(v4 is None or v4.is_global for v4 in embedded)
    return True


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def _too_large(url: str, settings: DownloadSettings, param: str) -> InvalidRequestError:
    return InvalidRequestError(
        f"'{param}': {url} is larger than {settings.max_mb:g} MB (downloads.max_mb)", param=param
    )
