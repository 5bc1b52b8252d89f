"""Encoding a speech stream as it is generated: the bytes of each piece leave as soon as it is spoken."""

from __future__ import annotations

from collections.abc import AsyncIterator

from core_engine import SpeechStream
from utils.audio import AudioEncoder


async def timed_bytes(stream: SpeechStream, fmt: str) -> AsyncIterator[tuple[bytes, float]]:
    """Each piece encoded in ``fmt`` (possibly empty bytes while an encoder fills a frame) and its seconds."""
    encoder: AudioEncoder | None = None
    async for piece in stream.pieces:
        encoder = encoder or AudioEncoder(fmt, piece.sample_rate)
        yield encoder.feed(piece.samples), piece.duration
    if encoder is not None:
        yield encoder.finish(), 0.0


async def audio_bytes(stream: SpeechStream, fmt: str) -> AsyncIterator[bytes]:
    """The encoded audio, chunk by chunk, for a chunked HTTP body."""
    async for data, _ in timed_bytes(stream, fmt):
        if data:
            yield data
