"""Server configuration: ``config.yaml`` defaults, ``CHATTERBOX_*`` environment overrides.

Environment variables override any key; nested keys use ``__``, for example
``CHATTERBOX_SERVER__PORT=8000`` or ``CHATTERBOX_MODELS__CHECKPOINT_DIR=/models/chatterbox``.
Everything is validated once, at start: a bad value raises :class:`ConfigError` naming the key.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from exceptions import ConfigError
from parameters import CfgWeight, Exaggeration, MinP, RepetitionPenalty, Temperature, TopK, TopP

PROJECT_ROOT = Path(__file__).resolve().parent
DEFAULT_CONFIG_FILE = PROJECT_ROOT / "config.yaml"
CONFIG_FILE_ENV = "CHATTERBOX_CONFIG_FILE"

EngineName = Literal["chatterbox", "chatterbox-vc", "chatterbox-multilingual", "chatterbox-turbo", "piper"]
LocalTTSName = Literal["chatterbox", "chatterbox-multilingual", "chatterbox-turbo", "piper"]
TTS_ENGINES: tuple[str, ...] = get_args(LocalTTSName)  # the one list of local text-to-speech engines
VC_ENGINES: tuple[str, ...] = tuple(name for name in get_args(EngineName) if name not in TTS_ENGINES)

Port = Annotated[int, Field(ge=1, le=65535)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerSettings(_Section):
    host: str = "127.0.0.1"
    port: Port = 7860
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "text"] = "json"


class PathSettings(_Section):
    voices_dir: Path = Path("voices")
    outputs_dir: Path = Path("outputs")
    vc_inputs_dir: Path = Path("vc_inputs")
    temp_dir: Path = Path("temp")
    index_file: Path | None = None  # None: <outputs_dir>/.index.sqlite3

    @property
    def index_path(self) -> Path:
        """Where the metadata index lives."""
        return self.index_file or self.outputs_dir / ".index.sqlite3"


class IndexSettings(_Section):
    """Where the metadata index lives: SQLite at ``paths.index_file`` (one machine), or PostgreSQL."""

    # postgresql://user:password@host:5432/database: one index for several replicas (docs/scaling.md);
    # needs the extra ``postgres`` (psycopg). null: the SQLite file.
    url: str | None = None

    @field_validator("url")
    @classmethod
    def _postgres(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not re.match(r"^postgres(ql)?://[^\s]*$", value.strip()):
            raise ValueError("must be a PostgreSQL URL such as postgresql://user:password@host:5432/database")
        return value.strip()

    def public_url(self) -> str | None:
        """The URL with its password hidden."""
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", self.url) if self.url else None


RemoteEngineName = Annotated[str, Field(pattern=r"^remote:[a-z0-9][a-z0-9_.-]{0,39}$")]  # one of `remotes`


class EngineSettings(_Section):
    default: LocalTTSName | RemoteEngineName = "chatterbox"
    fallback: LocalTTSName | RemoteEngineName | None = "piper"
    enabled: list[EngineName] = Field(default_factory=lambda: list(get_args(EngineName)))  # every one
    # Never loaded at start (models.load_on_startup), only by their first request or POST /api/v1/models/load.
    load_on_first_use: list[str] = Field(
        default_factory=lambda: ["chatterbox-multilingual", "chatterbox-turbo"]
    )


# What chatterbox-multilingual speaks (chatterbox.mtl_tts.SUPPORTED_LANGUAGES; a test keeps them equal)
MULTILINGUAL_LANGUAGES: tuple[str, ...] = (
    "ar", "da", "de", "el", "en", "es", "fi", "fr", "he", "hi", "it", "ja",
    "ko", "ms", "nl", "no", "pl", "pt", "ru", "sv", "sw", "tr", "zh",
)  # fmt: skip


class MultilingualSettings(_Section):
    """Weights of ``chatterbox-multilingual`` (23 languages)."""

    checkpoint_dir: Path | None = None  # ve.pt, t3_mtl23ls_v2.safetensors, s3gen.pt, grapheme_mtl_...json
    hf_repo: str = "ResembleAI/chatterbox"
    default_language: str = "en"  # when a request names none

    @field_validator("default_language")
    @classmethod
    def _spoken(cls, value: str) -> str:
        code = value.strip().lower()
        if code not in MULTILINGUAL_LANGUAGES:
            raise ValueError(f"{value!r} is not one of {', '.join(MULTILINGUAL_LANGUAGES)}")
        return code


class TurboSettings(_Section):
    """Weights of ``chatterbox-turbo`` (English, faster; or its smaller ``nano`` variant)."""

    checkpoint_dir: Path | None = None  # ve.safetensors, t3_turbo_v1 (or t3_nano_v1).safetensors, ...
    hf_repo: str | None = None  # None: ResembleAI/chatterbox-turbo (nano: ResembleAI/chatterbox-nano)
    variant: Literal["auto", "turbo", "nano"] = "auto"  # auto: nano when only the nano weights are there


class ModelSettings(_Section):
    device: Literal["auto", "cuda", "mps", "cpu"] = "auto"
    load_on_startup: bool = True
    idle_unload_seconds: Annotated[float, Field(ge=0)] = 0
    # MB of model weights the local engines may hold at once (least recently used unloaded first); 0: no limit.
    memory_budget_mb: Annotated[float, Field(ge=0)] = 0
    checkpoint_dir: Path | None = None
    hf_repo: str = "ResembleAI/chatterbox"
    hf_token: SecretStr | None = None
    allow_download: bool = True
    max_new_tokens: Annotated[int, Field(ge=1, le=4000)] = 1000
    # T3's decoding loop: upstream's T3.inference, or ours (engines/t3_loop.py: the same tokens at fp32,
    # batch-ready). Upstream stays the default until the benchmark shows ours faster.
    t3_loop: Literal["upstream", "own"] = "upstream"
    # With t3_loop: own, the chunks (of every request) decoded together in one T3 batch, per model.
    # More is faster in aggregate and holds more memory (a KV cache per chunk: docs/performance.md).
    t3_batch_size: Annotated[int, Field(ge=1, le=64)] = 8
    # With t3_loop: own, T3's weights (S3Gen stays float32): bfloat16 / float16 on a GPU where outputs
    # stay correct; ignored (with a warning) with t3_loop: upstream.
    dtype: Literal["float32", "bfloat16", "float16"] = "float32"
    # With t3_loop: own, torch.compile T3's layers (first calls compile; needs a C++ compiler on CPU).
    compile: bool = False
    # Compiled CPU kernels (oneDNN) kept for reuse, one per layer and input shape: each holds up to
    # ~0.5 MB, and every new text length makes new shapes. Ignored where ONEDNN_PRIMITIVE_CACHE_CAPACITY is set.
    cpu_kernel_cache: Annotated[int, Field(ge=0, le=4096)] = 128
    voice_cache_size: Annotated[int, Field(ge=0)] = 32
    voice_cache_mb: Annotated[float, Field(ge=0)] = 512
    conditionals_cache_dir: Path | None = Path("cache/conditionals")
    warm_voices: list[str] = Field(default_factory=list)
    watermark: bool = True
    multilingual: MultilingualSettings = MultilingualSettings()
    turbo: TurboSettings = TurboSettings()


class PiperSettings(_Section):
    voices_dir: Path = Path("voices/piper")
    default_voice: str = "en_US-joe-medium"


class GenerationSettings(_Section):
    exaggeration: Exaggeration = 0.5
    cfg_weight: CfgWeight = 0.5
    temperature: Temperature = 0.8
    repetition_penalty: RepetitionPenalty = 1.2
    min_p: MinP = 0.05
    top_p: TopP = 1.0
    top_k: TopK = 1000  # chatterbox-turbo only


class LimitSettings(_Section):
    max_text_length: Annotated[int, Field(ge=1)] = 10_000
    max_upload_mb: Annotated[float, Field(gt=0)] = 50
    max_archive_mb: Annotated[float, Field(gt=0)] = 2048  # a voice library zip (import), unpacked size too
    max_chunk_chars: Annotated[int, Field(ge=50, le=1000)] = 300
    max_queued_requests: Annotated[int, Field(ge=0)] = 100


class ValidationSettings(_Section):
    bypass: bool = False  # default of bypass_whisper_checking
    num_candidates_per_chunk: Annotated[int, Field(ge=1, le=10)] = 1
    max_attempts_per_candidate: Annotated[int, Field(ge=1, le=10)] = 3
    whisper_model: str = "tiny.en"
    whisper_models_dir: Path = Path("models/whisper")
    allow_download: bool = True
    min_score: Annotated[float, Field(ge=0, le=1)] = 0.85
    use_longest_transcript_on_fail: bool = True


class DownloadSettings(_Section):
    enabled: bool = True
    max_mb: Annotated[float, Field(gt=0)] = 50
    timeout_seconds: Annotated[float, Field(gt=0)] = 30
    allow_private_addresses: bool = False


OPENAI_VOICES = (
    "alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer", "verse", "marin", "cedar",
)  # fmt: skip


class OpenAISettings(_Section):
    """``POST /v1/audio/speech``: OpenAI's model and voice names mapped to ours."""

    max_input_chars: Annotated[int, Field(ge=1, le=100_000)] = 4096
    # OpenAI model name -> engine ("default": the engine serving requests that name none).
    models: dict[str, str] = Field(
        default_factory=lambda: {"tts-1": "default", "tts-1-hd": "default", "gpt-4o-mini-tts": "default"}
    )
    # Voice alias -> a voice in voices/ (e.g. alloy: narrator). OpenAI voice names not listed here
    # speak with fallback_voice, or the engine's built-in voice when that is unset.
    voices: dict[str, str] = Field(default_factory=dict)
    fallback_voice: str | None = None
    # Save each result in outputs/ as a wav (with its .json record) once it has been streamed whole.
    # Off by default: chat clients read every message aloud and would fill the folder.
    save_outputs: bool = False


