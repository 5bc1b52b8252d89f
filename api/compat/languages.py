"""Language codes with their English names, for clients that list languages."""

from __future__ import annotations

from core.languages import LANGUAGE_NAMES
from core_engine import CoreEngine


def language_items(core: CoreEngine) -> list[dict[str, str]]:
    """``[{code, name}]`` for what the serving engine speaks (its default first); none serving: English."""
    serving, _ = core.serving()
    codes: tuple[str, ...] = ("en",)
    if serving is not None:
        codes = core.speech.languages(serving) or codes
    return [{"code": code, "name": LANGUAGE_NAMES.get(code.split("-")[0], code)} for code in codes]
