"""Splitting long text into model-sized chunks."""

from __future__ import annotations

from utils.text import split_text


def test_short_text_is_one_chunk() -> None:
    assert split_text("  Hello   there.  ", 300) == ["Hello there."]
    assert split_text("   ", 300) == []


def test_sentences_are_packed_up_to_the_limit_and_nothing_is_lost() -> None:
    text = " ".join(f"Sentence number {i} is here." for i in range(60))
    chunks = split_text(text, 100)
    assert all(len(chunk) <= 100 for chunk in chunks)
    assert " ".join(chunks) == text
    assert all(chunk.endswith(".") for chunk in chunks)  # cut at sentence ends


def test_a_long_sentence_is_cut_at_clauses_then_words() -> None:
    text = "one two three, " * 30 + "and the end"
    chunks = split_text(text, 50)
    assert all(len(chunk) <= 50 for chunk in chunks)
    assert " ".join(chunks) == " ".join(text.split())


def test_a_word_longer_than_a_chunk_is_cut_hard() -> None:
    chunks = split_text("a" * 120, 50)
    assert [len(c) for c in chunks] == [50, 50, 20]
