"""The voice library: voices/ with one JSON sidecar per voice (Plus's keys), indexed for listing.

The files stay the truth: a voice is ``<folder>/<name>.<ext>`` and its metadata (description,
tags, default parameters, usage) lives in ``<name>.<ext>.json`` beside it. The index only makes
listing, filtering and sorting fast.
"""

from __future__ import annotations

import json
import logging
import lzma
import os
import shutil
import tempfile
import threading
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from exceptions import ConflictError, InvalidRequestError, NotFoundError
from management.catalog import AUDIO_SUFFIXES, Catalog, _read_sidecar, _sidecar_of, header_info
from management.index import Entry, Filters
from utils.audio import decode, probe
from utils.audio.quality import analyze_voice
from utils.files import atomic_write_bytes, resolve_inside, safe_relative

# Saved with a voice, they fill what a TTS request leaves unset (range-checked on upload).
GENERATION_DEFAULTS = ("exaggeration", "cfg_weight", "temperature", "repetition_penalty", "min_p", "top_p")

logger = logging.getLogger(__name__)

_MAX_SIDECAR = 1 << 20
_CHUNK = 1 << 20


def search_text(record: dict[str, Any]) -> str | None:
    """What a voice search matches besides its file name and folder: name, description, tags."""
    tags = record.get("tags")
    parts = [
        record.get("name"),
        record.get("description"),
        *(tags if isinstance(tags, list) else [tags]),
    ]
    text = " ".join(str(p) for p in parts if isinstance(p, str | int | float) and str(p).strip())
    return text or None


def voice_name(name: str, *, param: str, strip_extension: bool = True) -> str:
    """A voice name as a file stem: one path part, no ``..``, no audio extension (one is dropped)."""
    clean = safe_relative(name.strip(), param=param)
    if "/" in clean or clean.startswith(".") or clean in {".", ""}:
        raise InvalidRequestError(
            f"'{param}' must be a plain name (use folder_path for folders): {name!r}", param=param
        )
    stem, dot, suffix = clean.rpartition(".")
    audio = dot and stem and f".{suffix.lower()}" in AUDIO_SUFFIXES
    return stem if audio and strip_extension else clean


@dataclass(frozen=True)
class VoiceEdit:
    """A metadata update; ``None`` leaves a field as it is."""

    name: str | None = None  # renames the file (extension kept)
    description: str | None = None
    tags: list[str] | None = None
    default_parameters: dict[str, Any] | None = None
    folder: str | None = None  # "" is the root: moves the voice


@dataclass(frozen=True)
class ImportReport:
    imported: list[str] = field(default_factory=list)  # new voices, relative paths
    replaced: list[str] = field(default_factory=list)  # voices overwritten
    skipped: dict[str, str] = field(default_factory=dict)  # archive entry -> why


