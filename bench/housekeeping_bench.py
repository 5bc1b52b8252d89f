"""Housekeeping's cost: a dry run over 1,000 audio files, and the header check per format.

Writes 200 half-second files of each format the server makes (wav, mp3, flac, opus, aac) plus
four unreadable ones into a scratch ``outputs/`` tree of ten folders, dated two hours back, then
times ``Housekeeper.run(dry_run=True)`` and ``header_readable`` against a PyAV ``probe``.

Measured on the 2-core dev machine, shared with other jobs (2026-11-30): a dry run over 1,004
files 0.7-1.0 s (4 flagged); per file, header_readable / PyAV probe: wav 0.16 / 4.8 ms, mp3 0.20 /
0.89 ms, flac 0.18 / 0.60 ms, opus 0.69 / 0.59 ms, aac 1.3 / 1.4 ms (libsndfile reads the first
three; Opus and AAC go through PyAV).

Run: ``uv run python bench/housekeeping_bench.py``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from config import HousekeepingSettings
from management.housekeeping import Housekeeper
from utils.audio import Clip, encode, get_format, header_readable, probe

FORMATS = ("wav", "mp3", "flac", "opus", "aac")
PER_FORMAT = 200
OLD = time.time() - 2 * 3600


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        outputs = root / "outputs"
        clip = Clip(np.zeros(12000, dtype=np.float32), 24000)
        files: dict[str, list[Path]] = {}
        for fmt in FORMATS:
            data = encode(clip, get_format(fmt))
            for n in range(PER_FORMAT):
                path = outputs / f"p{n % 10}" / f"{fmt}_{n}.{get_format(fmt).extension}"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
                os.utime(path, (OLD, OLD))
                files.setdefault(fmt, []).append(path)
        for n, data in enumerate((b"", b"RIFF\0\0\0\0WAVEjunk", b"not an mp3" * 50, os.urandom(300))):
            path = outputs / f"bad_{n}.{('wav', 'wav', 'mp3', 'flac')[n]}"
            path.write_bytes(data)
            os.utime(path, (OLD, OLD))
        keeper = Housekeeper(HousekeepingSettings(), {"outputs": outputs}, root / "temp", {})
        started = time.perf_counter()
        run = keeper.run(dry_run=True)
        total = sum(len(v) for v in files.values()) + 4
        print(
            f"dry run over {total} files: {time.perf_counter() - started:.2f} s, {len(run.removals)} flagged"
        )
        for fmt, paths in files.items():
            started = time.perf_counter()
            assert all(header_readable(p) for p in paths)
            ours = (time.perf_counter() - started) * 1000 / len(paths)
            started = time.perf_counter()
            for p in paths:
                probe(p)
            pyav = (time.perf_counter() - started) * 1000 / len(paths)
            print(f"{fmt:5} header_readable {ours:.2f} ms/file, PyAV probe {pyav:.2f} ms/file")


if __name__ == "__main__":
    main()
