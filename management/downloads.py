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
    """Stream ``url`` into ``handle``, following redirects by hand so every hop is checked."""
    limit = int(settings.max_mb * 2**20)
    deadline = time.monotonic() + settings.timeout_seconds
    with httpx.Client(timeout=settings.timeout_seconds, follow_redirects=False) as client:
        current = url
        for _ in range(_MAX_REDIRECTS + 1):
            _check_target(current, settings, param)
            with client.stream("GET", current) as response:
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
    raise InvalidRequestError(f"'{param}': {url} redirects more than {_MAX_REDIRECTS} times", param=param)


def _check_target(url: str, settings: DownloadSettings, param: str) -> None:
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https"):
        raise InvalidRequestError(
            f"'{param}': only http and https URLs are fetched, not {parsed.scheme!r}", param=param
        )
    if not parsed.hostname:
        raise InvalidRequestError(f"'{param}': {url} has no host", param=param)
    try:
        infos = socket.getaddrinfo(parsed.hostname, parsed.port or (443 if parsed.scheme == "https" else 80))
    except OSError as exc:
        raise InvalidRequestError(f"'{param}': cannot resolve {parsed.hostname}: {exc}", param=param) from exc
    if settings.allow_private_addresses:
        return
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise InvalidRequestError(
                f"'{param}': {parsed.hostname} is a loopback, private or link-local address ({address}); "
                "set downloads.allow_private_addresses to allow it",
                param=param,
            )


def _too_large(url: str, settings: DownloadSettings, param: str) -> InvalidRequestError:
    return InvalidRequestError(
        f"'{param}': {url} is larger than {settings.max_mb:g} MB (downloads.max_mb)", param=param
    )
