"""Word timings: when each word of a known text is heard, from Whisper's word timestamps.

Whisper may mishear a word ("the" for "a") or merge two; the answer still lists the text's own words,
in order: each word Whisper heard alike gets Whisper's times, and the words between two such anchors
share the gap in proportion to their length. Times never go backwards and stay inside the clip, and
every word lasts a while: a word Whisper timed inside its neighbour's time (or with no length) shares
the time of the word before it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

import numpy as np

from recognition.scoring import normalize_words
from recognition.whisper import WHISPER_RATE
from utils.audio import Clip, resample

_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class HeardWord:
    """A word as Whisper heard it, with its start and end in seconds."""

    word: str
    start: float
    end: float


@dataclass(frozen=True)
class TimedWord:
    """A word of the text (as written, punctuation kept) and when it is heard, in seconds."""

    word: str
    start: float
    end: float


def hear_words(model: Any, clip: Clip, language: str = "en") -> list[HeardWord]:
    """The words Whisper hears in a clip, each with its times (seconds from the clip's start)."""
    audio = resample(clip, WHISPER_RATE).samples.astype(np.float32)
    segments, _ = model.transcribe(
        audio, language=language, beam_size=1, condition_on_previous_text=False, word_timestamps=True
    )
    return [
        HeardWord(w.word.strip(), float(w.start), float(w.end))
        for segment in segments
        for w in segment.words or ()
        if w.word.strip()
    ]


def _key(word: str) -> str:
    return normalize_words(word).replace(" ", "")


def align_words(text: str, heard: list[HeardWord], start: float, end: float) -> list[TimedWord]:
    """Time every word of ``text`` within ``[start, end]``, using the heard words that match it.

    ``heard`` times are relative to ``start`` (the clip Whisper heard begins there).
    """
    words = _WORD.findall(text)
    if not words:
        return []
    matcher = SequenceMatcher(None, [_key(w) for w in words], [_key(h.word) for h in heard], autojunk=False)
    times: list[tuple[float, float] | None] = [None] * len(words)
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            h = heard[block.b + k]
            times[block.a + k] = (start + h.start, start + h.end)
    return _fill_gaps(words, times, start, end)


def _fill_gaps(
    words: list[str], times: list[tuple[float, float] | None], start: float, end: float
) -> list[TimedWord]:
    """Clamp the anchored times into order and spread the unanchored words over the gaps between them."""
    timed: list[TimedWord] = []
    cursor = start
    index = 0
    while index < len(words):
        if (anchor := times[index]) is not None:
            word_start = min(max(anchor[0], cursor), end)
            word_end = min(max(anchor[1], word_start), end)
            timed.append(TimedWord(words[index], round(word_start, 3), round(word_end, 3)))
            cursor, index = word_end, index + 1
            continue
        gap_end = index  # a run of words Whisper did not hear alike: until the next anchor
        while gap_end < len(words) and times[gap_end] is None:
            gap_end += 1
        nxt = times[gap_end] if gap_end < len(words) else None
        limit = min(max(nxt[0], cursor), end) if nxt is not None else end
        timed.extend(_spread(words[index:gap_end], cursor, limit))
        cursor, index = limit, gap_end
    return _no_empty_words(timed)


def _spread(words: list[str], start: float, end: float) -> list[TimedWord]:
    """The words one after another over ``[start, end]``, each given time in proportion to its length."""
    weights = [len(_key(w)) or 1 for w in words]
    span, total, position = end - start, sum(weights), start
    spread = []
    for word, weight in zip(words, weights, strict=True):
        after = position + span * weight / total
        spread.append(TimedWord(word, round(position, 3), round(after, 3)))
        position = after
    return spread


def _no_empty_words(timed: list[TimedWord]) -> list[TimedWord]:
    """Give each word without length a share of the word before it (the first word's: of the one after)."""
    out = list(timed)
    index = 0
    while index < len(out):
        if out[index].end > out[index].start:
            index += 1
            continue
        run_end = index
        while run_end < len(out) and out[run_end].end <= out[run_end].start:
            run_end += 1
        first = index - 1 if index > 0 else index
        last = run_end if first == index and run_end < len(out) else run_end - 1
        group = out[first : last + 1]
        if group[-1].end > group[0].start:
            out[first : last + 1] = _spread([w.word for w in group], group[0].start, group[-1].end)
        index = last + 1
    return out
