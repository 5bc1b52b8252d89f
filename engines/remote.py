"""A remote OpenAI-compatible speech server (OpenAI, AllTalk, another instance of this server) as an engine.

Each entry of ``remotes`` in the configuration becomes an engine named ``remote:<name>``. A call POSTs
``/v1/audio/speech`` and decodes the answer to a clip, so everything after it (post-processing,
export formats, saving, streaming by sentence) works as for a local engine. Calls are I/O, so each
remote has its own worker with ``concurrency`` threads and never holds a local model's worker.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any, Literal

import httpx
import numpy as np

from config import RemoteSettings
from engines.base import EngineTraits, SynthesisParams, language_code
from exceptions import (
    ChatterboxError,
    EngineUnavailableError,
    InvalidRequestError,
    NotFoundError,
    RemoteError,
    ServerBusyError,
)
from utils.audio import Clip
from utils.audio.decode import decode

logger = logging.getLogger(__name__)

PREFIX = "remote:"


def engine_name(remote: str) -> str:
    """The engine name of a configured remote: ``remote:<name>``."""
    return PREFIX + remote


def base_url(url: str) -> str:
    """The server's root: ``http://host:port/v1/`` and ``http://host:port`` both give the latter."""
    return url.rstrip("/").removesuffix("/v1")


def remote_message(response: httpx.Response) -> tuple[str, str | None]:
    """The error message and parameter a remote gave: OpenAI's shape, FastAPI's, or the body text."""
    try:
        body = response.json()
    except ValueError:
        return (response.text.strip()[:300] or response.reason_phrase), None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = body["error"]
        return str(error.get("message") or error), error.get("param")
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        return body["detail"], None
    if isinstance(body, dict) and isinstance(body.get("detail"), list) and body["detail"]:
        first = body["detail"][0]
        if isinstance(first, dict):
            where = first.get("loc") or []
            return str(first.get("msg")), str(where[-1]) if where else None
    return str(body)[:300], None


