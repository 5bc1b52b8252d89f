"""Concatenation speed and memory: our pipeline against the ffmpeg command line, side by side.

The job, the same on both sides: about an hour of speech in segments (real Piper speech, each
segment padded with silence at both ends and spoken at its own level), joined in order with
each segment's edge silence trimmed, the whole result normalised to -23 LUFS (measure, then
apply a gain: two passes) and written as one mp3 at the format table's bitrate.

* ours: ``Concatenator.concat`` (what ``POST /api/v1/concat`` runs), trim=True, normalize=True,
  normalize_levels=False, export_formats=["mp3"].
* ffmpeg: pass 1 ``[i]silenceremove(start),areverse,silenceremove(start),areverse`` per input,
  ``concat``, ``ebur128`` to measure; pass 2 the same graph with ``volume`` and libmp3lame.

It prints both wall times, their ratio (goal: ours <= 1.5x ffmpeg), our speed as a multiple of
real time (goal: >= 200x), the same job written as WAV (the pipeline's own speed, without the
mp3 encoder), and our peak memory above the baseline against the output's 16-bit PCM size
(goal: under 2x).

Measured on the 2-core CI machine, quiet, 60 min of speech in 155 segments (2026-11-22):
ours 16.7 s (217x real time), ffmpeg 25.8 s (140x), ratio 0.65; the same job to WAV 5.6 s
(640x); peak memory 85 MiB above the baseline, a fixed cost (0.6x the 141 MiB of PCM here; the
two-hour test in tests/unit/test_concat_memory.py stays under 0.3x). The mp3 side is fast
because mp3 goes through lameenc (utils/audio/mp3.py): PyAV's bundled LAME managed about 75x.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from config import Settings
from core.concat import Concatenator, ConcatJob, ConcatOptions, ItemSpec
from engines.base import SynthesisParams
from engines.piper import PiperEngine
from management.catalog import Catalog
from management.index_sqlite import SQLiteIndex
from management.outputs import OutputStore
from utils.audio import Clip, encode, get_format

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Speech servers should be fast, and honest about what they can do.",
    "Chapter two begins on a cold morning in the harbour town.",
    "She counted the boats, then counted them again, and still one was missing.",
    "Every format decodes, every file is whole, and nothing is lost.",
    "A long book is read one sentence at a time.",
]


def build_segments(folder: Path, minutes: float, segment_seconds: float) -> tuple[list[str], float]:
    """Real speech, padded with 0.3-1 s of silence at each end and at varied levels, as WAV files."""
    piper = PiperEngine(Settings().piper)
    piper.load()
    params = SynthesisParams(0.5, 0.5, 0.8, 1.2, 0.05, 1.0, seed=1, watermark=False)
    voices = [piper.synthesize(text, None, params) for text in SENTENCES]
    rate = voices[0].sample_rate
    rng = np.random.default_rng(0)
    names, total, index = [], 0.0, 0
    while total < minutes * 60:
        parts = []
        while sum(len(p) for p in parts) < segment_seconds * rate:
            parts.append(voices[int(rng.integers(len(voices)))].samples)
            parts.append(np.zeros(int(rate * rng.uniform(0.2, 0.5)), np.float32))
        pad = [np.zeros(int(rate * rng.uniform(0.3, 1.0)), np.float32) for _ in range(2)]
        samples = np.concatenate([pad[0], *parts, pad[1]]) * np.float32(rng.uniform(0.3, 1.0))
        name = f"seg{index:04d}.wav"
        (folder / name).write_bytes(encode(Clip(samples, rate), "wav"))
        names.append(name)
        total += len(samples) / rate
        index += 1
    return names, total


def run_ours(folder: Path, names: list[str], temp: Path, fmt: str = "mp3") -> tuple[float, float, int]:
    store = OutputStore(folder)
    files = Catalog(SQLiteIndex(temp / "index.sqlite"), "voices", folder, label="voice")  # resolve only
    service = Concatenator(store, files, files, temp)
    job = ConcatJob(
        items=tuple(ItemSpec(f"files[{i}]", source=name) for i, name in enumerate(names)),
        options=ConcatOptions(trim=True, level=False, normalize=True, normalize_level=-23.0, seed=1),
        formats=(fmt,),
        name=f"ours-{fmt}",
        overwrite=True,
    )
    baseline = psutil.Process().memory_info().rss
    started = time.perf_counter()
    result = asyncio.run(service.concat(job))
    seconds = time.perf_counter() - started
    status = Path("/proc/self/status").read_text()  # VmHWM: this process's peak resident size
    peak = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))) * 1024
    return seconds, result.duration, max(0, peak - baseline)


def run_ffmpeg(folder: Path, names: list[str], out: Path) -> float:
    trim = "silenceremove=start_periods=1:start_threshold=-40dB:start_silence=0.05"
    chains = [f"[{i}:a]{trim},areverse,{trim},areverse[a{i}]" for i in range(len(names))]
    joined = "".join(f"[a{i}]" for i in range(len(names))) + f"concat=n={len(names)}:v=0:a=1"
    inputs = [arg for name in names for arg in ("-i", str(folder / name))]
    script = folder / "graph.txt"
    started = time.perf_counter()
    script.write_text(";".join(chains) + ";" + joined + ",ebur128=framelog=verbose[out]")
    measured = subprocess.run(
        [
            "ffmpeg",
            "-hide_banner",
            "-nostats",
            *inputs,
            "-filter_complex_script",
            str(script),
            "-map",
            "[out]",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
    )
    if measured.returncode:
        sys.exit(measured.stderr[-2000:])
    found = re.findall(r"I:\s+(-?[\d.]+) LUFS", measured.stderr)
    gain = -23.0 - float(found[-1])
    script.write_text(";".join(chains) + ";" + joined + f",volume={gain:.2f}dB[out]")
    bitrate = get_format("mp3").bitrate
    subprocess.run(
        [
            "ffmpeg",
            "-hide_banner",
            "-nostats",
            "-y",
            *inputs,
            "-filter_complex_script",
            str(script),
            "-map",
            "[out]",
            "-c:a",
            "libmp3lame",
            "-b:a",
            str(bitrate),
            str(out),
        ],
        capture_output=True,
        check=True,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--segment-seconds", type=float, default=20.0)
    args = parser.parse_args()
    if shutil.which("ffmpeg") is None:
        sys.exit("ffmpeg is not on PATH (apt-get install ffmpeg)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        names, audio = build_segments(folder, args.minutes, args.segment_seconds)
        print(f"input: {len(names)} segments, {audio / 60:.1f} min of speech")
        ours, duration, peak = run_ours(folder, names, folder / "temp")
        wav, _, _ = run_ours(folder, names, folder / "temp", "wav")
        theirs = run_ffmpeg(folder, names, folder / "ffmpeg.mp3")
        pcm = duration * 22050 * 2
        print(f"ours:   {ours:7.2f} s  ({audio / ours:6.0f}x real time)   goal >= 200x")
        print(f"ffmpeg: {theirs:7.2f} s  ({audio / theirs:6.0f}x real time)")
        print(
            f"ours, same job to wav: {wav:5.2f} s ({audio / wav:6.0f}x real time: the pipeline without LAME)"
        )
        print(f"ratio ours/ffmpeg: {ours / theirs:.2f}   goal <= 1.5")
        print(
            f"peak memory above baseline: {peak / 2**20:.0f} MiB = {peak / pcm:.2f}x the output's PCM size"
            f" ({pcm / 2**20:.0f} MiB)   goal < 2"
        )


if __name__ == "__main__":
    main()
