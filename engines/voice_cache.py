"""A small LRU of per-voice conditioning, keyed by the file's identity so edits invalidate it."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

T = TypeVar("T")


class VoiceCache(Generic[T]):
    """Least-recently-used cache of values computed from a voice file."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[tuple[str, int, int], T] = OrderedDict()

    def get(self, path: Path, compute: Callable[[Path], T]) -> T:
        """Return the cached value for ``path``, computing it when the file is new or changed."""
        stat = path.stat()
        key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        value = compute(path)
        if self._size > 0:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        """Forget every entry (on unload)."""
        self._items.clear()
