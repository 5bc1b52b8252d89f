"""Logging set-up: JSON lines carrying the request id of the request being served."""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)


_base_factory = logging.getLogRecordFactory()


def _record_with_request_id(*args: object, **kwargs: object) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)
    request_id = request_id_var.get()
    # Only inside a request: a record that has the attribute already cannot take it from ``extra``
    # (KeyError "Attempt to overwrite"), and Ray Serve logs each request with extra={"request_id": ...}
    # after it ends: every request through the Serve ingress failed in Serve's books (docs/scaling.md).
    if request_id is not None:
        record.request_id = request_id
    return record


def install_request_id() -> None:
    """Give every log record made while a request is served its id (formatters show None outside)."""
    logging.setLogRecordFactory(_record_with_request_id)


class _DropColour(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.__dict__.pop("color_message", None)  # uvicorn's ANSI-coloured copy of the message
        return True


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    """Send every log record to stderr, as one JSON object per line or as plain text."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(
            logging.Formatter(
                "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
                defaults={"request_id": None},
            )
        )
    handler.addFilter(_DropColour())
    install_request_id()
    logging.captureWarnings(True)  # library warnings become JSON log lines too
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # uvicorn's own access log would duplicate ours (monitoring/ writes one line per request).
    logging.getLogger("uvicorn.access").disabled = True
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
