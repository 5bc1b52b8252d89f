"""How close a transcript is to the text that was meant."""

from __future__ import annotations

import re
from difflib import SequenceMatcher


def normalize_words(text: str) -> str:
    """Lower case, dashes to spaces, punctuation (curly quotes too) removed, whitespace collapsed."""
    text = re.sub(r"[-–—]", " ", text.lower())
    text = re.sub(r"[^\w\s']|(?<!\w)'|'(?!\w)", "", text)
    return " ".join(text.split())


def similarity(transcript: str, text: str) -> float:
    """1.0 when the transcript says exactly the text (after normalising both), down to 0.0."""
    # autojunk off: past 200 characters difflib would ignore common letters and score ~0.2
    return SequenceMatcher(None, normalize_words(transcript), normalize_words(text), autojunk=False).ratio()
