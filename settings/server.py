"""``server``, ``ui`` and ``security``: where the server listens and who may call it."""

from __future__ import annotations

import hashlib
import os
import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from exceptions import ConfigError
from settings.base import Port, Section


class ServerSettings(Section):
    host: str = "127.0.0.1"
    port: Port = 7860
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "text"] = "json"


class UISettings(Section):
    """The browser UI at ``/ui`` (Gradio, in the same process)."""

    enabled: bool = True


KeyName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")]


class ApiKeySettings(Section):
    """One API key: its SHA-256 (hex) in the file, or the name of an environment variable holding it."""

    name: KeyName  # shown in logs and metrics instead of the key
    sha256: Annotated[str, Field(pattern=r"^[0-9a-fA-F]{64}$")] | None = None  # sha256sum of the key
    env: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")] | None = None  # variable holding the key

    @model_validator(mode="after")
    def _one_source(self) -> ApiKeySettings:
        if (self.sha256 is None) == (self.env is None):
            raise ValueError(f"api key {self.name!r} needs exactly one of sha256 or env")
        return self


class SecuritySettings(Section):
    """Who may call the server, from where, how often, and how large and slow a request body may be."""

    api_keys: list[ApiKeySettings] = Field(default_factory=list)  # empty: no key needed (as on a desk)
    public_metrics: bool = False  # /metrics open without a key (for a scraper on the same network)
    cors_origins: list[str] = Field(default_factory=list)  # other sites' pages allowed to call; "*": any
    allowed_hosts: list[str] = Field(
        default_factory=list
    )  # Host names besides loopback + server.host; "*": any
    rate_limit_per_minute: Annotated[float, Field(ge=0)] = 0  # per key (or client address); 0: no limit
    rate_limit_burst: Annotated[int, Field(ge=1)] = 20  # requests allowed at once before the rate applies
    max_json_kb: Annotated[float, Field(gt=0)] = 1024  # body of a route that takes no uploads
    body_timeout_seconds: Annotated[float, Field(gt=0)] = 120  # a request body must arrive within this

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            if origin != "*" and not re.fullmatch(r"https?://[^/\s]+", origin):
                raise ValueError(f"{origin!r} is not an origin like https://app.example.com (no path) or *")
        return [origin.rstrip("/").lower() for origin in value]

    def key_hashes(self) -> dict[str, str]:
        """SHA-256 hex of each key -> its name; a key's missing environment variable stops the start."""
        hashes = {}
        for key in self.api_keys:
            if key.env is not None:
                secret = os.environ.get(key.env, "")
                if not secret.strip():
                    raise ConfigError(
                        f"Invalid configuration: security.api_keys {key.name!r} reads ${key.env}, which is unset"
                    )
                digest = hashlib.sha256(secret.strip().encode()).hexdigest()
            else:
                digest = (key.sha256 or "").lower()
            hashes[digest] = key.name
        return hashes
