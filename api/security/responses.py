"""The error answers of the security middlewares, in the project's one error shape."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse

from api.errors import error_response


def unauthorized(message: str) -> JSONResponse:
    """401: no key, or a wrong one."""
    return error_response(
        401,
        message,
        type_="authentication_error",
        code="invalid_api_key",
        headers={"WWW-Authenticate": 'Bearer realm="chatterbox"'},
    )


def forbidden(message: str, code: str) -> JSONResponse:
    """403: a request refused for where it comes from."""
    return error_response(403, message, type_="permission_error", code=code)


class BodyError(HTTPException):
    """Raised while a body is read (too large, too slow); FastAPI lets it through to the error mapping."""

    def __init__(self, status_code: int, message: str, code: str) -> None:
        super().__init__(status_code, message, headers={"Connection": "close"})
        self.code = code

    def response(self) -> JSONResponse:
        return error_response(
            self.status_code,
            str(self.detail),
            type_="invalid_request_error",
            code=self.code,
            headers=self.headers,
        )
