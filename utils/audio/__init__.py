"""The audio pipeline: pure functions on a :class:`Clip`."""

from utils.audio.clip import Clip, concatenate
from utils.audio.io import decode_file, encode_wav

__all__ = ["Clip", "concatenate", "decode_file", "encode_wav"]
