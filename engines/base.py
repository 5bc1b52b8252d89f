"""The protocol every speech engine implements, and the parameters they take."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from parameters import EXAGGERATION

if TYPE_CHECKING:  # the T3 modules import without the audio stack (bench/gpu_bench.sh)
    from utils.audio import Clip

# The shortest clip a model can take a voice from (a speaker embedding needs about a second of
# speech; 5-10 s clone best), and the shortest input voice conversion can re-voice.
MIN_REFERENCE_SECONDS = 1.0
MIN_VC_INPUT_SECONDS = 0.5


@dataclass(frozen=True)
class SynthesisParams:
    """Sampling controls for one generation; engines ignore the ones they have no use for."""

    exaggeration: float = EXAGGERATION
    cfg_weight: float = 0.5
    temperature: float = 0.8
    repetition_penalty: float = 1.2
    min_p: float = 0.05
    top_p: float = 1.0
    top_k: int = 1000  # chatterbox-turbo only
    seed: int = 0
    watermark: bool = True
    language: str | None = None  # a short code the engine speaks (see ``languages_for``); None: its default


@dataclass(frozen=True)
class VoiceBlend:
    """Reference voices mixed by weight (Kokoro's ``a(2)+b(1)``), for engines with ``blends_voices``.

    The speaker is the weighted mean of the voices' speaker embeddings; the speech prompt (what the
    model continues from: rhythm, recording) is the first voice's.
    """

    parts: tuple[tuple[Path, float], ...]  # (voice file, weight); the weights sum to 1

    @property
    def first(self) -> Path:
        return self.parts[0][0]


def language_code(value: str) -> str:
    """A language tag as a short lower-case code: ``en_US``, ``en-us`` and ``EN`` are all ``en``."""
    return re.split(r"[-_]", value.strip().lower(), maxsplit=1)[0]


@dataclass(frozen=True)
class EngineTraits:
    """How the manager and the CoreEngine treat an engine: declared by the engine, never probed for."""

    worker_group: str | None = (
        None  # engines with one group share a worker thread (shared weights); None: its name
    )
    concurrency: int = 1  # calls in flight at once on its worker (a remote's are I/O)
    loads_on_worker: bool = (
        False  # loading is a quick check (remote): on its worker, outside the memory budget
    )
    retry_after_failure: float | None = None  # seconds after a failed load before a request tries again
    sampling_defaults: Mapping[str, float] = field(
        default_factory=dict
    )  # its own defaults over ``generation``
    ignored_controls: tuple[str, ...] = ()  # request controls it has no use for (a warning names them)
    chunks_ahead: int = 1  # chunks of one text given to it at once (our T3 loop batches them)


@runtime_checkable
class SpeechEngine(Protocol):
    """What the CoreEngine needs from any engine: a name, a kind, its traits, load and unload."""

    name: str
    traits: EngineTraits

    @property
    def kind(self) -> Literal["tts", "vc"]:
        """Which protocol it implements (read-only: an engine declares ``kind: Literal["tts"]``)."""

    @property
    def loaded(self) -> bool: ...

    def load(self) -> None:
        """Load weights; raise EngineUnavailableError with a reason when they cannot be had."""

    def unload(self) -> None:
        """Free the weights (and the GPU memory they hold)."""

    def describe(self) -> dict[str, Any]:
        """Facts for /health and /api/v1/models: device, sample rate, voices."""


@runtime_checkable
class SynthesisEngine(SpeechEngine, Protocol):
    """Text to speech."""

    clones_voices: bool  # True: `voice` is a reference audio file; False: a voice name the engine knows
    varies_with_seed: bool  # True: takes differ, so Whisper validation can pick the best
    max_chunk_chars: int | None  # the CoreEngine splits longer text; None: the engine takes any length
    languages: tuple[str, ...]  # short codes (``en``) of every language it can speak, its default first

    def languages_for(self, voice: str | None) -> tuple[str, ...]:
        """The languages it speaks with a named voice (None: its built-in voice), the default first."""

    def has_voice(self, name: str) -> bool:
        """Whether a named (non-cloned) voice exists."""

    def synthesize(self, text: str, voice: Path | str | VoiceBlend | None, params: SynthesisParams) -> Clip:
        """Speak one chunk of text; ``voice=None`` uses the engine's built-in voice (a ``VoiceBlend`` only
        reaches engines whose ``blends_voices`` is true)."""


@dataclass
class PartialAudio:
    """Where an engine sends one chunk's audio piece by piece while it still generates the rest.

    The listener sets ``waited`` once it waits on this chunk (its audio is the next to be heard), and
    ``wanted`` once it wants that audio in pieces: at once for the first chunk of a stream, later only
    when the audio it already has runs short (core/windows.py). An engine streams only from ``wanted``
    on (a chunk done before then is heard whole). Either the pieces sent add up to the returned clip's
    length, or none was sent.
    """

    send: Callable[[Clip], None]
    wanted: threading.Event = field(default_factory=threading.Event)
    waited: threading.Event = field(default_factory=threading.Event)


@runtime_checkable
class StreamsWindows(Protocol):
    """An engine that can send a chunk's first audio before its last token (S3Gen in windows)."""

    streams_windows: bool  # False: this instance cannot (its settings): ``synthesize`` instead

    def synthesize_windowed(
        self, text: str, voice: Path | str | None, params: SynthesisParams, partial: PartialAudio
    ) -> Clip:
        """As ``synthesize``; meanwhile the audio so far goes to ``partial`` (see ``PartialAudio``)."""


