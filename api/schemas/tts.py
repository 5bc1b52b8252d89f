"""Text-to-speech: the request body and the JSON answer of TTS and VC."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AliasChoices, BaseModel, Field, field_validator

from api.schemas.common import OutputFields, OutputFileInfo, example
from parameters import CfgWeight, Exaggeration, MinP, RepetitionPenalty, Seed, Temperature, TopK, TopP

# what ``timestamps`` takes as a string: the two modes, and the words a form field uses for a boolean
_TIMESTAMP_WORDS = {"sentence", "word", "true", "false", "1", "0", "yes", "no", "on", "off"}


class TTSRequest(OutputFields):
    """Body of ``POST /api/v1/tts``."""

    model_config = example(
        text="Hello there. This is my own speech server, reading aloud.", export_formats=["wav"]
    )

    text: str = Field(description="Text to speak. Long text is split at sentence boundaries.")
    engine: str | None = Field(
        None,
        description="Engine: `chatterbox`, `chatterbox-multilingual`, `chatterbox-turbo`, `piper` or a configured remote `remote:<name>`. Default: the configured engine (or its fallback).",
    )
    stream: bool = Field(
        False,
        description="Send the audio as it is generated, sentence by sentence (chunked transfer), in the first "
        "export format (or `return_format`); every export format is saved once the last piece is sent. "
        "Not with `trim`, `normalize_audio`, `use_auto_editor` or `timestamps`, which need the whole audio.",
    )
    timestamps: bool | Literal["sentence", "word"] = Field(
        False,
        description="`true` or `sentence`: return the start and end (seconds) of each sentence piece in the JSON "
        "answer (and its metadata). The text is cut into pieces at sentence boundaries for this, whatever the "
        "engine. `word`: each word's start and end too (`words`), aligned by the offline Whisper model. "
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
    repetition_penalty: RepetitionPenalty | None = Field(
        None, description="Penalty for repeated speech tokens, 1-3 (Chatterbox)."
    )
    min_p: MinP | None = Field(None, description="Min-p sampling, 0-1 (Chatterbox).")
    top_p: TopP | None = Field(None, description="Top-p sampling, 0-1 (Chatterbox).")
    top_k: TopK | None = Field(
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

    @field_validator("timestamps", mode="before")
    @classmethod
    def _timestamps_mode(cls, value: object) -> object:
        # without this an unknown mode reports two errors, one per member of the union
        if not isinstance(value, str):
            return value
        if (mode := value.strip().lower()) not in _TIMESTAMP_WORDS:
            raise ValueError('must be true, false, "sentence" or "word"')
        return mode

    @field_validator("text")
    @classmethod
    def _text_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value


class TimestampInfo(BaseModel):
    """When a piece of the text is heard in the saved audio."""

    index: int
    text: str = Field(description="The piece as spoken (after text handling).")
    start: float = Field(description="Seconds from the start of the audio.")
    end: float = Field(description="Seconds from the start of the audio.")


class WordTimestampInfo(BaseModel):
    """When a word of the text is heard in the saved audio."""

    word: str = Field(description="The word as written in the spoken text (punctuation kept).")
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
    words: list[WordTimestampInfo] | None = Field(
        None, description='With `timestamps: "word"`: each word of the text, in order, and when it is heard.'
    )
