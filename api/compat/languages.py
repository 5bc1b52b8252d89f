"""Language codes with their English names, for clients that list languages."""

from __future__ import annotations

from core_engine import CoreEngine

NAMES = {
    "ar": "Arabic", "da": "Danish", "de": "German", "el": "Greek", "en": "English", "es": "Spanish",
    "fi": "Finnish", "fr": "French", "he": "Hebrew", "hi": "Hindi", "it": "Italian", "ja": "Japanese",
    "ko": "Korean", "ms": "Malay", "nl": "Dutch", "no": "Norwegian", "pl": "Polish", "pt": "Portuguese",
    "ru": "Russian", "sv": "Swedish", "sw": "Swahili", "tr": "Turkish", "zh": "Chinese",
}  # fmt: skip


def language_items(core: CoreEngine) -> list[dict[str, str]]:
    """``[{code, name}]`` for what the serving engine speaks (its default first); none serving: English."""
    serving, _ = core.serving()
    codes: tuple[str, ...] = ("en",)
    if serving is not None:
        codes = core.speech.languages(serving) or codes
    return [{"code": code, "name": NAMES.get(code.split("-")[0], code)} for code in codes]
