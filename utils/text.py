"""Text preparation for the speech engines."""

from __future__ import annotations

import re

_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"')\]]*\s+")
_CLAUSE_BREAK = re.compile(r"(?<=[,;:—–])\s+")


def split_text(text: str, max_chars: int) -> list[str]:
    """Split text into chunks of at most ``max_chars``, at sentence, then clause, then word boundaries.

    Short sentences are packed together and nothing is dropped: joining the chunks with spaces
    gives back the text with its whitespace normalised (a word longer than a chunk is cut).
    """
    text = " ".join(text.split())
    if not text:
        return []
    pieces: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        pieces.extend(_fit(sentence.strip(), max_chars))
    chunks: list[str] = []
    for piece in pieces:
        if chunks and len(chunks[-1]) + 1 + len(piece) <= max_chars:
            chunks[-1] = f"{chunks[-1]} {piece}"
        elif piece:
            chunks.append(piece)
    return chunks


def _fit(sentence: str, max_chars: int) -> list[str]:
    """Break one over-long sentence at clause breaks, then at spaces, then hard."""
    if len(sentence) <= max_chars:
        return [sentence]
    out: list[str] = []
    for clause in _CLAUSE_BREAK.split(sentence):
        if len(clause) <= max_chars:
            out.append(clause)
            continue
        line = ""
        for word in clause.split(" "):
            while len(word) > max_chars:  # a single "word" longer than a chunk
                if line:
                    out.append(line)
                    line = ""
                out.append(word[:max_chars])
                word = word[max_chars:]
            if line and len(line) + 1 + len(word) > max_chars:
                out.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        if line:
            out.append(line)
    return out
