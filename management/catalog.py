"""A folder of audio files kept in step with the metadata index: scan, record, list, delete.

Sidecars: ``<name>.<ext>.json`` (one file's, as Plus wrote for voices and vc inputs) wins over
``<stem>.json`` (shared by an output's formats). Hidden files, ``.part`` files and symlinks
are never listed.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from exceptions import ConflictError, IndexUnavailableError, NotFoundError
from management.index import Entry, Filters, MetadataIndex, Page
from management.library_files import (
    AUDIO_SUFFIXES,
    header_info,
    read_sidecar,
    resolve_audio,
    sidecar_number,
    sidecar_of,
    sidecar_time,
    walk_audio,
)
from utils.files import atomic_write_bytes, resolve_inside

logger = logging.getLogger(__name__)

_NAME_TYPES = {"tts": "tts", "vc": "vc", "concat": "concat", "mixed": "concat"}
_BATCH = 2000


@dataclass(frozen=True)
class ScanReport:
    added: int
    updated: int
    removed: int
    total: int


@dataclass(frozen=True)
class DeleteReport:
    entries: list[Entry]  # the audio files
    files: list[str]  # every file removed (or that would be): audio and sidecars, relative paths
    folders_removed: list[str] = field(default_factory=list)
    dry_run: bool = False


@dataclass
class FolderNode:
    path: str  # "" for the root
    file_count: int  # files directly inside
    subfolders: list[FolderNode] = field(default_factory=list)


class Catalog:
    """One library folder (outputs/, vc_inputs/, voices/) and its rows in the index."""

    def __init__(
        self,
        index: MetadataIndex,
        library: str,
        root: Path,
        *,
        typed: bool = False,
        search_text: Callable[[dict[str, Any]], str | None] | None = None,
        label: str = "file",
    ) -> None:
        self.index = index
        self.library = library
        self.root = Path(root)
        self._label = label  # what a file is called in a 404 ("voice", "vc input")
        self._typed = typed  # outputs: a generation type from the sidecar or the name prefix
        # what a search matches besides name and folder (default: the sidecar's "text")
        self._search_text = search_text
        self._idle = threading.Event()
        self._idle.set()
        # Paths the server wrote or removed while a scan runs: the scan's older view of them must not
        # land after the server's (a file saved while its sidecar was still being written).
        self._guard = threading.Lock()
        self._touched: set[str] | None = None
        self._pending: set[Path] = set()  # saved while the index could not be reached (``defer``)

    # ---- keeping the index in step ---------------------------------------------------------

    def begin_scan(self) -> None:
        """Mark a scan as under way: reads wait for it (call before starting ``scan`` in a thread)."""
        self._idle.clear()

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait for a running scan to finish; False when ``timeout`` ran out first."""
        return self._idle.wait(timeout)

    def scan(self) -> ScanReport:
        """Reconcile the index with the folder: index new and changed files, drop missing ones."""
        with self._guard:
            self._touched = set()
        try:
            known = self.index.stamps(self.library)
            seen: set[str] = set()
            changed: list[tuple[str, Path, os.stat_result, Path | None, int]] = []
            for rel, path, stat, sidecar, sidecar_ns in walk_audio(self.root):
                seen.add(rel)
                if known.get(rel) != (stat.st_size, stat.st_mtime_ns, sidecar_ns):
                    changed.append((rel, path, stat, sidecar, sidecar_ns))
            for start in range(0, len(changed), _BATCH):
                described = [self._describe(*item) for item in changed[start : start + _BATCH]]
                with self._guard:
                    assert self._touched is not None
                    self.index.upsert(self.library, [e for e in described if e.path not in self._touched])
            with self._guard:
                assert self._touched is not None
                missing = known.keys() - seen - self._touched
                self.index.remove(self.library, missing)
            if len(changed) + len(missing) >= _BATCH:
                self.index.refresh_statistics()
            added = len(seen - known.keys())
            report = ScanReport(added, len(changed) - added, len(missing), len(seen))
            logger.info("%s index: %s", self.library, report)
            return report
        finally:
            with self._guard:
                self._touched = None
            self._idle.set()

    def add(self, path: Path, record: dict[str, Any]) -> Entry:
        """Index a file the server placed in the folder, with ``record`` as its own sidecar (Plus's keys)."""
        stat, (duration, rate) = path.stat(), header_info(path)
        now = datetime.now().astimezone().isoformat()
        folder = PurePosixPath(self._relative(path)).parent.as_posix()
        sidecar = {
            "filename": path.name,
            "folder_path": None if folder == "." else folder,
            "file_size_bytes": stat.st_size,
            "duration_seconds": round(duration, 3) if duration else None,
            "sample_rate": rate,
            "format": path.suffix.lstrip(".").lower(),
            "created_date": now,
            "upload_date": now,
            **record,
        }
        atomic_write_bytes(path.with_name(f"{path.name}.json"), json.dumps(sidecar, indent=2).encode())
        self.record([path])
        entry = self.index.get(self.library, self._relative(path))
        assert entry is not None
        return entry

    def record(self, paths: Iterable[Path]) -> None:
        """Index files just written (or refresh them); call after every write through the server."""
        self._catch_up()
        self._record(paths)

    def defer(self, paths: Iterable[Path], reason: IndexUnavailableError) -> None:
        """Files written (or removed) while the index cannot be reached: logged, and brought into the
        index by the next call that reaches it (a listing, another save)."""
        paths = list(paths)
        with self._guard:
            self._pending.update(paths)
        logger.warning(
            "%s; %s not in the listings until it is back: %s",
            reason.message,
            self.library,
            ", ".join(self._relative(p) for p in paths),
        )

    def _catch_up(self) -> None:
        if not self._pending:
            return
        with self._guard:
            pending, self._pending = self._pending, set()
        try:
            self._remove([self._relative(p) for p in pending if not p.is_file()])
            self._record(p for p in pending if p.is_file())
        except IndexUnavailableError:
            with self._guard:
                self._pending |= pending
            raise
        logger.info(
            "%s index: recorded %d file(s) saved while it was unavailable", self.library, len(pending)
        )

    def _record(self, paths: Iterable[Path]) -> None:
        entries = []
        for path in paths:
            if path.suffix.lower() not in AUDIO_SUFFIXES or not path.is_file():
                continue
            sidecar = sidecar_of(path, lambda p: p.is_file())
            sidecar_ns = sidecar.stat().st_mtime_ns if sidecar else 0
            entries.append(self._describe(self._relative(path), path, path.stat(), sidecar, sidecar_ns))
        with self._guard:
            if self._touched is not None:
                self._touched.update(e.path for e in entries)
            self.index.upsert(self.library, entries)

    def forget(self, paths: Iterable[Path]) -> None:
        """Drop files the server removed from the index."""
        self._remove([self._relative(p) for p in paths])

    def _remove(self, rels: Iterable[str]) -> None:
        rels = list(rels)
        with self._guard:
            if self._touched is not None:
                self._touched.update(rels)
            self.index.remove(self.library, rels)

    # ---- reading ---------------------------------------------------------------------------

    def page(self, filters: Filters, *, sort: str, descending: bool, page: int, page_size: int) -> Page:
        """One page of the listing (from the index alone)."""
        self._idle.wait()
        self._catch_up()
        return self.index.page(
            self.library,
            filters,
            sort=sort,
            descending=descending,
            offset=(page - 1) * page_size,
            limit=page_size,
        )

    def resolve(self, name: str, *, param: str, named: Callable[[str], list[Path]] | None = None) -> Path:
        """The file a user-given name means (a request's ``voice``, ``input_audio_source``); 404 otherwise.

        ``named``: the files whose display name is ``name`` (voices), tried when no file name matches."""
        return resolve_audio(self.root, name, label=self._label, param=param, named=named)

    def names(self) -> list[str]:
        """Every audio file's relative path, sorted (from the index, as every listing is)."""
        return sorted(entry.path for entry in self.select(Filters()))

    def get(self, name: str, *, param: str) -> Entry:
        """A file by relative path (or by bare name when only one folder holds it); 404 otherwise."""
        self._idle.wait()
        entry = self.index.get(self.library, self._relative(resolve_inside(self.root, name, param=param)))
        if entry is None and "/" not in name.replace("\\", "/"):
            matches = self.index.named(self.library, name)
            if len(matches) > 1:
                raise ConflictError(
                    f"{name!r} is in several folders; give its path: {', '.join(m.path for m in matches)}",
                    param=param,
                    code="ambiguous_name",
                )
            entry = matches[0] if matches else None
        if entry is not None and not (self.root / entry.path).is_file():  # removed behind our back
            self._remove([entry.path])
            entry = None
        if entry is None:
            raise NotFoundError(f"no file {name!r} in {self.library}/", param=param)
        return entry

    def select(self, filters: Filters) -> list[Entry]:
        self._idle.wait()
        self._catch_up()
        return self.index.select(self.library, filters)

    def marked_default(self) -> list[Entry]:
        """The files whose sidecar says ``default_voice: true`` (voices), by path: an indexed lookup."""
        self._idle.wait()
        self._catch_up()
        return self.index.marked_default(self.library)

    def formats(self, entries: Iterable[Entry]) -> dict[tuple[str, str], list[Entry]]:
        """Every format of each entry's output, keyed by ``(folder, stem)``."""
        groups: dict[tuple[str, str], list[Entry]] = {}
        for sibling in self.index.siblings(self.library, ((e.folder, e.stem) for e in entries)):
            groups.setdefault((sibling.folder, sibling.stem), []).append(sibling)
        return groups

    def folders(self) -> list[FolderNode]:
        """The folder tree: the root first (when it holds files), then folders by name."""
        self._idle.wait()
        counts = self.index.folder_counts(self.library)
        nodes: dict[str, FolderNode] = {}
        for folder in counts:
            parts = PurePosixPath(folder).parts if folder else ()
            for depth in range(1, len(parts) + 1):
                path = "/".join(parts[:depth])
                nodes.setdefault(path, FolderNode(path, counts.get(path, 0)))
        top: list[FolderNode] = [FolderNode("", counts[""])] if counts.get("") else []
        for path in sorted(nodes):
            parent = path.rpartition("/")[0]
            (nodes[parent].subfolders if parent else top).append(nodes[path])
        return top

    def exists(self, folder: str, *, param: str) -> bool:
        return resolve_inside(self.root, folder, param=param).is_dir()

    # ---- deleting --------------------------------------------------------------------------

    def delete(self, entries: list[Entry], *, dry_run: bool = False, prune: bool = False) -> DeleteReport:
        """Remove files and their sidecars (a shared ``<stem>.json`` only with its last format).

        A shared sidecar that outlives some formats has them taken out of its ``files``. With
        ``prune``, folders left empty are removed too (never the library's root).
        """
        doomed = {e.path for e in entries}
        removed: list[str] = []
        rewrites: dict[Path, list[Entry]] = {}
        for entry in entries:
            removed.append(entry.path)
            if (self.root / f"{entry.path}.json").is_file():
                removed.append(f"{entry.path}.json")
        for (folder, stem), group in self.formats(entries).items():
            shared = self.root / folder / f"{stem}.json"
            if not shared.is_file():
                continue
            kept = [e for e in group if e.path not in doomed]
            if kept:
                rewrites[shared] = kept
            else:
                removed.append(self._relative(shared))
        if dry_run:
            return DeleteReport(entries, removed, dry_run=True)
        for rel in removed:
            (self.root / rel).unlink(missing_ok=True)
        self._remove(doomed)
        for sidecar, kept in rewrites.items():
            _drop_formats(sidecar, {e.format for e in kept})
            self.record(self.root / e.path for e in kept)
        pruned = self._prune({e.folder for e in entries}) if prune else []
        return DeleteReport(entries, removed, pruned)

    # ---- helpers ---------------------------------------------------------------------------

    def _describe(
        self, rel: str, path: Path, stat: os.stat_result, sidecar: Path | None, sidecar_ns: int
    ) -> Entry:
        record = read_sidecar(sidecar) if sidecar else {}
        duration = sidecar_number(record.get("duration_seconds"))
        rate = sidecar_number(record.get("sample_rate"))
        rate = int(rate) if rate else None
        if duration is None:
            duration, rate = header_info(path, sample_rate=rate)
        created = next(
            (t for key in ("created", "created_date", "timestamp") if (t := sidecar_time(record.get(key)))),
            stat.st_mtime,
        )
        kind = None
        if self._typed:
            declared = record.get("type")
            kind = (
                declared if isinstance(declared, str) else _NAME_TYPES.get(path.name.split("_")[0], "unknown")
            )
        if self._search_text is not None:
            text = self._search_text(record)
        else:
            text = record.get("text") if isinstance(record.get("text"), str) else None
        return Entry(
            path=rel,
            size=stat.st_size,
            mtime_ns=stat.st_mtime_ns,
            sidecar_mtime_ns=sidecar_ns,
            created=created,
            duration=round(duration, 3) if duration is not None else None,
            sample_rate=rate,
            generation_type=kind,
            text=text,
            metadata=record,
        )

    def _relative(self, path: Path) -> str:
        return path.resolve().relative_to(self.root.resolve()).as_posix()

    def _prune(self, folders: set[str]) -> list[str]:
        """Remove emptied folders, deepest first, up to (not including) the root."""
        candidates = {
            "/".join(PurePosixPath(f).parts[:n])
            for f in folders
            if f
            for n in range(1, len(PurePosixPath(f).parts) + 1)
        }
        pruned = []
        for folder in sorted(candidates, key=lambda f: f.count("/"), reverse=True):
            try:
                (self.root / folder).rmdir()
                pruned.append(folder)
            except OSError:
                pass  # not empty (or already gone)
        return pruned


def _drop_formats(sidecar: Path, kept: set[str]) -> None:
    record = read_sidecar(sidecar)
    if isinstance(record.get("files"), dict):
        record["files"] = {ext: name for ext, name in record["files"].items() if ext in kept}
        atomic_write_bytes(sidecar, json.dumps(record, indent=2).encode())
