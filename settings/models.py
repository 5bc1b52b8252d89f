"""``engines``, ``models``, ``piper``, ``generation``, ``limits``, ``validation``, ``downloads``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, get_args

from pydantic import Field, SecretStr, field_validator

from engines.base import SynthesisParams
from parameters import CfgWeight, Exaggeration, MinP, RepetitionPenalty, Temperature, TopK, TopP
from settings.base import EngineName, LocalTTSName, Section

RemoteEngineName = Annotated[str, Field(pattern=r"^remote:[a-z0-9][a-z0-9_.-]{0,39}$")]  # one of `remotes`


class EngineSettings(Section):
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


class MultilingualSettings(Section):
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


class TurboSettings(Section):
    """Weights of ``chatterbox-turbo`` (English, faster; or its smaller ``nano`` variant)."""

    checkpoint_dir: Path | None = None  # ve.safetensors, t3_turbo_v1 (or t3_nano_v1).safetensors, ...
    hf_repo: str | None = None  # None: ResembleAI/chatterbox-turbo (nano: ResembleAI/chatterbox-nano)
    variant: Literal["auto", "turbo", "nano"] = "auto"  # auto: nano when only the nano weights are there


class ModelSettings(Section):
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
    # T3's decoding loop: ours (engines/t3_loop.py: upstream's tokens at fp32, continuous batching across
    # requests, streaming windows), or upstream's T3.inference, one chunk at a time.
    t3_loop: Literal["upstream", "own"] = "own"
    # With t3_loop: own, the chunks (of every request) decoded together in one T3 batch, per model.
    # More is faster in aggregate and holds more memory (a KV cache per chunk: docs/performance.md).
    t3_batch_size: Annotated[int, Field(ge=1, le=64)] = 8
    # With t3_loop: own, T3's weights (S3Gen: s3gen_dtype): bfloat16 / float16 on a GPU where outputs
    # stay correct, or bfloat16 on a CPU with AVX-512 BF16 / AMX with cpu_packed_weights (oneDNN's bf16
    # kernels: docs/performance.md); ignored (with a warning) with t3_loop: upstream.
    dtype: Literal["float32", "bfloat16", "float16"] = "float32"
    # S3Gen's flow-matching estimator (most of a vocoding's time) under autocast at this precision, its
    # weights and the solver's state staying float32 (engines/s3gen_setup.py), any t3_loop, voice
    # conversion too: bfloat16 on a CPU with AVX-512 BF16 / AMX (~2.3x faster there), bfloat16 / float16
    # on a GPU. The audio is not bitwise float32's (docs/performance.md).
    s3gen_dtype: Literal["float32", "bfloat16", "float16"] = "float32"
    # With t3_loop: own, torch.compile T3's layers (first calls compile; needs a C++ compiler on CPU).
    compile: bool = False
    # With t3_loop: own, on a CPU: T3's decode steps multiply by a copy of its weights packed once for
    # oneDNN (engines/t3_packing.py): batched steps 1.5-1.7x faster, one sequence alone ~16% slower, about 2 GB more memory at fp32
    # (1 GB at bf16), and tokens no longer bitwise upstream's (still independent of the batch). Ignored on a GPU.
    cpu_packed_weights: bool = False
    # On a CUDA device: with t3_loop: own, each T3 decode step is replayed from a CUDA graph (one per
    # batch size) instead of ~1,200 kernel launches; S3Gen's flow-matching estimator likewise (one graph
    # per length bucket, any t3_loop). Ignored on a CPU (docs/performance.md, "On a GPU").
    cuda_graphs: bool = False
    # With t3_loop: own, a stream (stream: true, SSE, OpenAI) sends its first chunk in S3Gen windows while
    # T3 decodes it; a later chunk only while the audio already sent is less than this many seconds ahead
    # of the listener (else whole: one S3Gen call; core/windows.py, docs/performance.md).
    stream_window_margin_seconds: Annotated[float, Field(ge=0, le=60)] = 2.0
    # With t3_loop: own, consecutive chunks of one text (not streamed) up to this many characters are
    # decoded together and vocoded by S3Gen in one pass, which reads the voice's prompt once for them
    # all instead of once a chunk (docs/performance.md); 0: each chunk alone, as upstream's generate().
    vocode_group_chars: Annotated[int, Field(ge=0, le=2000)] = 400
    # Compiled CPU kernels (oneDNN) kept for reuse, one per layer and input shape: each holds up to
    # ~0.5 MB, and every new text length makes new shapes. Ignored where ONEDNN_PRIMITIVE_CACHE_CAPACITY is set.
    cpu_kernel_cache: Annotated[int, Field(ge=0, le=4096)] = 128
    # Threads for one torch operator on the CPU (the Chatterbox engines; process-wide). 0: torch's choice,
    # one per physical core, which measured fastest on an idle machine; under contention from other
    # processes 1 can be faster (docs/performance.md). A Ray Serve replica with 0 uses the CPUs it holds.
    torch_threads: Annotated[int, Field(ge=0, le=256)] = 0
    voice_cache_size: Annotated[int, Field(ge=0)] = 32
    voice_cache_mb: Annotated[float, Field(ge=0)] = 512
    conditionals_cache_dir: Path | None = Path("cache/conditionals")
    warm_voices: list[str] = Field(default_factory=list)
    watermark: bool = True
    multilingual: MultilingualSettings = MultilingualSettings()
    turbo: TurboSettings = TurboSettings()


class PiperSettings(Section):
    voices_dir: Path = Path("voices/piper")
    default_voice: str = "en_US-joe-medium"
    # ONNX Runtime's intra-op threads per Piper call; 0: its own choice (one per physical core), which
    # measures best for the single-process server. A Ray replica uses one per CPU it holds (serving/).
    intra_op_threads: Annotated[int, Field(ge=0, le=256)] = 0
    # Piper's two random draws (its --noise-scale and --noise-w); None: what the voice's .onnx.json says.
    # noise_w_scale 0 gives every phoneme the same length on every request: the same text, the same duration.
    noise_scale: Annotated[float, Field(ge=0, le=2)] | None = None
    noise_w_scale: Annotated[float, Field(ge=0, le=2)] | None = None


class GenerationSettings(Section):
    # What a request leaves unset; by default what an engine does when nothing is set: the defaults
    # of engines.base.SynthesisParams, declared there once (a comment: a docstring would enter the schema).
    exaggeration: Exaggeration = SynthesisParams.exaggeration
    cfg_weight: CfgWeight = SynthesisParams.cfg_weight
    temperature: Temperature = SynthesisParams.temperature
    repetition_penalty: RepetitionPenalty = SynthesisParams.repetition_penalty
    min_p: MinP = SynthesisParams.min_p
    top_p: TopP = SynthesisParams.top_p
    top_k: TopK = SynthesisParams.top_k  # chatterbox-turbo only


class LimitSettings(Section):
    max_text_length: Annotated[int, Field(ge=1)] = 10_000
    max_upload_mb: Annotated[float, Field(gt=0)] = 50
    max_archive_mb: Annotated[float, Field(gt=0)] = 2048  # a voice library zip (import), unpacked size too
    max_chunk_chars: Annotated[int, Field(ge=50, le=1000)] = 300
    max_queued_requests: Annotated[int, Field(ge=0)] = 100


class ValidationSettings(Section):
    bypass: bool = False  # default of bypass_whisper_checking
    num_candidates_per_chunk: Annotated[int, Field(ge=1, le=10)] = 1
    max_attempts_per_candidate: Annotated[int, Field(ge=1, le=10)] = 3
    whisper_model: str = "tiny.en"
    whisper_models_dir: Path = Path("models/whisper")
    allow_download: bool = True
    min_score: Annotated[float, Field(ge=0, le=1)] = 0.85
    use_longest_transcript_on_fail: bool = True


class DownloadSettings(Section):
    enabled: bool = True
    max_mb: Annotated[float, Field(gt=0)] = 50
    timeout_seconds: Annotated[float, Field(gt=0)] = 30
    allow_private_addresses: bool = False
