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


from utils.text import TextOptions, chunk_text, parse_sound_words, prepare_text  # noqa: E402

NONE = TextOptions(
    to_lowercase=False, normalize_spacing=False, fix_dot_letters=False, remove_reference_numbers=False
)


def test_each_switch_does_what_its_name_says() -> None:
    assert prepare_text("Hello World", TextOptions()) == "hello world"
    assert (
        prepare_text("a  b\n\nc\td", NONE.__class__(**{**NONE.__dict__, "normalize_spacing": True}))
        == "a b c d"
    )
    dots = TextOptions(to_lowercase=False)
    assert prepare_text("J.R.R. Tolkien wrote it.", dots) == "J R R Tolkien wrote it."
    assert prepare_text("Plan b. Then x.y", dots) == "Plan b. Then x.y"  # one letter keeps its full stop
    assert prepare_text("He left.188 Then see [12] and [3, 4].", dots) == "He left. Then see and."
    assert prepare_text("Version 2.5 is out.", dots) == "Version 2.5 is out."  # decimals survive


def test_sound_words_remove_and_replace_whole_words_only() -> None:
    assert parse_sound_words("sss, ahh=>um\nhmm") == [("sss", ""), ("ahh", "um"), ("hmm", "")]
    options = TextOptions(to_lowercase=False, sound_words="ss, Ahh=>um")
    assert prepare_text("The class hissed ss loudly. ahh, 'ahh' then.", options) == (
        "The class hissed loudly. um, 'um' then."
    )


def test_without_batching_each_sentence_is_a_chunk_and_short_ones_join_a_neighbour() -> None:
    text = "No. This is the first real sentence. Yes! And this is the second real sentence. Ok."
    options = TextOptions(enable_batching=False, smart_batch_short_sentences=True)
    assert chunk_text(text, 300, options) == [
        "No. This is the first real sentence.",
        "Yes! And this is the second real sentence. Ok.",
    ]
    plain = TextOptions(enable_batching=False, smart_batch_short_sentences=False)
    assert len(chunk_text(text, 300, plain)) == 5  # nothing is dropped, not even "No."
    assert chunk_text(text, 300, TextOptions(enable_batching=True)) == [text]


def test_chinese_and_japanese_split_at_their_own_marks_without_spaces() -> None:
    text = "今天天气很好。我们去公园吧！你觉得怎么样？" * 4  # noqa: RUF001
    chunks = chunk_text(text, 30)
    assert all(len(c) <= 30 for c in chunks) and "".join(c.replace(" ", "") for c in chunks) == text
    assert all(c.endswith(("。", "！", "？")) for c in chunks)  # noqa: RUF001 - never cut inside a sentence
    long_clause = "東京は日本の首都で、人口がとても多く、電車がたくさん走っています。"
    assert chunk_text(long_clause, 14) == [
        "東京は日本の首都で、",
        "人口がとても多く、",
        "電車がたくさん走っています。",
    ]
    assert chunk_text("यह पहला वाक्य है। यह दूसरा है।", 20) == ["यह पहला वाक्य है।", "यह दूसरा है।"]
