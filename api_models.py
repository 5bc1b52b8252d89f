"""Request and response shapes of the HTTP API (pydantic only)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

Exaggeration = Annotated[float, Field(ge=0, le=2)]
CfgWeight = Annotated[float, Field(ge=0, le=2)]
Temperature = Annotated[float, Field(ge=0.05, le=5)]
Probability = Annotated[float, Field(ge=0, le=1)]
Seed = Annotated[int, Field(ge=0, le=2**32 - 1)]


class _Lenient(BaseModel):
    # Plus ignored unknown fields; scripts that send extra ones keep working.
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


ResponseMode = Literal["stream", "file", "download", "url", "json"]


class SaveFields(_Lenient):
    """Where results go and how they come back (TTS, VC and concatenation)."""

    export_formats: list[str] = Field(
        default_factory=lambda: ["wav", "mp3"],
        description="Formats to save: wav, mp3, flac, opus, aac, pcm. The first is the primary one.",
    )
    project: str | None = Field(
        None,
        description="Folder inside outputs/ for the files, e.g. `book/chapter1` (created if missing). Alias: `folder`.",
    )
    folder: str | None = Field(None, description="Alias of `project` (Plus).", exclude=True)
    response_mode: ResponseMode | None = Field(
        None,
        description="`stream` (default; also `file`, `download`): the audio bytes. `url`/`json`: a JSON description. "
        "The query parameter of the same name wins.",
    )
    return_format: str | None = Field(
        None, description="Which export format to stream (default: the first). The query parameter wins."
    )

    @field_validator("export_formats")
    @classmethod
    def _some_formats(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("must name at least one format")
        return list(dict.fromkeys(f.lower().strip() for f in value))

    @field_validator("folder")
    @classmethod
    def _alias_agrees(cls, value: str | None, info: ValidationInfo) -> str | None:
        project = info.data.get("project")
        if value is not None and project is not None and project != value:
            raise ValueError("'folder' is an alias of 'project' and they disagree; send one of them")
        return value

    @model_validator(mode="after")
    def _project_alias(self) -> SaveFields:
        if self.folder is not None:
            self.project = self.folder
        return self


class OutputFields(SaveFields):
    """Where results go and the post-processing applied to them (TTS and VC)."""

    speed_factor: Annotated[float, Field(ge=0.5, le=2.0)] = Field(
        1.0, description="Speed, keeping the pitch: 2.0 is twice as fast (half the duration), 0.5-2.0."
    )
    trim: bool = Field(False, description="Remove leading and trailing silence.")
    trim_threshold_ms: Annotated[int, Field(ge=50, le=1000)] = Field(
        200,
        description="Trim cuts a leading or trailing silence longer than this (ms) down to 50 ms, 50-1000.",
    )
    normalize_audio: bool = Field(False, description="Normalise loudness after generation.")
    normalize_method: Literal["ebu", "peak"] = Field(
        "ebu",
        description="`ebu`: integrated loudness (EBU R128) to `normalize_level` LUFS; `peak`: peak to `normalize_level` dBFS.",
    )
    normalize_level: Annotated[float, Field(ge=-70, le=0)] = Field(
        -24.0, description="Target: LUFS (ebu) or dBFS (peak)."
    )
    normalize_tp: Annotated[float, Field(ge=-9, le=0)] = Field(
        -2.0, description="True-peak ceiling in dBFS (ebu)."
    )
    normalize_lra: Annotated[float, Field(ge=1, le=50)] = Field(
        7.0,
        description="Loudness range target in LU (ebu), 1-50: a clip with a wider range is compressed "
        "(FFmpeg loudnorm's dynamic mode); otherwise one gain is applied.",
    )
    use_auto_editor: bool = Field(
        False,
        description="Shorten silences inside the audio to 2 x `ae_margin` (after trim, before loudness).",
    )
    ae_threshold: Annotated[float, Field(ge=0, le=1)] = Field(
        0.06,
        description="Auto-editor: audio whose peak stays below this fraction of full scale is silence, 0-1.",
    )
    ae_margin: Annotated[float, Field(ge=0, le=1)] = Field(
        0.2, description="Auto-editor: seconds of silence kept on each side of sound, 0-1."
    )
    keep_original_wav_ae: bool = Field(
        False,
        description="With `use_auto_editor`: also save the audio without it as `<name>_original.wav`.",
    )

    @field_validator("normalize_level")
    @classmethod
    def _ebu_level_in_range(cls, value: float, info: ValidationInfo) -> float:
        if info.data.get("normalize_audio") and info.data.get("normalize_method") == "ebu" and value > -5:
            raise ValueError("the ebu method takes a loudness target from -70 to -5 LUFS")
        return value


class TTSRequest(OutputFields):
    """Body of ``POST /api/v1/tts``."""

    text: str = Field(description="Text to speak. Long text is split at sentence boundaries.")
    engine: str | None = Field(
        None,
        description="Engine: `chatterbox`, `piper` or a configured remote `remote:<name>`. Default: the configured engine (or its fallback).",
    )
    stream: bool = Field(
        False,
        description="Send the audio as it is generated, sentence by sentence (chunked transfer), in the first "
        "export format (or `return_format`); every export format is saved once the last piece is sent. "
        "Not with `trim`, `normalize_audio`, `use_auto_editor` or `timestamps`, which need the whole audio.",
    )
    timestamps: bool = Field(
        False,
        description="Return the start and end (seconds) of each sentence piece in the JSON answer "
        "(and its metadata). The text is cut into pieces at sentence boundaries for this, whatever the engine. "
        "Not with `use_auto_editor`.",
    )
    language: str | None = Field(
        None,
        max_length=35,
        pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$",
        description="Language of the text, e.g. `en` (`en-US` and `en_US` mean `en`), for engines that take one. "
        "Omitted: the engine's default (Piper: the voice's language). One the engine cannot speak is a 400.",
    )
    voice: str | None = Field(
        None,
        validation_alias=AliasChoices("voice", "reference_audio_filename"),
        description="Chatterbox: a reference audio file in voices/ (name or relative path, extension optional). "
        "Piper: a Piper voice name. Omitted: the engine's built-in voice. Alias: `reference_audio_filename`.",
    )
    exaggeration: Exaggeration | None = Field(None, description="Emotion intensity, 0-2 (Chatterbox).")
    cfg_weight: CfgWeight | None = Field(
        None, description="Classifier-free guidance weight, 0-2 (Chatterbox)."
    )
    temperature: Temperature | None = Field(None, description="Sampling temperature, 0.05-5 (Chatterbox).")
    repetition_penalty: Annotated[float, Field(ge=1, le=3)] | None = Field(
        None, description="Penalty for repeated speech tokens, 1-3 (Chatterbox)."
    )
    min_p: Probability | None = Field(None, description="Min-p sampling, 0-1 (Chatterbox).")
    top_p: Probability | None = Field(None, description="Top-p sampling, 0-1 (Chatterbox).")
    top_k: Annotated[int, Field(ge=1, le=6563)] | None = Field(
        None,
        description="Top-k sampling: keep the k likeliest tokens (chatterbox-turbo only; other engines "
        "ignore it). Default: 1000.",
    )
    seed: Seed | None = Field(
        None, description="Seed for repeatable output; 0 or omitted picks one at random."
    )
    disable_watermark: bool | None = Field(
        None, description="Skip Chatterbox's Perth watermark. Default: from config (watermark on)."
    )
    to_lowercase: bool = Field(True, description="Lower-case the text before speaking it.")
    normalize_spacing: bool = Field(True, description="Collapse runs of whitespace to one space.")
    fix_dot_letters: bool = Field(True, description="Read dotted initials as letters: `J.R.R.` -> `J R R`.")
    remove_reference_numbers: bool = Field(
        True, description="Drop citation marks: `[12]`, and digits glued after punctuation (`end.12`)."
    )
    sound_words_field: str = Field(
        "",
        max_length=10_000,
        description="Words to remove (`hmm`) or replace (`ahh=>um`), separated by commas or new lines; "
        "whole words, any case.",
    )
    enable_batching: bool = Field(
        False,
        description="Pack sentences into chunks of up to limits.max_chunk_chars (fewer, longer generations).",
    )
    smart_batch_short_sentences: bool = Field(
        True, description="Without batching: a sentence under 20 characters joins its neighbour."
    )
    num_candidates_per_chunk: Annotated[int, Field(ge=1, le=10)] | None = Field(
        None,
        description="Takes per chunk, checked by Whisper; the closest to the text wins. Default: config.",
    )
    max_attempts_per_candidate: Annotated[int, Field(ge=1, le=10)] | None = Field(
        None, description="Rounds of takes while none matches the text. Default: config."
    )
    bypass_whisper_checking: bool | None = Field(None, description="Skip Whisper checking. Default: config.")
    whisper_model_name: str | None = Field(
        None,
        max_length=100,
        description="Whisper model for checking (tiny.en ships with the server; others from "
        "validation.whisper_models_dir or the Hub). Unavailable: the default is used and a warning returned.",
    )
    use_faster_whisper: bool = Field(
        True, description="Accepted for Plus scripts; checking always uses faster-whisper."
    )
    use_longest_transcript_on_fail: bool | None = Field(
        None,
        description="When no take matches: keep the longest transcript (true) or the best score (false).",
    )

    @field_validator("text")
    @classmethod
    def _text_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value


class VCRequest(OutputFields):
    """Body of ``POST /api/v1/vc`` (JSON form)."""

    input_audio_source: str | None = Field(
        None,
        description="The clip to re-voice: a file in vc_inputs/, or a URL. Or upload `input_audio` (multipart).",
    )
    chunk_sec: Annotated[float, Field(ge=1, le=300)] = Field(
        60, description="Inputs longer than this (seconds) are converted in windows, 1-300."
    )
    overlap_sec: Annotated[float, Field(ge=0, le=5)] = Field(
        0.1, description="Overlap between windows, crossfaded when joining (seconds), 0-5."
    )
    save_input: bool = Field(
        True, description="Multipart: keep the uploaded `input_audio` in vc_inputs/ (under `project`)."
    )
    target_voice_source: str | None = Field(
        None, description="The voice to speak with: a file in voices/. Omitted: the built-in voice."
    )
    seed: Seed | None = Field(None, description="Seed for repeatable output; 0 or omitted picks one.")
    disable_watermark: bool | None = Field(
        None, description="Skip the Perth watermark. Default: from config."
    )


class OutputFileInfo(BaseModel):
    """One saved file."""

    format: str
    filename: str
    url: str = Field(description="Where to fetch it: /outputs/<path>.")
    path: str = Field(description="Its path on the server, relative to the working directory.")


class TimestampInfo(BaseModel):
    """When a piece of the text is heard in the saved audio."""

    index: int
    text: str = Field(description="The piece as spoken (after text handling).")
    start: float = Field(description="Seconds from the start of the audio.")
    end: float = Field(description="Seconds from the start of the audio.")


class ChunkInfo(BaseModel):
    """How one chunk of text was generated."""

    index: int
    text: str
    takes: int = Field(description="Takes generated for this chunk.")
    score: float | None = Field(
        description="Whisper similarity of the kept take to the text (null: not checked)."
    )
    transcript: str | None = Field(description="What Whisper heard in the kept take.")
    passed: bool | None = Field(description="Whether the kept take matched the text (null: not checked).")


class SpeechResponse(BaseModel):
    """The JSON answer of TTS and VC in `url`/`json` mode (Plus's shape, plus what we know)."""

    success: bool = True
    message: str
    output_files: list[OutputFileInfo]
    generation_seed_used: int | None = None
    processing_time_seconds: float
    engine: str
    duration_seconds: float
    sample_rate: int
    chunks: list[ChunkInfo]
    warnings: list[str] = Field(default_factory=list)
    timestamps: list[TimestampInfo] | None = Field(
        None, description="With `timestamps: true`: each piece of text and when it is heard."
    )


class EngineRequest(BaseModel):
    """Body of ``POST /api/v1/models/load`` and ``/unload``."""

    model_config = ConfigDict(extra="forbid")
    engine: str = Field(description="Engine name, e.g. `chatterbox`, `chatterbox-vc`, `piper`.")


class EngineInfo(BaseModel):
    """An engine's state."""

    model_config = ConfigDict(extra="allow")
    name: str
    kind: str
    state: str = Field(description="unloaded, loading, ready or failed")
    error: str | None = Field(None, description="Why the engine cannot run, when it failed.")


class EngineListResponse(BaseModel):
    """Every configured engine."""

    default: str
    serving: str | None = Field(description="The engine that answers requests naming none.")
    serving_reason: str | None = Field(description="Why that is not the default engine, if it is not.")
    engines: list[EngineInfo]


class ErrorInfo(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorResponse(BaseModel):
    """Every error, OpenAI's shape; ``detail`` repeats the message for old Plus clients."""

    error: ErrorInfo
    detail: str


class HealthResponse(BaseModel):
    """Readiness and state; answered with 503 while the serving engine loads or when none can serve."""

    model_config = ConfigDict(extra="allow")
    status: str = Field(
        description="healthy, degraded (default engine failed, fallback serves), loading or unavailable"
    )
    serving_engine: str | None
    serving_reason: str | None
    default_engine: str
    engines: list[EngineInfo]
    models_loaded: dict[str, bool]
    queue_depth: int
    version: str
    uptime_seconds: float
    system_info: dict[str, Any]
    warnings: list[str] | None = None
    metrics: dict[str, Any] = Field(description="Request counts and rates since start.")
    resource_status: dict[str, Any] = Field(description="Size and file count of each data folder.")
    error_summary: dict[str, Any] | None = Field(None, description="Server errors since start; null if none.")


class ConcatOptionsFields(SaveFields):
    """How segments are joined (``/api/v1/concat`` and ``/api/v1/concat/mixed``)."""

    export_formats: list[str] = Field(
        default_factory=lambda: ["wav"],
        description="Formats to save: wav, mp3, flac, opus, aac, pcm. The first is the primary one.",
    )
    crossfade_ms: Annotated[int, Field(ge=0, le=5000)] = Field(
        0, description="Crossfade where two audio segments meet (ms, 0-5000); each one shortens the total."
    )
    pause_duration_ms: Annotated[int, Field(ge=0, le=3000)] = Field(
        0,
        description="Pause inserted between audio segments (ms, 0-3000). A silence item replaces it at its gap.",
    )
    pause_variation_ms: Annotated[int, Field(ge=0, le=500)] = Field(
        200, description="Each pause varies at random by up to this (ms, 0-500), never below 0; see `seed`."
    )
    seed: Seed = Field(0, description="Seed for the pause variation (0: random); the seed used is returned.")
    trim: bool = Field(
        False, description="Trim leading/trailing silence of each audio segment before joining."
    )
    trim_threshold_ms: Annotated[int, Field(ge=50, le=1000)] = Field(
        200, description="Trim cuts an edge silence longer than this (ms) down to 50 ms, 50-1000."
    )
    normalize_levels: bool = Field(
        True, description="Bring every audio segment to `normalize_level` LUFS, so they match."
    )
    normalize: bool = Field(False, description="Bring the whole result to `normalize_level` LUFS.")
    normalize_level: Annotated[float, Field(ge=-70, le=-5)] = Field(
        -23.0, description="Loudness target in LUFS (EBU R128)."
    )
    normalize_tp: Annotated[float, Field(ge=-9, le=0)] = Field(
        -1.0, description="Peak ceiling in dBFS that loudness changes never push past."
    )
    output_filename: str | None = Field(
        None,
        max_length=200,
        description="Name for the result (extension dropped). Default: a generated `concat_...` name.",
    )
    overwrite: bool = Field(False, description="Replace an existing output of that name (else 409).")


class ConcatRequest(ConcatOptionsFields):
    """Body of ``POST /api/v1/concat``."""

    files: list[str] = Field(
        min_length=1,
        max_length=5000,
        description="In order: files in outputs/ (`book/ch1.wav`), `voice:<name>` or `vc_input:<name>`, "
        "and silences such as `(500ms)` or `(1.5s)` (50 ms-10 s).",
    )


class MixedSegment(_Lenient):
    """One item of ``/api/v1/concat/mixed``."""

    type: Literal["server_file", "upload", "silence"]
    source: str | None = Field(None, description="server_file: a path as in `files`; silence: `(500ms)`.")
    index: Annotated[int, Field(ge=0)] | None = Field(
        None, description="upload: which `uploaded_files` entry."
    )

    @model_validator(mode="after")
    def _has_what_it_needs(self) -> MixedSegment:
        if self.type == "upload" and self.index is None:
            raise ValueError("an 'upload' segment needs 'index'")
        if self.type != "upload" and not self.source:
            raise ValueError(f"a {self.type!r} segment needs 'source'")
        return self


class MixedConcatRequest(ConcatOptionsFields):
    """The ``request_json`` form field of ``POST /api/v1/concat/mixed``."""

    segments: list[MixedSegment] = Field(min_length=1, max_length=5000)


class ConcatResponse(BaseModel):
    """The JSON answer of concatenation (Plus's shape, plus the TTS-style file list)."""

    success: bool = True
    message: str
    output_files: list[str] = Field(description="The files' paths under outputs/ (bare names at its root).")
    files: list[OutputFileInfo]
    total_duration_seconds: float
    file_count: int = Field(description="Audio segments joined.")
    silence_count: int
    sample_rate: int
    seed_used: int
    processing_time_seconds: float
    metadata: dict[str, Any] = Field(description="The recorded recipe (also in the output's sidecar).")


# ---- libraries: outputs/ and vc_inputs/ ---------------------------------------------------------


class LibraryFileInfo(BaseModel):
    """One audio file in a library (Plus's item, plus its path, sample rate and full metadata)."""

    filename: str
    path: str = Field(description="Relative to the library folder; what the other endpoints take.")
    folder_path: str | None = Field(description="Its folder inside the library; null for the root.")
    created_date: str = Field(description="ISO 8601: when it was made (its record), else modified.")
    file_size_bytes: int
    duration_seconds: float | None = Field(description="From its record or its headers; null: unknown.")
    sample_rate: int | None
    format: str = Field(description="The file's extension: wav, mp3, flac, opus, aac, pcm, ogg, m4a, webm.")
    text: str | None = Field(description="The text spoken (TTS) or given with an uploaded VC input.")
    metadata: dict[str, Any] = Field(description="The whole metadata sidecar (empty when there is none).")


class OutputInfo(LibraryFileInfo):
    """One file in outputs/; an output saved in several formats is one item per format."""

    url: str = Field(description="Where to fetch it: /outputs/<path>.")
    generation_type: str = Field(description="tts, vc, concat, or unknown (a file without a record).")
    parameters: dict[str, Any] = Field(description="The generation parameters from its record.")
    source_files: list[str] = Field(description="Inputs it was made from (VC source, concat parts).")
    formats: dict[str, str] = Field(description="Every format of the same output: format -> URL.")


class _Paged(BaseModel):
    count: int = Field(description="Items on this page.")
    page: int
    page_size: int
    total_pages: int = Field(description="At least 1.")
    has_next: bool
    has_previous: bool
    total_files: int = Field(description="Matches over all pages.")


class OutputListResponse(_Paged):
    """A page of outputs (Plus's shape)."""

    files: list[OutputInfo]


class VCInputListResponse(_Paged):
    """A page of VC inputs (Plus's shape)."""

    files: list[LibraryFileInfo]


class FolderInfo(BaseModel):
    """A folder and the ones inside it."""

    path: str = Field(description='"root" for the library folder itself, else e.g. "book/chapter1".')
    file_count: int = Field(description="Audio files directly in this folder.")
    voice_count: int = Field(description="The same number, under Plus's name.")
    subfolders: list[FolderInfo]


class FolderTreeResponse(BaseModel):
    """Folders holding audio files; the root first when it holds any."""

    folders: list[FolderInfo]
    total_folders: int
    total_files: int
    total_voices: int = Field(description="The same as total_files, under Plus's name.")


class DeleteResponse(BaseModel):
    """What was deleted (or, with dry_run, would be)."""

    success: bool = True
    message: str
    dry_run: bool = False
    deleted_files: list[str] = Field(description="Audio files and their sidecars, relative paths.")
    deleted_count: int = Field(description="Audio files (sidecars not counted).")
    removed_folders: list[str] = Field(default_factory=list, description="Folders left empty and removed.")


class VCInputUploadResponse(BaseModel):
    """Answer of ``POST /api/v1/vc_input`` (Plus's shape, plus ``path``)."""

    success: bool = True
    message: str
    filename: str
    path: str = Field(description="Relative to vc_inputs/: pass it as `input_audio_source`.")
    metadata: dict[str, Any]


class RescanResponse(BaseModel):
    """What a rescan of a library changed in the index."""

    added: int
    updated: int
    removed: int
    total: int


class VoiceParameters(BaseModel):
    """A voice's default generation parameters (Chatterbox's, checked; other keys are kept as sent)."""

    model_config = ConfigDict(extra="allow")

    exaggeration: Exaggeration | None = Field(None, description="Emotion intensity, 0-2.")
    cfg_weight: CfgWeight | None = Field(None, description="Classifier-free guidance weight, 0-2.")
    temperature: Temperature | None = Field(None, description="Sampling temperature, 0.05-5.")
    repetition_penalty: Annotated[float, Field(ge=1, le=3)] | None = Field(None, description="1-3.")
    min_p: Probability | None = Field(None, description="Min-p sampling, 0-1.")
    top_p: Probability | None = Field(None, description="Top-p sampling, 0-1.")
    seed: Seed | None = Field(None, description="Random seed.")
    speed: Annotated[float, Field(ge=0.25, le=4)] | None = Field(None, description="Speed factor, 0.25-4.")


class VoiceQualityInfo(BaseModel):
    """How fit the clip is as a cloning reference (measured at upload)."""

    duration_seconds: float
    sample_rate: int
    peak_dbfs: float | None = Field(description="Sample peak; null: digital silence.")
    rms_dbfs: float | None
    loudness_lufs: float | None = Field(description="Integrated loudness (EBU R128); null: unmeasurable.")
    clipping_ratio: float = Field(description="Share of samples at full scale.")
    noise_floor_dbfs: float | None = Field(description="Level of the quietest 10% of 50 ms frames.")
    warnings: list[str] = Field(description="short, long, clipping, quiet, noisy, silent: what to fix.")


class VoiceInfo(BaseModel):
    """One voice (Plus's VoiceMetadata, plus ``path``, ``filename`` and ``audio_url``)."""

    name: str = Field(description="The voice's name: its file name without the extension.")
    filename: str
    path: str = Field(
        description="Relative to voices/: pass it as a TTS `voice` or VC `target_voice_source`."
    )
    url: str = Field(description="Plus's field: the same relative path (not a URL).")
    audio_url: str = Field(description="Where to download or play the audio.")
    folder_path: str | None = Field(description="Its folder inside voices/; null for the root.")
    description: str
    tags: list[str]
    default_parameters: dict[str, Any]
    duration_seconds: float | None
    sample_rate: int | None
    file_size_bytes: int
    format: str
    created_date: str
    last_updated: str | None
    last_used: str | None = Field(description="When TTS or VC last used it; null: never.")
    usage_count: int = Field(description="Times TTS or VC used it.")
    quality: VoiceQualityInfo | None = Field(description="Measured at upload; null for voices added by hand.")


class VoiceListResponse(BaseModel):
    """A page of voices (Plus's shape, plus ``total_voices``)."""

    voices: list[VoiceInfo]
    count: int = Field(description="Items on this page.")
    page: int
    page_size: int
    total_pages: int = Field(description="At least 1.")
    has_next: bool
    has_previous: bool
    total_voices: int = Field(description="Matches over all pages.")


class VoiceUploadResponse(BaseModel):
    """Answer of an upload or a metadata update (Plus's shape, plus ``path`` and ``quality``)."""

    success: bool = True
    message: str
    filename: str
    path: str
    voice_metadata: VoiceInfo
    quality: VoiceQualityInfo | None = Field(None, description="The upload's quality report.")


class VoiceBulkUploadResponse(BaseModel):
    """Answer of a bulk upload: each voice kept, and what an archive held that was skipped."""

    success: bool = True
    message: str
    voices: list[VoiceUploadResponse]
    skipped: dict[str, str] = Field(default_factory=dict, description="Archive entry -> why it was skipped.")


class VoiceMetadataUpdate(BaseModel):
    """Fields to change; those left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=200, description="New name: renames the file (409 if taken).")
    description: str | None = Field(None, max_length=2000)
    tags: list[str] | None = Field(None, max_length=100, description="Replaces the tags.")
    folder_path: str | None = Field(
        None, description='Moves the voice to this folder ("" for the root); 409 if taken there.'
    )
    default_parameters: VoiceParameters | None = Field(None, description="Replaces the default parameters.")


class VoiceImportResponse(BaseModel):
    """What an imported archive added, replaced and skipped."""

    success: bool = True
    message: str
    imported: list[str]
    replaced: list[str]
    skipped: dict[str, str] = Field(description="Archive entry -> why it was skipped.")


class OpenAIVoice(BaseModel):
    """OpenAI's voice object form."""

    model_config = ConfigDict(extra="forbid")
    id: str


class OpenAISpeechRequest(BaseModel):
    """Body of ``POST /v1/audio/speech`` (OpenAI's fields, plus a few of ours)."""

    model_config = ConfigDict(extra="forbid")
    model: str = Field(
        description="`tts-1`, `tts-1-hd`, `gpt-4o-mini-tts` (see openai.models) or an engine name."
    )
    input: str = Field(
        min_length=1, description="The text; at most openai.max_input_chars (4096) characters."
    )
    voice: str | OpenAIVoice = Field(
        description="A voice in voices/, an alias from openai.voices, an OpenAI voice name, or a Piper voice."
    )
    instructions: str | None = Field(
        None, max_length=4096, description="Delivery words: excited, calm, slow..."
    )
    response_format: Literal["mp3", "opus", "aac", "flac", "wav", "pcm"] = "mp3"
    speed: Annotated[float, Field(ge=0.25, le=4.0)] = 1.0
    stream_format: Literal["audio", "sse"] = "audio"
    exaggeration: Exaggeration | None = None
    cfg_weight: CfgWeight | None = None
    temperature: Temperature | None = None
    seed: Seed | None = None
    language: str | None = None

    @field_validator("input")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value


class EngineCapabilities(BaseModel):
    """What an engine can do."""

    voice_cloning: bool = Field(description="Speaks in the voice of a reference audio file from voices/.")
    voice_conversion: bool = Field(description="Re-voices audio (/api/v1/vc).")
    text_to_speech: bool
    streaming: bool = Field(
        description="Audio can be streamed as it is generated (stream=true, OpenAI route)."
    )
    languages: list[str] = Field(description="Short codes of the languages it speaks, its default first.")
    sample_rate: int | None = Field(description="Hz of what it produces; null until a remote has answered.")


class EngineStatus(BaseModel):
    """One configured engine, ``GET /api/v1/engines``."""

    name: str = Field(
        description="What `engine` (and an OpenAI `model`) takes: `piper`, `remote:alltalk`, ..."
    )
    kind: str = Field(description="`tts` or `vc`")
    state: str = Field(description="loaded, loading, unloaded (loads on first use) or unavailable")
    reason: str | None = Field(None, description="Why it is unavailable.")
    capabilities: EngineCapabilities
    details: dict[str, Any] = Field(
        description="What the engine says about itself (device, voices, base_url...)."
    )


class EngineMemory(BaseModel):
    """Model weights the local engines hold, against ``models.memory_budget_mb``."""

    budget_mb: float = Field(description="models.memory_budget_mb; 0: no limit.")
    resident_mb: float = Field(description="MB of weights all engines hold now.")
    engines: dict[str, float] = Field(description="MB of weights each engine holds now (0: unloaded).")
    warning: str | None = Field(
        None, description="Why more than the budget is held (an engine in use, or one larger than it)."
    )


class EnginesResponse(BaseModel):
    """Every configured engine with its capabilities and state."""

    default: str
    serving: str | None = Field(description="The engine that answers requests naming none.")
    engines: list[EngineStatus]
    memory: EngineMemory = Field(description="The memory budget and what each engine holds.")
