"""One exception hierarchy for the whole server.

Nothing here knows about HTTP frameworks: each class carries the status code and the
OpenAI-style ``type``/``code`` that the HTTP layer maps it to, in one place (``api/errors.py``).
"""

from __future__ import annotations


class ChatterboxError(Exception):
    """Base of every error the server raises on purpose."""

    status_code = 500
    error_type = "server_error"
    default_code = "internal_error"

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code or self.default_code

    @property
    def headers(self) -> dict[str, str]:
        """HTTP headers the answer carries (``Retry-After`` for a full queue)."""
        return {}


class InvalidRequestError(ChatterboxError):
    """The request is malformed or names a value that is not allowed."""

    status_code = 400
    error_type = "invalid_request_error"
    default_code = "invalid_value"


class NotFoundError(ChatterboxError):
    """A named voice, file or model does not exist."""

    status_code = 404
    error_type = "not_found_error"
    default_code = "not_found"


class ConflictError(ChatterboxError):
    """The request would overwrite something that already exists."""

    status_code = 409
    error_type = "conflict_error"
    default_code = "conflict"


class EngineUnavailableError(ChatterboxError):
    """The engine asked for cannot run now (weights missing, failed to load, disabled)."""

    status_code = 503
    error_type = "engine_unavailable"
    default_code = "engine_unavailable"


class ServerBusyError(ChatterboxError):
    """The engine's queue is full; the client should try again after ``retry_after`` seconds."""

    status_code = 503
    error_type = "server_busy"
    default_code = "queue_full"

    def __init__(self, message: str, *, retry_after: int, param: str | None = None) -> None:
        super().__init__(message, param=param)
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class IndexUnavailableError(ChatterboxError):
    """The metadata index (a PostgreSQL server, ``index.url``) cannot be reached: listings wait for it."""

    status_code = 503
    error_type = "index_unavailable"
    default_code = "index_unavailable"
    retry_after = 5

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class GenerationError(ChatterboxError):
    """The model failed while generating."""

    status_code = 500
    error_type = "server_error"
    default_code = "generation_failed"


class RemoteError(ChatterboxError):
    """A remote speech server failed, timed out or sent something unusable (502: bad gateway)."""

    status_code = 502
    error_type = "server_error"
    default_code = "remote_failed"


class ConfigError(ChatterboxError):
    """The configuration is invalid; raised at start, before anything is served."""

    default_code = "invalid_config"


class PayloadTooLargeError(ChatterboxError):
    """An upload is larger than the configured limit."""

    status_code = 413
    error_type = "invalid_request_error"
    default_code = "file_too_large"