class RemoteEngine:
    """Text to speech by an OpenAI-compatible server at ``base_url``."""

    kind: Literal["tts"] = "tts"
    clones_voices = False  # voices are names the remote knows
    varies_with_seed = False  # nothing to choose between: the remote answers what it answers

    def __init__(
        self, remote: str, settings: RemoteSettings, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.remote = remote
        self.name = engine_name(remote)
        # Its own worker, never queued behind a local model; loading is one quick request, not weights;
        # failed (unreachable): tried again on a request this many seconds later.
        self.traits = EngineTraits(
            worker_group=self.name,
            concurrency=settings.concurrency,
            loads_on_worker=True,
            retry_after_failure=10.0,
        )
        self.max_chunk_chars: int | None = settings.max_chunk_chars
        self.languages = tuple(dict.fromkeys(language_code(code) for code in settings.languages))
        self._settings = settings
        self._base = base_url(settings.base_url)
        self._transport = transport  # tests answer without a server
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()  # calls run on several threads
        self._sample_rate: int | None = (
            settings.pcm_sample_rate if settings.response_format == "pcm" else None
        )

    @property
    def loaded(self) -> bool:
        return self._client is not None

    def load(self) -> None:
        """Open the connection pool and check, cheaply, that the server answers (``GET /v1/models``)."""
        client = self._client or self._new_client()
        try:
            response = client.get(f"{self._base}/v1/models", timeout=min(self._settings.timeout_seconds, 10))
        except httpx.HTTPError as exc:
            client.close()
            raise EngineUnavailableError(
                f"remote {self.remote!r} at {self._base} is unreachable: {_reason(exc)}", param="engine"
            ) from exc
        if response.status_code in (401, 403):
            client.close()
            message, _ = remote_message(response)
            raise EngineUnavailableError(
                f"remote {self.remote!r} at {self._base} rejected the API key (remotes.{self.remote}.api_key): "
                f"{message}",
                param="engine",
            )
        self._client = client  # any other answer (even a 404 from a server without /v1/models) is alive

    def unload(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def memory_bytes(self) -> int:
        """No weights here: the remote server holds them (outside this server's memory budget)."""
        return 0

    def estimated_bytes(self) -> int | None:
        return 0

    def describe(self) -> dict[str, Any]:
        settings = self._settings
        return {
            "device": "remote",
            "base_url": self._base,
            "model": settings.model,
            "sample_rate": self._sample_rate,  # known once it has answered (pcm: configured)
            "default_voice": settings.default_voice,
            "voices": sorted(settings.voices),
            "pass_through_voices": settings.pass_through_voices,
            "languages": list(self.languages),
            "concurrency": self.traits.concurrency,
        }

    def languages_for(self, voice: str | None) -> tuple[str, ...]:
        return self.languages

    def has_voice(self, name: str) -> bool:
        return name in self._settings.voices or self._settings.pass_through_voices

    def remote_voice(self, voice: Path | str | None) -> str:
        """The remote's name for one of our voice names (None: the configured default voice)."""
        if voice is None:
            return self._settings.default_voice
        name = str(voice)
        if name in self._settings.voices:
            return self._settings.voices[name]
        if self._settings.pass_through_voices:
            return name
        raise NotFoundError(f"engine {self.name!r} has no voice {name!r}", param="voice")

    def request_body(self, text: str, voice: Path | str | None, params: SynthesisParams) -> dict[str, Any]:
        """The JSON sent to ``/v1/audio/speech``."""
        settings = self._settings
        body: dict[str, Any] = {
            "model": settings.model,
            "input": text,
            "voice": self.remote_voice(voice),
            "response_format": settings.response_format,
            "speed": 1.0,  # speed is applied here, after the remote, like for every engine
        }
        if settings.send_extensions:
            body |= {
                "exaggeration": params.exaggeration,
                "cfg_weight": params.cfg_weight,
                "temperature": params.temperature,
                "seed": params.seed,
            }
            if params.language:
                body["language"] = params.language
        return body

    def synthesize(self, text: str, voice: Path | str | None, params: SynthesisParams) -> Clip:
        """Ask the remote to speak one chunk; its errors come back as ours, naming the remote."""
        body = self.request_body(text, voice, params)
        url = f"{self._base}/v1/audio/speech"
        with self._lock:
            client = self._client = self._client or self._new_client()
        try:
            response = client.post(url, json=body)
        except httpx.TimeoutException as exc:
            raise RemoteError(
                f"remote {self.remote!r} did not answer within {self._settings.timeout_seconds:g} s "
                f"(remotes.{self.remote}.timeout_seconds)",
                code="remote_timeout",
            ) from exc
        except httpx.HTTPError as exc:
            raise EngineUnavailableError(
                f"remote {self.remote!r} at {self._base} is unreachable: {_reason(exc)}", param="engine"
            ) from exc
        if response.status_code >= 400:
            raise self._error(response, url)
        clip = self._decode(response)
        self._sample_rate = clip.sample_rate
        return clip

    def _new_client(self) -> httpx.Client:
        key = self._settings.api_key
        headers = {"Authorization": f"Bearer {key.get_secret_value()}"} if key else {}
        return httpx.Client(
            transport=self._transport,
            headers=headers,
            timeout=httpx.Timeout(
                self._settings.timeout_seconds, connect=min(self._settings.timeout_seconds, 10)
            ),
            limits=httpx.Limits(max_connections=self.traits.concurrency),
        )

    def _error(self, response: httpx.Response, url: str) -> ChatterboxError:
        """Our error for a remote's error answer: client errors stay client errors, the rest are 502/503."""
        status = response.status_code
        message, param = remote_message(response)
        said = f"remote {self.remote!r} answered {status}: {message}"
        if status in (401, 403):
            return RemoteError(
                f"remote {self.remote!r} rejected the API key (remotes.{self.remote}.api_key): {message}",
                code="remote_auth",
            )
        if status == 429 or (status == 503 and "retry-after" in response.headers):
            retry = response.headers.get("retry-after", "5")
            return ServerBusyError(said, retry_after=int(retry) if retry.isdigit() else 5, param="engine")
        if status == 503:
            return EngineUnavailableError(said, param="engine")
        if status == 404 and param is None:
            return RemoteError(
                f"remote {self.remote!r} has no {url} (remotes.{self.remote}.base_url?): {message}"
            )
        if status == 404:
            return NotFoundError(said, param=param)
        if 400 <= status < 500:
            return InvalidRequestError(said, param=param)
        return RemoteError(said)

    def _decode(self, response: httpx.Response) -> Clip:
        content = response.content
        if self._settings.response_format == "pcm":
            usable = len(content) - len(content) % 2
            samples = np.frombuffer(content[:usable], dtype="<i2").astype(np.float32) / 32768.0
            if samples.size == 0:
                raise RemoteError(f"remote {self.remote!r} sent no audio")
            return Clip(samples, self._settings.pcm_sample_rate)
        try:
            return decode(content, param="remote audio")
        except InvalidRequestError as exc:
            kind = response.headers.get("content-type", "unknown type")
            raise RemoteError(
                f"remote {self.remote!r} sent audio that cannot be decoded ({kind}): {exc.message}"
            ) from exc


def _reason(exc: httpx.HTTPError) -> str:
    return str(exc) or type(exc).__name__
