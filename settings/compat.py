"""``openai``, ``audio``, ``compat`` and ``remotes``: what other servers' clients and files expect."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr

from settings.base import Section

OPENAI_VOICES = (
    "alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer", "verse", "marin", "cedar",
)  # fmt: skip


class OpenAISettings(Section):
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


class AudioSettings(Section):
    """How mp3 and WAV files and answers are written (every route, saved files and streams)."""

    # kbit/s. At 24 kHz and below (Chatterbox, Piper) MP3 is MPEG-2, which stops at 160: higher values give 160.
    mp3_bitrate_kbps: Mp3Bitrate = 192
    # WAV samples: 16-bit integers (every player), 24/32-bit integers, or 32-bit float (what Plus wrote).
    wav_sample_format: Literal["s16", "s24", "s32", "float"] = "s16"


class CompatSettings(Section):
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


class RemoteSettings(Section):
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
