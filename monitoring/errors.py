"""The most recent error answers, kept in memory for ``/api/v1/errors/summary`` and ``/errors/recent``."""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class ErrorRecord:
    """One error answer: what was asked, what went wrong, and the request id to quote."""

    timestamp: str
    request_id: str | None
    method: str
    path: str
    status: int
    type: str
    code: str | None
    param: str | None
    message: str

    @property
    def severity(self) -> str:
        """``server`` (5xx: something to fix here) or ``client`` (4xx: the request was refused)."""
        return "server" if self.status >= 500 else "client"


class ErrorLog:
    """A bounded, thread-safe list of recent errors with totals since start."""

    def __init__(self, max_errors: int = 1000) -> None:
        self._recent: deque[ErrorRecord] = deque(maxlen=max_errors)
        self._lock = threading.Lock()
        self._by_type: Counter[str] = Counter()
        self._by_severity: Counter[str] = Counter()
        self._by_operation: Counter[str] = Counter()
        self._by_code: Counter[str] = Counter()
        self.started = time.time()

    def record(
        self, *, method: str, path: str, status: int, error: dict[str, Any], request_id: str | None
    ) -> None:
        """Keep one error answer (``error``: our error object)."""
        entry = ErrorRecord(
            timestamp=datetime.now(UTC).isoformat(),
            request_id=request_id,
            method=method,
            path=path,
            status=status,
            type=str(error.get("type") or "error"),
            code=error.get("code"),
            param=error.get("param"),
            message=str(error.get("message") or ""),
        )
        with self._lock:
            self._recent.append(entry)
            self._by_type[entry.type] += 1
            self._by_severity[entry.severity] += 1
            self._by_operation[f"{method} {path}"] += 1
            self._by_code[entry.code or entry.type] += 1

    def recent(self, count: int) -> list[dict[str, Any]]:
        """The ``count`` newest errors, newest first."""
        with self._lock:
            items = list(self._recent)[-count:] if count > 0 else []
        return [asdict(item) | {"severity": item.severity} for item in reversed(items)]

    def summary(self) -> dict[str, Any]:
        """Totals since start by type, severity, operation and code (Plus's ``/errors/summary`` keys)."""
        with self._lock:
            total = sum(self._by_type.values())
            summary = {
                "total_errors": total,
                "by_category": dict(self._by_type),
                "by_severity": dict(self._by_severity),
                "by_operation": dict(self._by_operation),
                "by_code": dict(self._by_code),
                "most_frequent": [{"code": code, "count": n} for code, n in self._by_code.most_common(5)],
                "unresolved_count": self._by_severity.get("server", 0),
                "stored": len(self._recent),
                "since": datetime.fromtimestamp(self.started, UTC).isoformat(),
            }
        return summary | {"recent_errors": self.recent(5)}