Mp3Bitrate = Literal[32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320]  # MPEG-1 Layer III


class AudioSettings(_Section):
    """How mp3 and WAV files and answers are written (every route, saved files and streams)."""

    # kbit/s. At 24 kHz and below (Chatterbox, Piper) MP3 is MPEG-2, which stops at 160: higher values give 160.
    mp3_bitrate_kbps: Mp3Bitrate = 192
    # WAV samples: 16-bit integers (every player), 24/32-bit integers, or 32-bit float (what Plus wrote).
    wav_sample_format: Literal["s16", "s24", "s32", "float"] = "s16"


class CompatSettings(_Section):
    """Answers for clients written against other servers (docs/clients.md, docs/migration-from-plus.md)."""

    # /v1/audio/speech: true answers unknown body fields with a 400 and an unknown `model` with a 404;
    # false (as OpenAI-compatible servers do) ignores them and names them in X-Ignored-Fields / X-Model-Ignored.
    strict_openai: bool = False
    # Error bodies also carry Plus's `success: false` and `error_code` (also per request: ?compat=plus or
    # the header X-Compat: plus).
    error_fields: bool = False
    # Plus's defaults: temperature 0.75, cfg_weight 1.0, no watermark, mp3 320 kbps, float WAV (keys set
    # explicitly win).
    plus_defaults: bool = False


