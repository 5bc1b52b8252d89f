"""Server configuration: ``config.yaml`` defaults, ``CHATTERBOX_*`` environment overrides.

Environment variables override any key; nested keys use ``__``, for example
``CHATTERBOX_SERVER__PORT=8000`` or ``CHATTERBOX_MODELS__CHECKPOINT_DIR=/models/chatterbox``.
Everything is validated once, at start: a bad value raises :class:`ConfigError` naming the key.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from exceptions import ConfigError
from settings.base import TTS_ENGINES as TTS_ENGINES
from settings.base import VC_ENGINES as VC_ENGINES
from settings.base import EngineName as EngineName
from settings.base import LocalTTSName as LocalTTSName
from settings.base import Port as Port
from settings.compat import OPENAI_VOICES as OPENAI_VOICES
from settings.compat import PLUS_DEFAULTS as PLUS_DEFAULTS
from settings.compat import AudioSettings as AudioSettings
from settings.compat import CompatSettings as CompatSettings
from settings.compat import Mp3Bitrate as Mp3Bitrate
from settings.compat import OpenAISettings as OpenAISettings
from settings.compat import RemoteName as RemoteName
from settings.compat import RemoteSettings as RemoteSettings
from settings.models import MULTILINGUAL_LANGUAGES as MULTILINGUAL_LANGUAGES
from settings.models import DownloadSettings as DownloadSettings
from settings.models import EngineSettings as EngineSettings
from settings.models import GenerationSettings as GenerationSettings
from settings.models import LimitSettings as LimitSettings
from settings.models import ModelSettings as ModelSettings
from settings.models import MultilingualSettings as MultilingualSettings
from settings.models import PiperSettings as PiperSettings
from settings.models import RemoteEngineName as RemoteEngineName
from settings.models import TurboSettings as TurboSettings
from settings.models import ValidationSettings as ValidationSettings
from settings.server import ApiKeySettings as ApiKeySettings
from settings.server import KeyName as KeyName
from settings.server import SecuritySettings as SecuritySettings
from settings.server import ServerSettings as ServerSettings
from settings.server import UISettings as UISettings
from settings.storage import HousekeepingSettings as HousekeepingSettings
from settings.storage import IndexSettings as IndexSettings
from settings.storage import PathSettings as PathSettings
from settings.storage import RetentionSettings as RetentionSettings

PROJECT_ROOT = Path(__file__).resolve().parent
DEFAULT_CONFIG_FILE = PROJECT_ROOT / "config.yaml"
CONFIG_FILE_ENV = "CHATTERBOX_CONFIG_FILE"


class Settings(BaseSettings):
    """The whole effective configuration."""

    model_config = SettingsConfigDict(
        env_prefix="CHATTERBOX_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    server: ServerSettings = ServerSettings()
    paths: PathSettings = PathSettings()
    index: IndexSettings = IndexSettings()
    engines: EngineSettings = EngineSettings()
    models: ModelSettings = ModelSettings()
    piper: PiperSettings = PiperSettings()
    generation: GenerationSettings = GenerationSettings()
    limits: LimitSettings = LimitSettings()
    audio: AudioSettings = AudioSettings()
    downloads: DownloadSettings = DownloadSettings()
    validation: ValidationSettings = ValidationSettings()
    openai: OpenAISettings = OpenAISettings()
    housekeeping: HousekeepingSettings = HousekeepingSettings()
    ui: UISettings = UISettings()
    security: SecuritySettings = SecuritySettings()
    compat: CompatSettings = CompatSettings()
    remotes: dict[RemoteName, RemoteSettings] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _plus_defaults(cls, data: Any) -> Any:
        """``compat.plus_defaults``: Plus's values for the keys the configuration leaves unset."""
        if not isinstance(data, dict):
            return data
        compat = data.get("compat")
        wanted = (
            compat.get("plus_defaults")
            if isinstance(compat, dict)
            else getattr(compat, "plus_defaults", False)
        )
        if str(wanted).lower() not in ("true", "1", "yes", "on"):
            return data
        data = dict(data)
        for section, values in PLUS_DEFAULTS.items():
            given = data.get(section) or {}
            if isinstance(given, BaseModel):
                given = given.model_dump(exclude_unset=True)
            shipped = cls.model_fields[section].default
            # A key still at its shipped value (config.yaml lists them all) takes Plus's; a changed one stays.
            changed = {
                key: value
                for key, value in given.items()
                if key not in values or str(value).lower() != str(getattr(shipped, key)).lower()
            }
            data[section] = {**given, **values, **changed}
        return data

    @model_validator(mode="after")
    def _remote_engines_exist(self) -> Settings:
        for key in ("default", "fallback"):
            name = getattr(self.engines, key) or ""
            if name.startswith("remote:"):
                remote = self.remotes.get(name.removeprefix("remote:"))
                if remote is None or not remote.enabled:
                    raise ValueError(f"engines.{key} is {name!r}, but remotes has no enabled entry for it")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The YAML file arrives as init values; the environment must win over it.
        return (env_settings, init_settings)

    def public_dict(self) -> dict[str, Any]:
        """The configuration as JSON-able data, secrets removed."""
        data = self.model_dump(mode="json")
        data["models"].pop("hf_token", None)
        data["index"]["url"] = self.index.public_url()
        data["security"]["api_keys"] = [key["name"] for key in data["security"]["api_keys"]]
        for remote in data.get("remotes", {}).values():
            remote.pop("api_key", None)
        return data


def format_validation_error(error: ValidationError) -> str:
    """One readable line per bad key: ``models.device: Input should be 'auto', ... (got 'gpu')``."""
    lines = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "(root)"
        got = f" (got {item['input']!r})" if not isinstance(item.get("input"), dict) else ""
        lines.append(f"{key}: {item['msg']}{got}")
    return "; ".join(lines)


def load_settings(config_file: Path | str | None = None, **overrides: Any) -> Settings:
    """Read the YAML file (``$CHATTERBOX_CONFIG_FILE`` or ``config.yaml``), apply env overrides, validate."""
    path = Path(config_file or os.environ.get(CONFIG_FILE_ENV) or DEFAULT_CONFIG_FILE)
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"Invalid configuration: {path} is not valid YAML: {exc}") from exc
        if not isinstance(data, dict):
            raise ConfigError(f"Invalid configuration: {path} must hold a mapping of sections")
    elif config_file is not None:
        raise ConfigError(f"Invalid configuration: config file {path} does not exist")
    for section, values in overrides.items():
        data[section] = {**data.get(section, {}), **values} if isinstance(values, dict) else values
    try:
        return Settings(**data)
    except ValidationError as exc:
        raise ConfigError(f"Invalid configuration: {format_validation_error(exc)}") from exc
