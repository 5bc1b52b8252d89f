"""Voices in and out as a zip: each voice with its sidecar, streamed out, checked entry by entry in."""

from __future__ import annotations

import json
import logging
import lzma
import os
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from exceptions import InvalidRequestError, PayloadTooLargeError
from management.index import Entry
from management.library_files import header_info, is_audio, sidecar_path
from management.voices.records import kept_marks, new_record
from utils.audio import check_usable, decode
from utils.files import atomic_write_bytes, resolve_inside, safe_relative

if TYPE_CHECKING:
    from management.voices.library import VoiceLibrary

logger = logging.getLogger(__name__)

_MAX_SIDECAR = 1 << 20
_CHUNK = 1 << 20


@dataclass(frozen=True)
class ImportReport:
    imported: list[str] = field(default_factory=list)  # new voices, relative paths
    replaced: list[str] = field(default_factory=list)  # voices overwritten
    skipped: dict[str, str] = field(default_factory=dict)  # archive entry -> why


def export_zip(library: VoiceLibrary, entries: list[Entry]) -> Iterator[bytes]:
    """A zip of the voices and their sidecars (paths inside voices/), produced piece by piece."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for entry in entries:
            audio = library.root / entry.path
            for path, name in ((audio, entry.path), (sidecar_path(audio), f"{entry.path}.json")):
                if not path.is_file():
                    continue
                with path.open("rb") as source, archive.open(name, "w", force_zip64=True) as dest:
                    while chunk := source.read(_CHUNK):
                        dest.write(chunk)
                        yield sink.take()
            yield sink.take()
    yield sink.take()


def import_zip(
    library: VoiceLibrary,
    archive: Path,
    *,
    folder: str | None = None,
    overwrite: bool = False,
    max_bytes: int,
    param: str = "archive",
    check_parameters: Callable[[Any], dict[str, Any]] | None = None,
    min_seconds: float = 0.0,
) -> ImportReport:
    """Unpack voices (and their sidecars) from a zip; unsafe entry names refuse the whole archive.

    Existing voices are kept (reported as skipped) unless ``overwrite``. Entries that are not
    audio, audio that cannot be read or lasts under ``min_seconds``, and voices whose sidecar's ``default_parameters`` fail
    ``check_parameters`` (the upload route's rules; it raises InvalidRequestError) are skipped
    with the reason.
    """
    try:
        zf = zipfile.ZipFile(archive)
    except zipfile.BadZipFile as exc:
        raise InvalidRequestError(f"'{param}' is not a zip archive: {exc}", param=param) from exc
    base = resolve_inside(library.root, folder, param="folder_path") if folder else library.root.resolve()
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
        sidecars = {s for name in members if is_audio(name) for s in _sidecar_names(name)}
        for name, info in members.items():
            hidden = any(p.startswith(".") or p == "__MACOSX" for p in PurePosixPath(name).parts)
            if hidden or not is_audio(name):
                if hidden or name not in sidecars:
                    report.skipped[name] = "not an audio file"
                continue
            _import_one(
                library, zf, name, info, members, base, overwrite, report, check_parameters, min_seconds
            )
    logger.info(
        "imported %d voice(s), replaced %d, skipped %d",
        len(report.imported),
        len(report.replaced),
        len(report.skipped),
    )
    return report


def _import_one(
    library: VoiceLibrary,
    zf: zipfile.ZipFile,
    name: str,
    info: zipfile.ZipInfo,
    members: dict[str, zipfile.ZipInfo],
    base: Path,
    overwrite: bool,
    report: ImportReport,
    check_parameters: Callable[[Any], dict[str, Any]] | None,
    min_seconds: float,
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
        # Decoded whole, as an upload is: bounds, NaN and damage are found before publishing.
        label = PurePosixPath(name).name
        clip = decode(Path(temp), param=name, label=label)
        check_usable(clip.samples, clip.sample_rate, name=label, param=name, min_seconds=min_seconds)
        # Checked before anything is published: a bad sidecar keeps its voice out.
        record = _imported_record(library, zf, members, name, target, Path(temp), check_parameters)
    except (InvalidRequestError, PayloadTooLargeError) as exc:
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
    with library.lock:  # the record first: a kill in between never leaves a voice without it
        if existed:  # a replaced voice keeps its marks, display name and description (kept_marks)
            record = kept_marks(library.record_of(target), record)
        atomic_write_bytes(sidecar_path(target), json.dumps(record, indent=2).encode())
        os.replace(temp, target)
        library.catalog.record([target])
    (report.replaced if existed else report.imported).append(library.relative(target))


def _imported_record(
    library: VoiceLibrary,
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
        record = new_record(target, library.relative(target))
    elif check_parameters is not None:
        record["default_parameters"] = check_parameters(record.get("default_parameters") or {})
    duration, rate = header_info(unpacked)
    folder = library.relative(target.parent)
    return {
        **record,
        "name": target.stem,
        "filename": target.name,
        "folder_path": folder or None,
        "url": library.relative(target),
        "file_size_bytes": unpacked.stat().st_size,
        "duration_seconds": round(duration, 3) if duration else None,
        "sample_rate": rate,
        "format": target.suffix.lstrip(".").lower(),
    }


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

    def close(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def _sidecar_names(audio: str) -> tuple[str, str]:
    path = PurePosixPath(audio)
    return (f"{audio}.json", str(path.with_name(f"{path.stem}.json")))
