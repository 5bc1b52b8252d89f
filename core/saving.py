"""Saving a result: every export format, its metadata sidecar and, with auto-editor, the original."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.requests import ChunkReport, OutputFile, OutputOptions, SpeechResult
from engines.base import SynthesisParams
from management.outputs import OutputStore
from monitoring.metrics import Metrics
from utils.audio import Clip, encode, get_format
from utils.audio.formats import AudioFormat

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MadeAudio:
    """What was made, and how: everything saving a TTS or VC result needs."""

    engine: str
    clip: Clip
    params: SynthesisParams
    stem: str  # the file name without extension
    record: dict[str, Any]  # what the metadata says about how it was made
    output: OutputOptions
    started: float  # ``time.perf_counter()`` when the request began
    generated: float  # seconds the engine took
    chunks: list[ChunkReport]
    warnings: list[str]
    original: Clip | None = None  # the audio before auto-editor, when it is to be kept


class ResultSaver:
    """Saves made audio into outputs/ and counts it in the metrics (given once the app has them)."""

    def __init__(self, outputs: OutputStore, metrics: Metrics | None = None) -> None:
        self.outputs = outputs
        self.metrics = metrics

    def save(self, made: MadeAudio) -> SpeechResult:
        """Encode every export format, write them with their sidecar, and describe the files."""
        return save_result(made, self.outputs, self.metrics)


def save_result(made: MadeAudio, outputs: OutputStore, metrics: Metrics | None) -> SpeechResult:
    """Encode every export format, write them with their sidecar, and describe the files."""
    clip, output = made.clip, made.output
    if metrics is not None:
        metrics.observe_generation(made.engine, made.generated, clip.duration)
    formats = [get_format(fmt) for fmt in output.formats]
    encoded = {fmt.extension: encode(clip, fmt) for fmt in formats}
    metadata = {
        **made.record,
        "parameters": {**made.params.__dict__, "post_processing": output.post.__dict__},
        "duration_seconds": round(clip.duration, 3),
        "sample_rate": clip.sample_rate,
        "created": datetime.now(UTC).isoformat(),
        "processing_time_seconds": round(time.perf_counter() - made.started, 3),
    }
    original = made.original
    kept = _save_original(outputs, original, made.stem, metadata, output.project) if original else None
    if kept is not None:
        metadata["original_file"] = kept.name
    try:
        paths = outputs.save(made.stem, encoded, metadata, project=output.project)
    except BaseException:
        if kept is not None:
            kept.unlink(missing_ok=True)
            kept.with_suffix(".json").unlink(missing_ok=True)
        raise
    files = output_files(formats, paths, outputs)
    seconds = time.perf_counter() - made.started
    logger.info("%s: %.2f s of audio in %.2f s -> %s", made.engine, clip.duration, seconds, files[0].relative)
    return SpeechResult(
        clip, files, made.engine, made.params.seed, made.generated, seconds, made.chunks, made.warnings
    )


def output_files(
    formats: Iterable[AudioFormat], paths: dict[str, Path], outputs: OutputStore
) -> list[OutputFile]:
    """The saved files of a result, in the order its formats were asked for (``paths`` by extension)."""
    return [
        OutputFile(fmt.name, paths[fmt.extension], outputs.relative(paths[fmt.extension]), fmt.content_type)
        for fmt in formats
    ]


def _save_original(
    outputs: OutputStore, original: Clip, stem: str, metadata: dict[str, Any], project: str | None
) -> Path:
    """``<stem>_original.wav`` (with its own sidecar): the audio as it was before auto-editor."""
    record = {**metadata, "auto_editor_original": True, "duration_seconds": round(original.duration, 3)}
    return outputs.save(f"{stem}_original", {"wav": encode(original, "wav")}, record, project=project)["wav"]
