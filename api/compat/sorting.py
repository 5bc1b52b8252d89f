"""Plus's listing vocabulary: its ``sort_by`` values and ``limit``, as aliases of ours."""

from __future__ import annotations

from exceptions import InvalidRequestError

# Plus's documented sort keys -> ours.
PLUS_SORT_KEYS = {"filename": "name", "created_date": "date", "file_size": "size", "usage_count": "usage"}


def sort_key(value: str, allowed: tuple[str, ...]) -> str:
    """Our sort key for ``value`` (ours or Plus's); anything else is a 400 naming ``sort_by``."""
    key = PLUS_SORT_KEYS.get(value, value)
    if key not in allowed:
        names = ", ".join([*allowed, *(plus for plus, ours in PLUS_SORT_KEYS.items() if ours in allowed)])
        raise InvalidRequestError(f"'sort_by' must be one of: {names} (got {value!r})", param="sort_by")
    return key


def page_size(page_size: int | None, limit: int | None, default: int = 50) -> int:
    """``page_size``, or Plus's ``limit`` (its alias); both and different: a 400 naming ``limit``."""
    if page_size is not None and limit is not None and page_size != limit:
        raise InvalidRequestError("'limit' is an alias of 'page_size' and they disagree", param="limit")
    return page_size or limit or default
