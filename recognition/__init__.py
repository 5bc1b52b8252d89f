"""Speech recognition, to check that generated speech says the words it was given."""

from recognition.scoring import normalize_words, similarity
from recognition.whisper import WhisperPool

__all__ = ["WhisperPool", "normalize_words", "similarity"]