PLUS_DEFAULTS: dict[str, dict[str, Any]] = {
    "generation": {"temperature": 0.75, "cfg_weight": 1.0},
    "models": {"watermark": False},
    "audio": {"mp3_bitrate_kbps": 320, "wav_sample_format": "float"},
}


RemoteName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,39}$")]


class RemoteSettings(_Section):
    """An OpenAI-compatible speech server (OpenAI, AllTalk, another instance of this one) used as engine
    ``remote:<name>``: text goes to ``<base_url>/v1/audio/speech``, the audio comes back decoded."""

    enabled: bool = True
    base_url: Annotated[str, Field(pattern=r"^https?://[^\s/]+")]  # e.g. http://127.0.0.1:7851 (no /v1)
    api_key: SecretStr | None = None  # sent as "Authorization: Bearer ..."; never shown by /api/v1/config
    model: str = "tts-1"
    voices: dict[str, str] = Field(default_factory=dict)  # our voice name -> the remote's
    default_voice: str = "alloy"  # sent when a request names no voice
    pass_through_voices: bool = True  # voices not in `voices` are sent as they are; False: a 404
    response_format: Literal["wav", "pcm"] = "wav"  # what is asked for on the wire
    pcm_sample_rate: Annotated[int, Field(ge=8000, le=192_000)] = 24_000  # the rate of "pcm" answers
    timeout_seconds: Annotated[float, Field(gt=0, le=3600)] = 120
    send_extensions: bool = False  # also send exaggeration, cfg_weight, temperature, seed, language
    languages: list[str] = Field(default_factory=lambda: ["en"])  # what it speaks, the default first
    max_chunk_chars: Annotated[int, Field(ge=50, le=100_000)] | None = None  # None: whole text per call
    concurrency: Annotated[int, Field(ge=1, le=32)] = 4  # calls in flight at once


class RetentionSettings(_Section):
    """Optional limits on outputs/: the oldest files go first. Unset: kept forever."""

    max_age_days: Annotated[float, Field(gt=0)] | None = None
    max_total_mb: Annotated[float, Field(gt=0)] | None = None


class HousekeepingSettings(_Section):
    """Removing empty, unreadable and stale files from the data folders (and the index)."""

    enabled: bool = True  # run every interval_hours
    on_start: bool = True  # run once when the server starts
    interval_hours: Annotated[float, Field(gt=0)] = 4
    temp_max_age_minutes: Annotated[float, Field(ge=0)] = 60  # temp files and .part writes older than this
    grace_seconds: Annotated[float, Field(ge=0)] = 60  # newer files are left alone (may be being written)
    retention: RetentionSettings = RetentionSettings()


class UISettings(_Section):
    """The browser UI at ``/ui`` (Gradio, in the same process)."""

    enabled: bool = True


KeyName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")]


class ApiKeySettings(_Section):
    """One API key: its SHA-256 (hex) in the file, or the name of an environment variable holding it."""

    name: KeyName  # shown in logs and metrics instead of the key
    sha256: Annotated[str, Field(pattern=r"^[0-9a-fA-F]{64}$")] | None = None  # sha256sum of the key
    env: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")] | None = None  # variable holding the key

    @model_validator(mode="after")
    def _one_source(self) -> ApiKeySettings:
        if (self.sha256 is None) == (self.env is None):
            raise ValueError(f"api key {self.name!r} needs exactly one of sha256 or env")
        return self


class SecuritySettings(_Section):
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
