"""A replica's answer as plain data: errors cross the process boundary by name, not by pickle."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import exceptions
from exceptions import ChatterboxError, GenerationError, ServerBusyError


@dataclass(frozen=True)
class Outcome:
    """A value, or the project error a replica raised (class name, message, param, code, retry-after)."""

    value: Any = None
    error: tuple[str, str, str | None, str | None, int | None] | None = None

    @classmethod
    def failed(cls, exc: ChatterboxError) -> Outcome:
        retry = exc.retry_after if isinstance(exc, ServerBusyError) else None
        return cls(error=(type(exc).__name__, exc.message, exc.param, exc.code, retry))

    def unwrap(self) -> Any:
        """The value, or the replica's error raised here as the same class."""
        if self.error is None:
            return self.value
        kind, message, param, code, retry = self.error
        if retry is not None:
            raise ServerBusyError(message, retry_after=retry, param=param)
        cls = getattr(exceptions, kind, None)
        if not (isinstance(cls, type) and issubclass(cls, ChatterboxError)):
            raise GenerationError(message)
        raise cls(message, param=param, code=code)
