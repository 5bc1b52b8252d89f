"""Housekeeping: remove empty, unreadable and stale files from the data folders, and old outputs.

What goes, in outputs/, voices/ and vc_inputs/ (every subfolder; hidden folders such as
``voices/.emotions`` and hidden files such as the metadata index are never touched):

- ``empty``: a 0-byte file;
- ``unreadable``: an audio file whose header neither libsndfile nor PyAV can read;
- ``orphan_sidecar``: ``<name>.<ext>.json`` without ``<name>.<ext>``, or an output's shared
  ``<stem>.json`` (one the server wrote: it has ``type`` or ``files``) with no audio of that stem
  left anywhere in the library;
- ``stale_temp``: an unfinished ``.part`` write, or any file in the temp folder, older than
  ``temp_max_age_minutes``;
- ``retention_age`` / ``retention_size``: outputs past ``retention.max_age_days``, or the oldest
  outputs while outputs/ is over ``retention.max_total_mb`` (both off by default).

Files changed within ``grace_seconds`` are left alone: they may be being written. Removed audio
is forgotten by the metadata index. Runs at start, every ``interval_hours``, and on demand; once
per cluster: a run takes the index's ``housekeeping`` lock, and a replica that finds it taken
skips its run (a dry run takes no lock).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from config import HousekeepingSettings
from exceptions import ConflictError
from management.catalog import Catalog
from management.index import Entry, Filters
from management.library_files import AUDIO_SUFFIXES, walk_files
from utils.audio import header_readable

logger = logging.getLogger(__name__)

HISTORY = 5  # runs kept for the status (Plus kept five)
_RAW = ".pcm"  # headerless: nothing to check but its size


@dataclass(frozen=True)
class Removal:
    """One file removed (or that a dry run would remove)."""

    library: str  # outputs | voices | vc_inputs | temp
    path: str  # relative to the library's folder, forward slashes
    reason: str
    bytes: int


@dataclass
class CleanupRun:
    """What one run did."""

    trigger: str  # start | schedule | request
    dry_run: bool
    started: float  # epoch seconds
    finished: float = 0.0
    removals: list[Removal] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    stopped: bool = False  # cut short by shutdown

    @property
    def total_bytes(self) -> int:
        return sum(r.bytes for r in self.removals)


@dataclass(frozen=True)
class SchedulerState:
    enabled: bool
    on_start: bool
    running: bool  # the scheduler thread is alive
    busy: bool  # a run is under way
    interval_hours: float
    last_run: float | None
    next_run: float | None


class _Stopped(Exception):
    """The server is shutting down: the run ends where it is."""


@dataclass
class _File:
    rel: str
    path: Path
    size: int
    mtime: float


class Housekeeper:
    """Finds and removes junk in the data folders, on a schedule (a daemon thread) or on demand."""

    def __init__(
        self,
        settings: HousekeepingSettings,
        folders: Mapping[str, Path],
        temp_dir: Path,
        catalogs: Mapping[str, Catalog],
    ) -> None:
        self.settings = settings
        self.folders = {name: Path(folder) for name, folder in folders.items()}
        self.temp_dir = Path(temp_dir)
        self.catalogs = dict(catalogs)  # library name -> its index (libraries without one: none)
        # the index the catalogs share holds the lock that keeps runs to one per cluster
        self._index = next((catalog.index for catalog in self.catalogs.values()), None)
        self.history: deque[CleanupRun] = deque(maxlen=HISTORY)
        self._lock = threading.Lock()  # one run at a time
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_run: float | None = None
        self._busy = False

    # ---- scheduling -------------------------------------------------------------------------

    def start(self) -> None:
        """Run at start (``on_start``) and every ``interval_hours`` (``enabled``), in a daemon thread."""
        if not (self.settings.enabled or self.settings.on_start):
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="housekeeping", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the schedule; a run under way ends at its next file (waits ``timeout`` at most)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                logger.warning("housekeeping did not stop within %.0f s; leaving it behind", timeout)
            self._thread = None
        self._next_run = None

    def _loop(self) -> None:
        if self.settings.on_start and self._wait_for_index():
            self._run_logged("start")
        interval = self.settings.interval_hours * 3600
        while self.settings.enabled:
            self._next_run = time.time() + interval
            if self._stop.wait(interval):
                return
            self._run_logged("schedule")
        self._next_run = None

    def _wait_for_index(self) -> bool:
        """Let the start-up scan finish first (it would index files this run removes)."""
        for catalog in self.catalogs.values():
            while not catalog.wait_ready(0.5):
                if self._stop.is_set():
                    return False
        return not self._stop.is_set()

    def _run_logged(self, trigger: str) -> None:
        try:
            self.run(trigger=trigger)
        except ConflictError as exc:
            logger.info("housekeeping (%s) skipped: %s", trigger, exc.message)
        except Exception:
            logger.exception("housekeeping (%s) failed", trigger)

    def state(self) -> SchedulerState:
        last = self.history[-1].finished if self.history else None
        return SchedulerState(
            enabled=self.settings.enabled,
            on_start=self.settings.on_start,
            running=self._thread is not None and self._thread.is_alive(),
            busy=self._busy,
            interval_hours=self.settings.interval_hours,
            last_run=last,
            next_run=self._next_run,
        )

    # ---- one run ----------------------------------------------------------------------------

    def run(self, *, dry_run: bool = False, trigger: str = "request") -> CleanupRun:
        """Find what should go and (unless ``dry_run``) remove it; the run joins the history.

        Raises :class:`ConflictError` when another process sharing the index is running one."""
        with self._lock, self._cluster_lock(dry_run) as ours:
            if not ours:
                raise ConflictError(
                    "housekeeping is running in another replica (it holds the index's lock); try again later",
                    code="housekeeping_running",
                )
            self._busy = True
            run = CleanupRun(trigger, dry_run, time.time())
            try:
                self._collect(run)
            except _Stopped:
                run.stopped = True
                logger.info("housekeeping stopped by shutdown")
            finally:
                self._busy = False
            run.finished = time.time()
            self.history.append(run)
        verb = "would remove" if dry_run else "removed"
        logger.info(
            "housekeeping (%s): %s %d files, %d bytes",
            trigger,
            verb,
            len(run.removals),
            run.total_bytes,
        )
        return run

    def _cluster_lock(self, dry_run: bool) -> AbstractContextManager[bool]:
        if dry_run or self._index is None:
            return nullcontext(True)
        return self._index.exclusive("housekeeping")

    def _collect(self, run: CleanupRun) -> None:
        now = time.time()
        for library, root in self.folders.items():
            removals = self._junk(library, root, now)
            self._apply(run, library, root, removals)
        retention = self.settings.retention
        outputs = self.catalogs.get("outputs")
        if outputs is not None and (retention.max_age_days or retention.max_total_mb):
            self._retain(run, outputs, now)
        stale = [
            Removal("temp", f.rel, "stale_temp", f.size)
            for f in self._walk(self.temp_dir)
            if now - f.mtime > self.settings.temp_max_age_minutes * 60
        ]
        self._apply(run, "temp", self.temp_dir, stale)

    def _junk(self, library: str, root: Path, now: float) -> list[Removal]:
        """Empty and unreadable files, orphan sidecars and stale ``.part`` writes in one library."""
        settled = now - self.settings.grace_seconds
        files = list(self._walk(root))
        removals: dict[str, Removal] = {}
        for f in files:
            name = PurePosixPath(f.rel).name
            suffix = PurePosixPath(name).suffix.lower()
            if name.startswith("."):  # the index, partial writes: only stale partial writes go
                if name.endswith(".part") and now - f.mtime > self.settings.temp_max_age_minutes * 60:
                    removals[f.rel] = Removal(library, f.rel, "stale_temp", f.size)
                continue
            if f.mtime > settled:
                continue
            if f.size == 0:
                removals[f.rel] = Removal(library, f.rel, "empty", 0)
            elif suffix in AUDIO_SUFFIXES and suffix != _RAW and not header_readable(f.path):
                removals[f.rel] = Removal(library, f.rel, "unreadable", f.size)
            self._check_stop()
        audio = {
            f.rel
            for f in files
            if PurePosixPath(f.rel).suffix.lower() in AUDIO_SUFFIXES and f.rel not in removals
        }
        stems = {PurePosixPath(rel).stem for rel in audio}
        for f in files:
            if f.rel in removals or f.mtime > settled or not f.rel.endswith(".json"):
                continue
            if PurePosixPath(f.rel).name.startswith("."):
                continue
            base = f.rel[: -len(".json")]
            if PurePosixPath(base).suffix.lower() in AUDIO_SUFFIXES:
                orphan = base not in audio
            elif library == "outputs":  # only outputs share one <stem>.json between formats
                orphan = PurePosixPath(base).name not in stems and _written_by_server(f.path)
            else:
                orphan = False
            if orphan:
                removals[f.rel] = Removal(library, f.rel, "orphan_sidecar", f.size)
        return list(removals.values())

    def _retain(self, run: CleanupRun, outputs: Catalog, now: float) -> None:
        """Outputs past the age limit, then the oldest while the folder is over the size limit."""
        retention = self.settings.retention
        done = {r.path for r in run.removals if r.library == "outputs"}
        entries = sorted(
            (e for e in outputs.select(Filters()) if e.path not in done), key=lambda e: e.created
        )
        reasons: dict[str, str] = {}
        if retention.max_age_days:
            cutoff = now - retention.max_age_days * 86400
            reasons |= {e.path: "retention_age" for e in entries if e.created < cutoff}
        if retention.max_total_mb:
            total = sum(e.size for e in entries if e.path not in reasons)
            limit = retention.max_total_mb * 2**20
            for entry in entries:
                if total <= limit:
                    break
                if entry.path not in reasons:
                    reasons[entry.path] = "retention_size"
                    total -= entry.size
        doomed = [e for e in entries if e.path in reasons]
        if not doomed:
            return
        report = outputs.delete(doomed, dry_run=True)
        removals = []
        for rel in report.files:
            path = outputs.root / rel
            size = path.stat().st_size if path.is_file() else 0
            removals.append(
                Removal("outputs", rel, reasons.get(rel) or _group_reason(rel, doomed, reasons), size)
            )
        if run.dry_run:
            run.removals.extend(removals)
            return
        outputs.delete(doomed)
        for removal in removals:
            logger.info(
                "housekeeping removed outputs/%s (%s, %d bytes)", removal.path, removal.reason, removal.bytes
            )
        run.removals.extend(removals)

    def _apply(self, run: CleanupRun, library: str, root: Path, removals: list[Removal]) -> None:
        if run.dry_run:
            run.removals.extend(removals)
            return
        gone = []
        for removal in removals:
            path = root / removal.path
            try:
                path.unlink(missing_ok=True)
            except OSError as exc:
                run.errors.append(f"{library}/{removal.path}: {exc}")
                logger.warning("housekeeping could not remove %s/%s: %s", library, removal.path, exc)
                continue
            logger.info(
                "housekeeping removed %s/%s (%s, %d bytes)",
                library,
                removal.path,
                removal.reason,
                removal.bytes,
            )
            run.removals.append(removal)
            gone.append(path)
        catalog = self.catalogs.get(library)
        audio = [p for p in gone if p.suffix.lower() in AUDIO_SUFFIXES]
        if catalog is not None and audio:
            catalog.forget(audio)

    def _walk(self, root: Path) -> Iterator[_File]:
        """Every plain file below ``root``, hidden ones included (no symlinks; hidden folders skipped)."""
        for rel, item, stat, _ in walk_files(root, hidden=True):
            self._check_stop()
            yield _File(rel, Path(item.path), stat.st_size, stat.st_mtime)

    def _check_stop(self) -> None:
        if self._stop.is_set():
            raise _Stopped


def _written_by_server(path: Path) -> bool:
    """An output's shared sidecar (ours or Plus's), not some other JSON file the user keeps."""
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and ("files" in data or "type" in data)


def _group_reason(rel: str, doomed: list[Entry], reasons: dict[str, str]) -> str:
    """A sidecar removed with its outputs takes their reason."""
    stem = PurePosixPath(rel).name.removesuffix(".json")
    folder = PurePosixPath(rel).parent.as_posix() if "/" in rel else ""
    for entry in doomed:
        if entry.stem == stem and entry.folder == folder:
            return reasons[entry.path]
    return next(iter(reasons.values()))
