"""Kokoro's blend syntax, with voice names that hold brackets."""

from __future__ import annotations

import time

import pytest

from core.voice_blend import parse_blend
from exceptions import InvalidRequestError

KNOWN = {"take(2)", "my(voice).wav", "bob"}


def parts(voice: str) -> list[tuple[str, float]] | None:
    parsed = parse_blend(voice, lambda name: name in KNOWN)
    return None if parsed is None else [(name, round(weight, 3)) for name, weight in parsed]


@pytest.mark.parametrize(
    ("voice", "expected"),
    [
        ("bob", None),
        ("anna(2)+bob(1)", [("anna", 0.667), ("bob", 0.333)]),
        ("my(voice).wav+bob", [("my(voice).wav", 0.5), ("bob", 0.5)]),
        ("take(2)+bob", [("take(2)", 0.5), ("bob", 0.5)]),  # a voice's whole name wins over a weight
        ("take(2)(3)+bob", [("take(2)", 0.75), ("bob", 0.25)]),
        ("take(3)+bob", [("take", 0.75), ("bob", 0.25)]),  # no voice "take(3)": a weight
        (" anna ( 1.5 ) + bob ", [("anna", 0.6), ("bob", 0.4)]),
    ],
)
def test_blends_parse(voice: str, expected: list[tuple[str, float]] | None) -> None:
    assert parts(voice) == expected


@pytest.mark.parametrize("voice", ["anna(x)+bob", "(2)+bob", "anna+", "anna(0)+bob", "+".join("abcdefghi")])
def test_bad_blends_name_voice(voice: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_blend(voice, lambda name: name in KNOWN)
    assert caught.value.param == "voice"


def test_a_long_voice_string_is_parsed_at_once() -> None:
    """The text is the client's: a megabyte of spaces must not make the parser backtrack for minutes."""
    started = time.perf_counter()
    with pytest.raises(InvalidRequestError):
        parse_blend("a" + " " * 1_000_000 + "x(y)+bob")
    assert time.perf_counter() - started < 1.0