@runtime_checkable
class VocodesTogether(Protocol):
    """An engine that speaks consecutive chunks of one text in one call for less than one by one
    (Chatterbox with our loop: T3 decodes them together, S3Gen reads the voice's prompt once)."""

    @property
    def vocode_group_chars(self) -> int:
        """Characters of consecutive chunks one call takes; 0: this instance speaks chunk by chunk."""

    def synthesize_group(
        self, texts: Sequence[str], voice: Path | str | VoiceBlend | None, params: Sequence[SynthesisParams]
    ) -> list[tuple[Clip, list[str]]]:
        """Each chunk's clip in order, with what there is to say about it (as ``engines.worker.note``)."""


@runtime_checkable
class ConversionEngine(SpeechEngine, Protocol):
    """Voice conversion: the words and timing of one clip, in the voice of another."""

    def convert(self, source: Clip, target_voice: Path | None, params: SynthesisParams) -> Clip:
        """Re-voice one window of audio; ``target_voice=None`` uses the engine's built-in voice."""


@runtime_checkable
class Batches(Protocol):
    """An engine that decodes several requests' chunks together (our T3 loop; engines/t3_scheduler.py)."""

    def batch_stats(self) -> dict[str, Any] | None:
        """The batch now (size, limit, waiting, tokens/s); None when it is not batching."""


@runtime_checkable
class ListsVoices(Protocol):
    """An engine with voices of its own (Piper's voice files), listed for clients that ask."""

    def voices(self) -> Mapping[str, Any]:
        """Its voices by name."""


@runtime_checkable
class MeasuresMemory(Protocol):
    """An engine that can say what its weights hold, for the memory budget (engines/memory.py)."""

    def memory_bytes(self) -> int:
        """Bytes of weights it holds now (0 when unloaded or borrowed)."""

    def estimated_bytes(self) -> int | None:
        """Bytes a load will add: 0 when it borrows loaded weights, None when it cannot tell."""


@runtime_checkable
class PreparesVoice(Protocol):
    """An engine that conditions a voice ahead of use (``models.warm_voices``)."""

    def prepare_voice(self, voice: Path) -> str:
        """Compute (and cache) a voice's conditionals; returns the cache key."""
