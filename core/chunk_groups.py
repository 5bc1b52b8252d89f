"""Consecutive chunks of one text spoken in one engine call (``engines.base.VocodesTogether``).

Chatterbox's S3Gen reads the voice's prompt (up to 10 s of reference audio) with every call, so a
chunk of a few seconds pays mostly for the prompt. A group of chunks is decoded together by T3 and
vocoded in one S3Gen pass, then cut back into chunks. Which chunks go together depends only on the
text (``plan_groups``): the same request and seed give the same audio, whatever else runs.

Only the first take of a chunk comes from its group; a retake (Whisper rejected the first) is made
alone, as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType

from engines.base import SynthesisEngine, VocodesTogether
from utils.audio import Clip

Spoken = list[tuple[Clip, list[str]]]  # each chunk's clip, with what the engine said about it


def groups_for(engine: SynthesisEngine, chunks: Sequence[str]) -> list[range]:
    """The chunks ``engine`` speaks together (``VocodesTogether``), at most as many as run at once (its
    ``concurrency``: the T3 batch); none when it has no such call."""
    if not isinstance(engine, VocodesTogether) or not engine.vocode_group_chars:
        return []
    return plan_groups([len(chunk) for chunk in chunks], engine.vocode_group_chars, engine.traits.concurrency)


def plan_groups(lengths: Sequence[int], max_chars: int, max_chunks: int) -> list[range]:
    """Consecutive chunks, in order, each group at most ``max_chars`` characters and ``max_chunks``
    chunks (a longer chunk is a group of its own)."""
    groups: list[range] = []
    start, chars = 0, 0
    for index, length in enumerate(lengths):
        if index > start and (chars + length > max_chars or index - start >= max_chunks):
            groups.append(range(start, index))
            start, chars = index, 0
        chars += length
    if lengths:
        groups.append(range(start, len(lengths)))
    return groups


class ChunkGroups:
    """The groups of one text; a group's call starts when the first of its chunks is asked for, and
    with it the next group's, so that two groups share the model's batch (T3 decodes them together).

    ``speak(group)`` makes every chunk of a group of two or more. Leaving the ``async with`` cancels
    the calls started and not finished (the request went away or failed).
    """

    def __init__(self, groups: Sequence[range], speak: Callable[[range], Awaitable[Spoken]]) -> None:
        self._speak = speak
        together = [group for group in groups if len(group) > 1]
        self._of = {index: group for group in together for index in group}
        self._next = dict(zip([group.start for group in together], together[1:], strict=False))
        self._calls: dict[int, asyncio.Task[Spoken]] = {}

    def covers(self, index: int) -> bool:
        """Whether chunk ``index`` is made with others."""
        return index in self._of

    def waited(self, index: int) -> range | None:
        """The chunks that waiting for chunk ``index`` waits for: its group's from its first chunk, itself
        when alone; None for a later chunk of a group (made with its first: no wait of its own)."""
        group = self._of.get(index)
        if group is None:
            return range(index, index + 1)
        return group if group.start == index else None

    async def chunk(self, index: int) -> tuple[Clip, list[str]]:
        """Chunk ``index``'s clip and notes, from its group's call."""
        group = self._of[index]
        call = self._start(group)
        if (following := self._next.get(group.start)) is not None:
            self._start(following)
        # Shielded: the other chunks of the group wait on the same call; it is cancelled on leaving.
        spoken = await asyncio.shield(call)
        return spoken[index - group.start]

    def _start(self, group: range) -> asyncio.Task[Spoken]:
        call = self._calls.get(group.start)
        if call is None:
            call = self._calls[group.start] = asyncio.ensure_future(self._speak(group))
        return call

    async def __aenter__(self) -> ChunkGroups:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        running = [call for call in self._calls.values() if not call.done()]
        for call in running:
            call.cancel()
        if running:
            await asyncio.gather(*running, return_exceptions=True)
        for call in self._calls.values():  # an error nobody heard (its chunks were never asked for)
            if call.done() and not call.cancelled():
                call.exception()
