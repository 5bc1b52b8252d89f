"""Encoding one stream of samples into several files at once, each format on its own thread.

FFmpeg's encoders release the GIL, so an mp3 and a flac encode in parallel with the work that
produces the samples. Queues are bounded: a slow encoder slows the producer instead of piling
audio up in memory.
"""

from __future__ import annotations

import queue
import threading
from pathlib import Path

import numpy as np

from utils.audio.encode import AudioEncoder
from utils.audio.formats import AudioFormat

_DONE = None


class FileEncoders:
    """``feed`` samples once; every target file gets them encoded in its format."""

    def __init__(self, targets: dict[AudioFormat, Path], sample_rate: int, *, depth: int = 4) -> None:
        self._queues: list[queue.Queue[np.ndarray | None]] = []
        self._threads: list[threading.Thread] = []
        self._errors: list[BaseException] = []
        for fmt, path in targets.items():
            inbox: queue.Queue[np.ndarray | None] = queue.Queue(maxsize=depth)
            thread = threading.Thread(
                target=self._run, args=(fmt, path, sample_rate, inbox), name=f"encode-{fmt.name}", daemon=True
            )
            self._queues.append(inbox)
            self._threads.append(thread)
            thread.start()

    def feed(self, samples: np.ndarray) -> None:
        """Hand a block to every encoder (waits while one is behind)."""
        self._raise()
        for inbox in self._queues:
            self._put(inbox, samples)

    def close(self) -> None:
        """Flush every encoder and wait for the files to be complete."""
        for inbox in self._queues:
            self._put(inbox, _DONE)
        for thread in self._threads:
            thread.join()
        self._raise()

    def abort(self) -> None:
        """Stop without caring for the files (the caller removes them)."""
        self._errors.append(RuntimeError("aborted"))
        for inbox in self._queues:
            while True:
                try:
                    inbox.get_nowait()
                except queue.Empty:
                    break
            inbox.put(_DONE)
        for thread in self._threads:
            thread.join()

    def _put(self, inbox: queue.Queue[np.ndarray | None], item: np.ndarray | None) -> None:
        while True:  # wake up now and then, so a dead encoder cannot block the producer forever
            try:
                inbox.put(item, timeout=0.5)
                return
            except queue.Full:
                self._raise()

    def _raise(self) -> None:
        if self._errors:
            raise self._errors[0]

    def _run(self, fmt: AudioFormat, path: Path, rate: int, inbox: queue.Queue[np.ndarray | None]) -> None:
        try:
            with path.open("wb") as handle:
                encoder = AudioEncoder(fmt, rate, file=handle)
                while (samples := inbox.get()) is not _DONE:
                    if self._errors:
                        return
                    encoder.feed(samples)
                encoder.finish()
        except Exception as exc:  # noqa: BLE001 - handed to the producer thread, which raises it
            self._errors.append(exc)
            while inbox.get() is not _DONE:  # drain, so the producer never waits on a dead thread
                pass
