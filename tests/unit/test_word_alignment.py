"""Aligning the text's own words with what Whisper heard: order kept, times inside the span."""

from __future__ import annotations

from recognition.words import HeardWord, align_words


def _heard(*items: tuple[str, float, float]) -> list[HeardWord]:
    return [HeardWord(*item) for item in items]


def test_words_heard_alike_take_whispers_times_shifted_to_the_piece() -> None:
    heard = _heard(("Hello", 0.1, 0.4), ("there.", 0.5, 0.9))
    timed = align_words("Hello there.", heard, 2.0, 3.0)
    assert [(w.word, w.start, w.end) for w in timed] == [("Hello", 2.1, 2.4), ("there.", 2.5, 2.9)]


def test_a_misheard_word_is_still_listed_between_its_neighbours() -> None:
    # Whisper heard "the" where the text says "a": the text's word is kept, timed in the gap.
    heard = _heard(("This", 0.0, 0.2), ("is", 0.2, 0.3), ("the", 0.3, 0.5), ("test.", 0.6, 1.0))
    timed = align_words("This is a test.", heard, 0.0, 1.2)
    assert [w.word for w in timed] == ["This", "is", "a", "test."]
    assert timed[2].start == 0.3 and timed[2].end == 0.6


def test_nothing_heard_spreads_the_words_by_length_over_the_span() -> None:
    timed = align_words("a bbb", [], 1.0, 2.0)
    assert [(w.word, w.start, w.end) for w in timed] == [("a", 1.0, 1.25), ("bbb", 1.25, 2.0)]


def test_times_never_go_backwards_nor_past_the_span() -> None:
    # Whisper's times can overlap or run past the clip; the answer is clamped into order.
    heard = _heard(("one", 0.5, 0.9), ("two", 0.4, 0.6), ("three", 1.8, 2.5))
    timed = align_words("one two three", heard, 0.0, 2.0)
    starts_ends = [t for w in timed for t in (w.start, w.end)]
    assert starts_ends == sorted(starts_ends)
    assert timed[-1].end == 2.0 and timed[2].start == 1.8
    # "two", heard inside "one", shares one's time rather than lasting nothing
    assert timed[0].start == 0.5 and 0.5 < timed[1].start < timed[1].end == 0.9


def test_every_word_lasts_a_while_even_where_whisper_gave_none() -> None:
    # Whisper gave "a" no length, and left no gap between "is" and "test." for the unheard "b".
    heard = _heard(("a", 0.0, 0.0), ("This", 0.0, 0.3), ("is", 0.3, 0.5), ("test.", 0.5, 0.9))
    timed = align_words("a This is b test.", heard, 0.0, 1.0)
    assert [w.word for w in timed] == ["a", "This", "is", "b", "test."]
    assert all(w.end > w.start for w in timed), timed
    starts_ends = [t for w in timed for t in (w.start, w.end)]
    assert starts_ends == sorted(starts_ends) and timed[0].start == 0.0 and timed[-1].end == 0.9


def test_extra_words_heard_are_ignored() -> None:
    heard = _heard(("um", 0.0, 0.1), ("yes", 0.2, 0.5))
    assert [w.word for w in align_words("Yes!", heard, 0.0, 1.0)] == ["Yes!"]
    assert align_words("Yes!", heard, 0.0, 1.0)[0].start == 0.2
