"""Text preparation for the speech engines: Plus's text options, and chunking for the models."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Latin-script sentences end at . ! ? … before a space; Chinese, Japanese, Hindi and Arabic ones at
# their own full stops, exclamation and question marks (and closing brackets after them), with or
# without a space (CJK text has none). Clauses: , ; : — – before a space, or the CJK comma-likes.
_SENTENCE_END = re.compile(
    r"(?<=[.!?…])[\"')\]”’]*\s+|(?<=[\u3002\uff01\uff1f।؟])[\u300d\u300f”’\uff09)]*\s*"
)
_CLAUSE_BREAK = re.compile(r"(?<=[,;:—–])\s+|(?<=[\uff0c\u3001\uff1b\uff1a])\s*")
_DOTTED_LETTERS = re.compile(r"\b(?:[A-Za-z]\.){2,}")  # J.R.R. / U.S.A. (two or more letter-dot pairs)
_BRACKET_REFERENCE = re.compile(r"\s*\[\d+(?:[,–-]\s*\d+)*\]")  # "text [12]" / "[3, 4]" citations
_GLUED_REFERENCE = re.compile(r"(?<=[A-Za-z][.!?,;:\"'”’)\]])\d+(?=\s|$)")  # "left.188 then"
SHORT_SENTENCE_CHARS = 20


@dataclass(frozen=True)
class TextOptions:
    """Plus's text handling switches (defaults as in Plus)."""

    to_lowercase: bool = True
    normalize_spacing: bool = True
    fix_dot_letters: bool = True
    remove_reference_numbers: bool = True
    sound_words: str = ""  # "word" removes it; "word=>other" replaces; separated by commas or new lines
    enable_batching: bool = False  # pack sentences into chunks up to the chunk size
    smart_batch_short_sentences: bool = True  # without batching: join very short sentences to a neighbour


def parse_sound_words(field: str) -> list[tuple[str, str]]:
    """``"sss, ahh=>um\\nhmm"`` -> ``[("sss", ""), ("ahh", "um"), ("hmm", "")]``."""
    pairs = []
    for entry in re.split(r"[,\n]", field):
        word, _, replacement = entry.partition("=>")
        if word.strip():
            pairs.append((word.strip(), replacement.strip()))
    return pairs


def prepare_text(text: str, options: TextOptions) -> str:
    """Apply the switches in Plus's order: sound words, lower case, spacing, dotted letters, references."""
    for word, replacement in parse_sound_words(options.sound_words):
        # Whole words only, case-insensitive (Plus matched inside words: removing "ss" broke "class").
        text = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", replacement, text, flags=re.IGNORECASE)
    if options.to_lowercase:
        text = text.lower()
    if options.fix_dot_letters:
        text = _DOTTED_LETTERS.sub(lambda m: " ".join(m.group(0).rstrip(".").split(".")) + " ", text)
    if options.remove_reference_numbers:
        text = _GLUED_REFERENCE.sub("", _BRACKET_REFERENCE.sub("", text))
    if options.normalize_spacing or options.sound_words:
        text = re.sub(r"\s+([,.!?;:])", r"\1", " ".join(text.split()))
    return text.strip()


def chunk_text(text: str, max_chars: int, options: TextOptions | None = None) -> list[str]:
    """Split text for a model: sentences (long ones cut at clauses, then words) of at most ``max_chars``.

    With ``enable_batching`` sentences are packed together up to ``max_chars``; otherwise each
    sentence is its own chunk, and with ``smart_batch_short_sentences`` a sentence under 20
    characters joins its neighbour. Nothing is dropped.
    """
    options = options or TextOptions(enable_batching=True)
    text = " ".join(text.split())
    if not text:
        return []
    pieces = [part for sentence in _SENTENCE_END.split(text) for part in _fit(sentence.strip(), max_chars)]
    pieces = [p for p in pieces if p]
    if options.enable_batching:
        return _pack(pieces, max_chars)
    if options.smart_batch_short_sentences:
        return _merge_short(pieces, max_chars)
    return pieces


def split_text(text: str, max_chars: int) -> list[str]:
    """Sentences packed into chunks of at most ``max_chars`` (see :func:`chunk_text`).

    Joining the chunks with spaces gives back the text with its whitespace normalised
    (a word longer than a chunk is cut).
    """
    return chunk_text(text, max_chars, TextOptions(enable_batching=True))


def _pack(pieces: list[str], max_chars: int) -> list[str]:
    chunks: list[str] = []
    for piece in pieces:
        if chunks and len(chunks[-1]) + 1 + len(piece) <= max_chars:
            chunks[-1] = f"{chunks[-1]} {piece}"
        else:
            chunks.append(piece)
    return chunks


def _merge_short(pieces: list[str], max_chars: int) -> list[str]:
    chunks: list[str] = []
    carry = ""
    for piece in pieces:
        piece = f"{carry} {piece}" if carry else piece
        carry = ""
        if len(piece) < SHORT_SENTENCE_CHARS:
            carry = piece  # joins the next sentence
            continue
        chunks.append(piece)
    if carry:  # a short last sentence joins the previous one, if it fits
        if chunks and len(chunks[-1]) + 1 + len(carry) <= max_chars:
            chunks[-1] = f"{chunks[-1]} {carry}"
        else:
            chunks.append(carry)
    return [c for piece in chunks for c in (_fit(piece, max_chars) if len(piece) > max_chars else [piece])]


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
