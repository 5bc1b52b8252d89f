"""The concatenation service behind ``/api/v1/concat``: resolve the recipe, join, save, describe."""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from core.concat.passes import plan, run
from core.concat.recipe import ConcatItem, ConcatOptions, parse_silence
from core.progress import ProgressCallback, reporter
from core.requests import OutputFile
from core.saving import output_files
from exceptions import InvalidRequestError, NotFoundError
from management.library_files import AudioFolder
from management.outputs import OutputStore, timestamp
from utils.audio.formats import get_format
from utils.files import resolve_inside, safe_relative

logger = logging.getLogger(__name__)

_NAME = re.compile(r"^[\w][\w .()+-]*$")


@dataclass(frozen=True)
class ItemSpec:
    """An item as the request gave it: a text (file or silence) or an uploaded file."""

    param: str  # ``files[2]``, ``segments[0]``
    source: str | None = None
    upload: Path | None = None
    upload_name: str | None = None


@dataclass(frozen=True)
class ConcatJob:
    """A whole concatenation request."""

    items: tuple[ItemSpec, ...]
    options: ConcatOptions = field(default_factory=ConcatOptions)
    formats: tuple[str, ...] = ("wav",)
    project: str | None = None
    name: str | None = None  # the user's output name (exact; conflicts are refused unless overwrite)
    overwrite: bool = False
    kind: Literal["concat", "mixed"] = "concat"


@dataclass(frozen=True)
class ConcatResult:
    """The saved files and the recorded recipe."""

    files: list[OutputFile]
    duration: float
    sample_rate: int
    seed: int
    audio_count: int
    silence_count: int
    processing_seconds: float
    metadata: dict[str, Any]


class Concatenator:
    """Joins files from the libraries (and uploads) into a new output."""

    def __init__(
        self, outputs: OutputStore, voices: AudioFolder, vc_inputs: AudioFolder, temp_dir: Path
    ) -> None:
        self.outputs, self.voices, self.vc_inputs, self.temp_dir = outputs, voices, vc_inputs, temp_dir

    async def concat(self, job: ConcatJob, progress: ProgressCallback | None = None) -> ConcatResult:
        """Check every item, join them, save every format at once (or nothing), describe the result."""
        started = time.perf_counter()
        if not job.formats:
            raise InvalidRequestError(
                "'export_formats' must name at least one format", param="export_formats"
            )
        formats = [get_format(name, param="export_formats") for name in job.formats]
        items = [self._item(spec) for spec in job.items]
        options = replace(job.options, seed=job.options.seed or secrets.randbelow(2**32 - 1) + 1)
        audio = sum(not item.is_silence for item in items)
        silences = len(items) - audio
        if job.name is not None:
            stem, exact = _output_name(job.name), True
        else:
            stem, exact = _stem(job.kind, audio, silences, options), False
        with self.outputs.pending(
            stem, [f.extension for f in formats], project=job.project, exact=exact, overwrite=job.overwrite
        ) as pending:
            checked = await asyncio.to_thread(plan, items)
            targets = {fmt: pending.parts[fmt.extension] for fmt in formats}
            label = f"{job.kind} {stem}"
            recipe = await asyncio.to_thread(
                run,
                checked,
                options,
                targets,
                temp_dir=self.temp_dir,
                progress=reporter(progress, logger, label),
            )
            duration = recipe.frames / recipe.sample_rate
            metadata = {
                "type": "concat",
                "kind": job.kind,
                "parameters": {
                    **options.__dict__,
                    "export_formats": list(job.formats),
                    "project": job.project,
                },
                "recipe": recipe.items,
                "source_files": [item.label for item in items if not item.is_silence],
                "normalize_gain_db": recipe.gain_db,
                "audio_count": audio,
                "silence_count": silences,
                "duration_seconds": round(duration, 3),
                "sample_rate": recipe.sample_rate,
                "created": datetime.now(UTC).isoformat(),
                "processing_time_seconds": round(time.perf_counter() - started, 3),
            }
            paths = pending.commit(metadata)
        files = output_files(formats, paths, self.outputs)
        seconds = time.perf_counter() - started
        logger.info(
            "%s: %d items, %.1f s of audio in %.2f s -> %s",
            job.kind,
            len(items),
            duration,
            seconds,
            files[0].relative,
        )
        return ConcatResult(
            files, duration, recipe.sample_rate, options.seed, audio, silences, seconds, metadata
        )

    def _item(self, spec: ItemSpec) -> ConcatItem:
        if spec.upload is not None:
            label = f"upload:{spec.upload_name or spec.upload.name}"
            return ConcatItem(label, spec.param, path=spec.upload)
        source = (spec.source or "").strip()
        seconds = parse_silence(source, param=spec.param)
        if seconds is not None:
            return ConcatItem(source, spec.param, silence=seconds)
        return ConcatItem(source, spec.param, path=self._find(source, spec.param))

    def _find(self, source: str, param: str) -> Path:
        """A server file: in outputs/ (Plus's meaning), or in voices/ or vc_inputs/ with a prefix."""
        library, name = None, source
        for prefix, lib in (("voice:", self.voices), ("vc_input:", self.vc_inputs), ("output:", None)):
            if source.startswith(prefix):
                library, name = lib, source[len(prefix) :]
        try:
            if library is not None:
                return library.resolve(name, param=param)
            path = resolve_inside(self.outputs.root, name, param=param)
        except NotFoundError as exc:
            raise InvalidRequestError(f"{param}: {exc.message}", param=param, code="file_not_found") from exc
        except InvalidRequestError as exc:
            raise InvalidRequestError(f"{param}: {exc.message}", param=param) from exc
        if not path.is_file():
            raise InvalidRequestError(
                f"{param}: file not found in outputs/: {source!r}", param=param, code="file_not_found"
            )
        return path


def _output_name(name: str) -> str:
    """The user's output name without its extension; refused when it is not a plain file name."""
    stem = PurePosixPath(name.strip()).name
    if stem != name.strip() or not _NAME.match(stem):
        raise InvalidRequestError(
            "'output_filename' must be a plain file name (letters, digits, space, . _ - ( ) +), no folders; "
            "use 'project' for the folder",
            param="output_filename",
        )
    safe_relative(stem, param="output_filename")  # reserved device names (CON, nul.wav), over-long names
    suffix = PurePosixPath(stem).suffix.lower().lstrip(".")
    return stem[: -len(suffix) - 1] if suffix and _is_format(suffix) else stem


def _is_format(extension: str) -> bool:
    try:
        get_format(extension)
    except InvalidRequestError:
        return False
    return True


def _stem(kind: str, audio: int, silences: int, options: ConcatOptions) -> str:
    """Plus's name: ``concat_<ts>_<N>files[_sil<k>][_pause<P>[v<V>]][_fade<ms>][_leveled][_trim<ms>]``."""
    stem = f"{kind}_{timestamp()}_{audio}files"
    if silences:
        stem += f"_sil{silences}"
    elif options.pause_ms > 0:
        stem += f"_pause{options.pause_ms:g}"
        if options.pause_variation_ms:
            stem += f"v{min(options.pause_variation_ms, options.pause_ms):g}"
    if options.crossfade_ms:
        stem += f"_fade{options.crossfade_ms:g}"
    if options.level or options.normalize:
        stem += "_leveled"
    if options.trim:
        stem += f"_trim{options.trim_threshold_ms:g}"
    return stem
