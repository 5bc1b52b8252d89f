"""The audio pipeline: pure functions on a :class:`Clip` (mono float32 + sample rate)."""

from utils.audio.clip import Clip, concatenate, windows
from utils.audio.decode import check_usable, decode
from utils.audio.effects import (
    change_speed,
    cut_silences,
    loudness,
    normalize_loudness,
    normalize_peak,
    resample,
    silence,
    trim_silence,
)
from utils.audio.encode import AudioEncoder, encode, encode_stream
from utils.audio.formats import FORMATS, AudioFormat, get_format
from utils.audio.loudnorm import LoudnessStats, measure_loudness, normalize_ebu
from utils.audio.postprocess import PostProcessing
from utils.audio.probe import AudioInfo, header_readable, probe

__all__ = [
    "FORMATS",
    "AudioEncoder",
    "AudioFormat",
    "AudioInfo",
    "Clip",
    "LoudnessStats",
    "PostProcessing",
    "change_speed",
    "check_usable",
    "concatenate",
    "cut_silences",
    "decode",
    "encode",
    "encode_stream",
    "get_format",
    "header_readable",
    "loudness",
    "measure_loudness",
    "normalize_ebu",
    "normalize_loudness",
    "normalize_peak",
    "probe",
    "resample",
    "silence",
    "trim_silence",
    "windows",
]