class VoiceLibrary:
    """Reference voices: add, edit, count uses, export and import; listing goes through ``catalog``."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.root = catalog.root
        self._lock = threading.RLock()  # sidecar read-modify-write (edits, usage counts)

    # ---- adding ----------------------------------------------------------------------------

    def add(
        self,
        path: Path,
        *,
        description: str | None = None,
        tags: Iterable[str] = (),
        default_parameters: dict[str, Any] | None = None,
        analyze: bool = True,
        described: tuple[dict[str, Any], dict[str, Any] | None] | None = None,
    ) -> tuple[Entry, dict[str, Any] | None]:
        """Record a voice file just placed in the library; returns its entry and quality report.

        ``described``: what :meth:`describe` made before the file was published (record, quality).
        """
        record, quality = described or self.describe(
            path,
            path,
            description=description,
            tags=tags,
            default_parameters=default_parameters,
            analyze=analyze,
        )
        with self._lock:
            entry = self.catalog.add(path, record)
        return entry, quality

    def describe(
        self,
        audio: Path,
        target: Path,
        *,
        description: str | None = None,
        tags: Iterable[str] = (),
        default_parameters: dict[str, Any] | None = None,
        analyze: bool = True,
        display_name: str | None = None,
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """Measure ``audio`` (not yet published) and write the record of the voice it becomes at ``target``.

        Written before the audio is moved into place, so a crash in between never leaves a voice
        without its record (an orphan record is removed by housekeeping).
        """
        quality = analyze_voice(decode(audio, param="voice_file")).as_dict() if analyze else None
        record = self._record(target, description, tags, default_parameters, quality)
        if display_name:  # Plus kept the upload's file name and the given name as metadata
            record["name"] = display_name
        atomic_write_bytes(_sidecar_path(target), json.dumps(record, indent=2).encode())
        return record, quality

    def _record(
        self,
        path: Path,
        description: str | None,
        tags: Iterable[str],
        default_parameters: dict[str, Any] | None,
        quality: dict[str, Any] | None,
    ) -> dict[str, Any]:
        now = _now()
        return {
            "name": path.stem,
            "description": description or f"Voice file: {path.stem}",
            "tags": _tags(tags),
            "default_parameters": default_parameters or {},
            "uploaded_date": now,
            "last_updated": now,
            "last_used": None,
            "usage_count": 0,
            "url": self._relative(path),
            **({"quality": quality} if quality is not None else {}),
        }

    def get(self, name: str, *, param: str) -> Entry:
        """A voice by path, bare file name, or display name (one voice only; several: a 409)."""
        try:
            return self.catalog.get(name, param=param)
        except NotFoundError:
            found = self.named(name)
            if len(found) > 1:
                paths = ", ".join(self._relative(path) for path in found)
                raise ConflictError(
                    f"{name!r} is the name of several voices; give its path: {paths}",
                    param=param,
                    code="ambiguous_name",
                ) from None
            if not found:
                raise
            return self.catalog.get(self._relative(found[0]), param=param)

    def named(self, name: str) -> list[Path]:
        """Voices whose display name (the record's ``name``) is ``name``, ignoring case."""
        wanted = name.strip().casefold()
        return [
            self.root / entry.path
            for entry in self.catalog.select(Filters())
            if str(entry.metadata.get("name") or "").strip().casefold() == wanted
        ]

    # ---- editing ---------------------------------------------------------------------------

    def update(self, entry: Entry, edit: VoiceEdit) -> Entry:
        """Change a voice's metadata; a new name or folder renames or moves it (409 when taken)."""
        with self._lock:
            source = self.root / entry.path
            suffix = PurePosixPath(entry.name).suffix
            name = entry.name if edit.name is None else voice_name(edit.name, param="name") + suffix
            folder = entry.folder if edit.folder is None else edit.folder.strip().rstrip("/")
            param = "name" if edit.name is not None else "folder_path"
            base = resolve_inside(self.root, folder, param="folder_path") if folder else self.root.resolve()
            target = resolve_inside(base, name, param=param)
            moving = target != source.resolve()
            if moving and target.exists():
                raise ConflictError(
                    f"{self._relative(target)!r} already exists; choose another name or folder", param=param
                )
            record = self._sidecar(source)
            if edit.description is not None:
                record["description"] = edit.description
            if edit.tags is not None:
                record["tags"] = _tags(edit.tags)
            if edit.default_parameters is not None:
                record["default_parameters"] = edit.default_parameters
            folder_path = self._relative(base)
            record.update(
                name=target.stem if edit.name is not None else record.get("name") or target.stem,
                filename=target.name,
                folder_path=folder_path or None,
                url=f"{folder_path}/{target.name}" if folder_path else target.name,
                last_updated=_now(),
            )
            # the new sidecar first, then the audio: a crash between leaves the voice as it was
            atomic_write_bytes(_sidecar_path(target), json.dumps(record, indent=2).encode())
            if moving:
                os.replace(source, target)
                _sidecar_path(source).unlink(missing_ok=True)
                self.catalog.forget([source])
            self.catalog.record([target])
            updated = self.catalog.index.get(self.catalog.library, self._relative(target))
        assert updated is not None
        return updated

    # ---- usage -----------------------------------------------------------------------------

    def record_use(self, path: Path) -> None:
        """Count one use of a library voice by TTS or VC; never raises (a count must not fail a request)."""
        try:
            if not Path(path).resolve().is_relative_to(self.root.resolve()):
                return  # an upload or a download, not a library voice
            with self._lock:
                if not path.is_file():  # renamed or deleted meanwhile
                    return
                record = self._sidecar(path)
                count = record.get("usage_count")
                record["usage_count"] = (count if isinstance(count, int) else 0) + 1
                record["last_used"] = _now()
                atomic_write_bytes(_sidecar_path(path), json.dumps(record, indent=2).encode())
                if not path.exists():  # deleted while we wrote: leave no orphan sidecar
                    _sidecar_path(path).unlink(missing_ok=True)
                    return
                self.catalog.record([path])
        except Exception:
            logger.warning("could not count a use of voice %s", path, exc_info=True)

    # ---- export and import -----------------------------------------------------------------

    def export(self, entries: list[Entry]) -> Iterator[bytes]:
        """A zip of the voices and their sidecars (paths inside voices/), produced piece by piece."""
        sink = _Sink()
        with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
            for entry in entries:
                audio = self.root / entry.path
                for path, name in ((audio, entry.path), (_sidecar_path(audio), f"{entry.path}.json")):
                    if not path.is_file():
                        continue
                    with path.open("rb") as source, archive.open(name, "w", force_zip64=True) as dest:
                        while chunk := source.read(_CHUNK):
                            dest.write(chunk)
                            yield sink.take()
                yield sink.take()
        yield sink.take()

    def import_zip(
        self,
        archive: Path,
        *,
        folder: str | None = None,
        overwrite: bool = False,
        max_bytes: int,
        param: str = "archive",
        check_parameters: Callable[[Any], dict[str, Any]] | None = None,
    ) -> ImportReport:
        """Unpack voices (and their sidecars) from a zip; unsafe entry names refuse the whole archive.

        Existing voices are kept (reported as skipped) unless ``overwrite``. Entries that are not
        audio, audio that cannot be read, and voices whose sidecar's ``default_parameters`` fail
        ``check_parameters`` (the upload route's rules; it raises InvalidRequestError) are skipped
        with the reason.
        """
        try:
            zf = zipfile.ZipFile(archive)
        except zipfile.BadZipFile as exc:
            raise InvalidRequestError(f"'{param}' is not a zip archive: {exc}", param=param) from exc
        base = resolve_inside(self.root, folder, param="folder_path") if folder else self.root.resolve()
        report = ImportReport()
        with zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
            # 400 on ../, /abs; hidden entries (.DS_Store, __MACOSX/._x) are skipped below
            members = {safe_relative(i.filename, param=param, hidden=True): i for i in infos}
            for name in members:
                resolve_inside(base, name, param=param, hidden=True)
            if sum(i.file_size for i in infos) > max_bytes:
                raise InvalidRequestError(
                    f"'{param}' unpacks to more than {max_bytes / 2**20:g} MB (limits.max_archive_mb)",
                    param=param,
                )
            sidecars = {s for name in members if _is_audio(name) for s in _sidecar_names(name)}
            for name, info in members.items():
                hidden = any(p.startswith(".") or p == "__MACOSX" for p in PurePosixPath(name).parts)
                if hidden or not _is_audio(name):
                    if hidden or name not in sidecars:
                        report.skipped[name] = "not an audio file"
                    continue
                self._import_one(zf, name, info, members, base, overwrite, report, check_parameters)
        logger.info(
            "imported %d voice(s), replaced %d, skipped %d",
            len(report.imported),
            len(report.replaced),
            len(report.skipped),
        )
        return report

    def _import_one(
        self,
        zf: zipfile.ZipFile,
        name: str,
        info: zipfile.ZipInfo,
        members: dict[str, zipfile.ZipInfo],
        base: Path,
        overwrite: bool,
        report: ImportReport,
        check_parameters: Callable[[Any], dict[str, Any]] | None,
    ) -> None:
        target = base / name  # checked by import_zip
        existed = target.exists()
        if existed and not overwrite:
            report.skipped[name] = "exists (send overwrite=true to replace it)"
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as dest, zf.open(info) as source:
                shutil.copyfileobj(source, dest, _CHUNK)
                dest.flush()
                os.fsync(dest.fileno())
            probe(Path(temp), param=name, label=PurePosixPath(name).name)
            # Checked before anything is published: a bad sidecar keeps its voice out.
            record = self._imported_record(zf, members, name, target, Path(temp), check_parameters)
        except InvalidRequestError as exc:
            Path(temp).unlink(missing_ok=True)
            report.skipped[name] = exc.message
            return
        except _DAMAGED_ENTRY as exc:
            Path(temp).unlink(missing_ok=True)
            if isinstance(exc, OSError) and exc.errno is not None:  # the disk, not the entry (full, ...)
                raise
            report.skipped[name] = f"cannot be unpacked: {exc or type(exc).__name__}"
            return
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        with self._lock:  # the record first: a kill in between never leaves a voice without it
            atomic_write_bytes(_sidecar_path(target), json.dumps(record, indent=2).encode())
            os.replace(temp, target)
            self.catalog.record([target])
        (report.replaced if existed else report.imported).append(self._relative(target))

    def _imported_record(
        self,
        zf: zipfile.ZipFile,
        members: dict[str, zipfile.ZipInfo],
        name: str,
        target: Path,
        unpacked: Path,
        check_parameters: Callable[[Any], dict[str, Any]] | None,
    ) -> dict[str, Any]:
        sidecar = next((members[n] for n in _sidecar_names(name) if n in members), None)
        record: dict[str, Any] = {}
        if sidecar is not None and sidecar.file_size <= _MAX_SIDECAR:
            try:
                loaded = json.loads(zf.read(sidecar))
                record = loaded if isinstance(loaded, dict) else {}
            except ValueError:
                logger.warning("ignoring the unreadable sidecar %s in an imported archive", sidecar.filename)
        if not record:
            record = self._record(target, None, (), None, None)
        elif check_parameters is not None:
            record["default_parameters"] = check_parameters(record.get("default_parameters") or {})
        duration, rate = header_info(unpacked)
        folder = self._relative(target.parent)
        return {
            **record,
            "name": target.stem,
            "filename": target.name,
            "folder_path": folder or None,
            "url": self._relative(target),
            "file_size_bytes": unpacked.stat().st_size,
            "duration_seconds": round(duration, 3) if duration else None,
            "sample_rate": rate,
            "format": target.suffix.lstrip(".").lower(),
        }

    def default_parameters(self, path: Path) -> dict[str, Any]:
        """The generation controls saved with a voice (only those a request takes)."""
        found = _sidecar_of(path, lambda p: p.is_file())
        saved = (_read_sidecar(found) if found else {}).get("default_parameters") or {}
        return {key: value for key, value in saved.items() if key in GENERATION_DEFAULTS}

    # ---- helpers ---------------------------------------------------------------------------

    def _sidecar(self, path: Path) -> dict[str, Any]:
        found = _sidecar_of(path, lambda p: p.is_file())
        record = _read_sidecar(found) if found else {}
        return record or self._record(path, None, (), None, None)

    def _relative(self, path: Path) -> str:
        relative = path.resolve().relative_to(self.root.resolve()).as_posix()
        return "" if relative == "." else relative


# What reading a damaged, encrypted or oddly compressed zip entry raises: bad deflate data (zlib),
# bad bzip2 data (an OSError without errno), bad lzma data, a password (RuntimeError), an unknown method.
_DAMAGED_ENTRY = (
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    NotImplementedError,
    RuntimeError,
    OSError,
)


class _Sink:
    """A write-only file for ``zipfile`` whose bytes are taken away as they come."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._written = 0

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        self._written += len(data)
        return len(data)

    def tell(self) -> int:
        return self._written

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def _sidecar_path(audio: Path) -> Path:
    return audio.with_name(f"{audio.name}.json")


def _sidecar_names(audio: str) -> tuple[str, str]:
    path = PurePosixPath(audio)
    return (f"{audio}.json", str(path.with_name(f"{path.stem}.json")))


def _is_audio(name: str) -> bool:
    return PurePosixPath(name).suffix.lower() in AUDIO_SUFFIXES


def _tags(tags: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(t.strip() for t in tags if isinstance(t, str) and t.strip()))


def _now() -> str:
    return datetime.now().astimezone().isoformat()
