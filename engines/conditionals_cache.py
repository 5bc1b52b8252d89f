"""Voice conditionals, cached in memory and on disk, keyed by the voice file's content.

Conditioning a voice (speaker embedding, prompt tokens, S3Gen reference) costs far more than a
short sentence on a GPU. The cache keeps the results in a least-recently-used map bounded by entry
count and bytes, and writes each one to disk so a restart (or another worker) skips the work.

Keys are ``<namespace>-<sha256 of the file's bytes>``: the namespace names the engine and the exact
weights it was loaded from, so a new checkpoint never reuses old conditionals. The digest of a path
is remembered with the file's size, modification time and inode; when those change the file is
hashed again and the entries of its old content are dropped (memory and disk). The inode tells a
replaced file (an upload with overwrite: a new file renamed over the old) from the old one even when
both have the same size and a coarse clock gave them the same modification time.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from config import ModelSettings

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass
class CacheStats:
    """What the cache has done since the engine loaded."""

    hits: int = 0
    disk_hits: int = 0
    misses: int = 0
    entries: int = 0
    bytes: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class CacheCodec(Generic[T]):
    """How an engine sizes, saves and loads its conditionals."""

    sizeof: Callable[[T], int]
    save: Callable[[T, Path], None]
    load: Callable[[Path], T]


class ConditionalsCache(Generic[T]):
    """LRU of conditionals bounded by ``max_entries`` and ``max_bytes``, backed by ``disk_dir``."""

    def __init__(
        self, codec: CacheCodec[T], *, max_entries: int, max_bytes: int, disk_dir: Path | None
    ) -> None:
        self._codec = codec
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._disk = disk_dir
        self._namespace = ""
        self._items: OrderedDict[str, tuple[T, int]] = OrderedDict()
        self._digests: dict[str, tuple[int, int, int, str]] = {}  # path -> (mtime_ns, size, inode, digest)
        self._lock = threading.RLock()
        self.stats = CacheStats()

    def open(self, namespace: str) -> None:
        """Start serving for one loaded model; entries of another namespace are forgotten."""
        with self._lock:
            if namespace != self._namespace:
                self.clear()
            self._namespace = namespace

    def key(self, path: Path) -> str:
        """The cache key of a voice file as it is now (hashing it only when it changed)."""
        resolved = str(path.resolve())
        stat = path.stat()
        with self._lock:
            known = self._digests.get(resolved)
            if known is not None and known[:3] == (stat.st_mtime_ns, stat.st_size, stat.st_ino):
                return self._key(known[3])
        digest = _sha256(path)
        with self._lock:
            if known is not None and known[3] != digest:
                self._invalidate(known[3])
            self._digests[resolved] = (stat.st_mtime_ns, stat.st_size, stat.st_ino, digest)
        return self._key(digest)

    def get(self, path: Path, compute: Callable[[Path], T]) -> tuple[str, T]:
        """The key and conditionals of ``path``: from memory, else disk, else ``compute(path)``."""
        key = self.key(path)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.stats.hits += 1
                return key, self._items[key][0]
        value = self._read(key)
        if value is not None:
            self.stats.disk_hits += 1
        else:
            value = compute(path)
            self.stats.misses += 1
            self._write(key, value)
        self._remember(key, value)
        return key, value

    def clear(self) -> None:
        """Forget what is in memory (on unload); the disk cache stays."""
        with self._lock:
            self._items.clear()
            self.stats.entries = self.stats.bytes = 0

    # ---- internals ----------------------------------------------------------------------

    def _key(self, digest: str) -> str:
        return f"{self._namespace}-{digest}"

    def _remember(self, key: str, value: T) -> None:
        if self._max_entries <= 0:
            return
        size = self._codec.sizeof(value)
        with self._lock:
            self._items[key] = (value, size)
            self._items.move_to_end(key)
            while len(self._items) > self._max_entries or (
                len(self._items) > 1 and sum(s for _, s in self._items.values()) > self._max_bytes
            ):
                self._items.popitem(last=False)
            self.stats.entries = len(self._items)
            self.stats.bytes = sum(s for _, s in self._items.values())

    def _invalidate(self, digest: str) -> None:
        """The file changed: its old content's conditionals are never wanted again."""
        key = self._key(digest)
        if self._items.pop(key, None) is not None:
            self.stats.entries = len(self._items)
            self.stats.bytes = sum(s for _, s in self._items.values())
        if self._disk is not None:
            with contextlib.suppress(OSError):
                (self._disk / f"{key}.pt").unlink()
        logger.info("voice file changed: dropped its cached conditionals %s", key)

    def _read(self, key: str) -> T | None:
        if self._disk is None:
            return None
        path = self._disk / f"{key}.pt"
        if not path.is_file():
            return None
        try:
            return self._codec.load(path)
        except Exception:
            logger.warning(
                "cached conditionals %s could not be read; computing them again", path, exc_info=True
            )
            with contextlib.suppress(OSError):
                path.unlink()
            return None

    def _write(self, key: str, value: T) -> None:
        """Save atomically (temporary name, then rename); a failure only costs the next start."""
        if self._disk is None:
            return
        try:
            self._disk.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=self._disk, prefix=".", suffix=".part")
            os.close(fd)
            try:
                self._codec.save(value, Path(temp))
                os.replace(temp, self._disk / f"{key}.pt")
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temp)
        except Exception:
            logger.warning("could not write cached conditionals to %s", self._disk, exc_info=True)


def fingerprint(*parts: Any, files: tuple[Path, ...] = ()) -> str:
    """A short stable id of a model: its name, where it came from, and its files' sizes and times."""
    h = hashlib.sha1(usedforsecurity=False)
    for part in parts:
        h.update(f"{part}\0".encode())
    for path in files:
        with contextlib.suppress(OSError):
            stat = path.stat()
            h.update(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}\0".encode())
    return h.hexdigest()[:12]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def conditionals_cache(settings: ModelSettings, codec: CacheCodec[Any]) -> ConditionalsCache[Any]:
    """The cache sized by ``models.voice_cache_*``, on disk under ``models.conditionals_cache_dir``."""
    return ConditionalsCache(
        codec,
        max_entries=settings.voice_cache_size,
        max_bytes=int(settings.voice_cache_mb * 2**20),
        disk_dir=settings.conditionals_cache_dir,
    )


def tensor_bytes(value: Any) -> int:
    """Bytes held by the tensors in a (nested) dict, dataclass or tensor."""
    if hasattr(value, "element_size") and hasattr(value, "nelement"):
        return int(value.element_size() * value.nelement())
    if isinstance(value, dict):
        return sum(tensor_bytes(v) for v in value.values())
    if hasattr(value, "__dict__"):
        return tensor_bytes(vars(value))
    return 0
