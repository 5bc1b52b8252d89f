"""Encoding clips in-process with FFmpeg's codecs (PyAV), whole or chunk by chunk."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from typing import BinaryIO

import av
import numpy as np

from utils.audio.clip import Clip
from utils.audio.formats import AudioFormat, get_format
from utils.audio.mp3 import RATES as MP3_RATES
from utils.audio.mp3 import Mp3Writer


class _Sink:
    """A write-only, non-seekable file for the muxer: what it writes can be handed on at once."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


class AudioEncoder:
    """Feed mono float samples, get encoded bytes back as soon as the codec produces them.

    ``seekable=False`` (streaming): bytes come out while feeding; WAV then carries the
    "unknown length" size field, as streamed WAV does. ``seekable=True``: everything comes out
    at ``finish()`` with exact headers (WAV sizes, MP3 Xing frame). ``file``: a seekable file
    to write into as the codec goes (exact headers, nothing held in memory).
    """

    def __init__(
        self,
        fmt: AudioFormat | str,
        sample_rate: int,
        *,
        bitrate: int | None = None,
        seekable: bool = False,
        file: BinaryIO | None = None,
    ) -> None:
        self.format = get_format(fmt) if isinstance(fmt, str) else fmt
        self.input_rate = sample_rate
        self.sample_rate = self.format.output_rate(sample_rate)
        self._seekable = seekable or file is not None
        self._file = file  # written in place (exact headers); feed() and finish() then return b""
        self._buffer: BinaryIO | _Sink = file or (io.BytesIO() if seekable else _Sink())
        self._pts = 0
        self._container: av.container.OutputContainer | None = None
        self._stream: av.audio.stream.AudioStream | None = None
        self._mp3: Mp3Writer | None = None
        if self.format.codec == "libmp3lame" and sample_rate in MP3_RATES:
            target = None if isinstance(self._buffer, _Sink) else self._buffer
            self._mp3 = Mp3Writer(sample_rate, bitrate or self.format.bitrate or 192_000, target)
        elif self.format.container is not None:
            options = {} if self._seekable else dict(self.format.stream_options)
            self._container = av.open(self._buffer, mode="w", format=self.format.container, options=options)
            stream = self._container.add_stream(str(self.format.codec), rate=self.sample_rate, layout="mono")
            assert isinstance(stream, av.audio.stream.AudioStream)  # an audio codec from the formats table
            if self.format.bitrate:
                stream.bit_rate = bitrate or self.format.bitrate
            self._stream = stream

    def feed(self, samples: np.ndarray) -> bytes:
        """Encode more samples (at the input rate); returns the bytes ready so far (streaming mode)."""
        samples = np.ascontiguousarray(samples, dtype=np.float32)
        if self._mp3 is not None:
            return self._mp3.feed(samples)
        if self._container is None:
            data = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()
            self._buffer.write(data)
            return self._drain()
        assert self._stream is not None  # made with the container
        if samples.size:
            frame = av.AudioFrame.from_ndarray(samples[None, :], format="flt", layout="mono")
            frame.sample_rate, frame.pts = self.input_rate, self._pts
            self._pts += samples.size
            for packet in self._stream.encode(frame):  # PyAV converts format, rate and frame size
                self._container.mux(packet)
        return self._drain()

    def finish(self) -> bytes:
        """Flush the codec and close the container; returns the remaining bytes (all of them if seekable)."""
        if self._mp3 is not None:
            tail = self._mp3.finish()
            if isinstance(self._buffer, _Sink):
                return tail
        elif self._container is not None and self._stream is not None:
            for packet in self._stream.encode(None):
                self._container.mux(packet)
            self._container.close()
        if self._file is not None:
            return b""
        if self._seekable:
            assert isinstance(self._buffer, io.BytesIO)
            return self._buffer.getvalue()
        return self._drain()

    def _drain(self) -> bytes:
        return self._buffer.take() if isinstance(self._buffer, _Sink) else b""


def encode(clip: Clip, fmt: AudioFormat | str, *, bitrate: int | None = None) -> bytes:
    """A whole clip as one file's bytes in ``fmt``."""
    encoder = AudioEncoder(fmt, clip.sample_rate, bitrate=bitrate, seekable=True)
    encoder.feed(clip.samples)
    return encoder.finish()


def encode_stream(
    clips: Iterable[Clip], fmt: AudioFormat | str, *, bitrate: int | None = None
) -> Iterator[bytes]:
    """Encode clips as they arrive (all at one sample rate), yielding bytes as soon as they are ready."""
    encoder: AudioEncoder | None = None
    for clip in clips:
        if encoder is None:
            encoder = AudioEncoder(fmt, clip.sample_rate, bitrate=bitrate)
        elif clip.sample_rate != encoder.input_rate:
            raise ValueError("a stream's clips must share one sample rate")
        if data := encoder.feed(clip.samples):
            yield data
    if encoder is not None and (data := encoder.finish()):
        yield data
