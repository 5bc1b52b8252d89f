"""Choosing among takes: the shortest match wins; rounds repeat until one matches; fallbacks."""

from __future__ import annotations

import asyncio

import numpy as np

from recognition import similarity
from recognition.takes import choose_take
from utils.audio import Clip

HEARD = {
    0: ("wrong words", 1.0),
    1: ("the right words", 2.0),
    2: ("the right words", 1.5),
    3: ("a much longer wrong transcript", 1.0),
}


def run(order: list[int], **kwargs: object):  # type: ignore[no-untyped-def]
    made: list[int] = []

    async def generate(index: int) -> Clip:
        made.append(index)
        _, seconds = HEARD[order[index]]
        return Clip(np.zeros(int(seconds * 100), dtype=np.float32), 100)

    async def check(clip: Clip) -> tuple[str, float]:
        words = HEARD[order[made[-1]]][0]
        return words, similarity(words, "The right words!")

    options = {"candidates": 2, "attempts": 2, "min_score": 0.9, "longest_on_fail": True} | kwargs
    return asyncio.run(choose_take(generate, check, **options)), made  # type: ignore[arg-type]


def test_the_shortest_matching_take_wins() -> None:
    choice, made = run([1, 2, 0, 0])
    assert choice.passed and choice.takes == 2 and made == [0, 1]
    assert choice.take.clip.duration == 1.5


def test_rounds_repeat_until_a_take_matches() -> None:
    choice, made = run([0, 0, 3, 1])
    assert made == [0, 1, 2, 3]  # a second round of two takes
    assert choice.passed and choice.takes == 4 and choice.take.transcript == "the right words"


def test_when_nothing_matches_the_longest_transcript_or_the_best_score_is_kept() -> None:
    longest, _ = run([0, 3, 0, 3], attempts=1)
    assert not longest.passed and longest.take.transcript == "a much longer wrong transcript"
    best, _ = run([0, 3], attempts=1, longest_on_fail=False)
    assert best.take.score == max(
        similarity(w, "The right words!") for w in ("wrong words", "a much longer wrong transcript")
    )


def test_similarity_ignores_case_punctuation_and_dashes() -> None:
    assert similarity("Hello, world — it's me!", "hello world it's me") == 1.0
    assert similarity("“Quoted” text", "quoted text") == 1.0
    assert similarity("something else", "hello world") < 0.5
    long_text = "The first sentence talks about the morning sun, and the second one about a river. " * 4
    assert similarity(long_text.replace("river", "rivers"), long_text) > 0.95  # long chunks score fairly too
