"""One JSON error shape for every REST error, and the handlers that produce it.

``{"error": {"code": "...", "message": "...", "field": null}}`` for every 4xx the API returns —
the use cases' :class:`~chatterbox.service.errors.ServiceError`\\ s, FastAPI's own request
validation errors (422, ``field`` = the dotted location of the first problem), and Starlette's
404/405 — and for the 500 of an unexpected exception (logged, never echoed). Each error is counted
in ``chatterbox_errors{code=...}``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from chatterbox.service.errors import (
    AuthenticationFailed,
    BadRequest,
    ConflictError,
    Forbidden,
    InvalidInput,
    NotFoundError,
    RateLimited,
    ServiceError,
)

__all__ = [
    "ApiError",
    "ErrorBody",
    "ErrorDetail",
    "error_responses",
    "install_error_handlers",
]

log = logging.getLogger("chatterbox.api")


class ErrorDetail(BaseModel):
    """What went wrong."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(
        description="Stable machine-readable code, e.g. `unauthenticated`, `invalid_credentials`, "
        "`not_member`, `invite_required`, `room_not_found`, `username_taken`, `validation_error`, "
        "`rate_limited`.",
        examples=["room_not_found"],
    )
    message: str = Field(description="Human explanation (English).", examples=["No such room."])
    field: str | None = Field(
        description="The request field at fault (dotted path for nested ones), when there is one.",
        examples=["password"],
    )


class ErrorBody(BaseModel):
    """The body of every error response."""

    model_config = ConfigDict(extra="forbid")

    error: ErrorDetail


class ApiError(Exception):
    """An HTTP error raised by the API layer itself (not by a use case)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = dict(headers or {})


_STATUS: Final[dict[type[ServiceError], int]] = {
    BadRequest: 400,
    AuthenticationFailed: 401,
    Forbidden: 403,
    NotFoundError: 404,
    ConflictError: 409,
    InvalidInput: 422,
    RateLimited: 429,
}

_DESCRIPTIONS: Final[dict[int, str]] = {
    400: "Bad request",
    401: "Not authenticated: no valid session cookie or bearer token",
    403: "Forbidden (the `code` says which rule refused it)",
    404: "Not found (or not visible to you)",
    405: "Method not allowed",
    409: "Conflict with the current state",
    422: "Invalid input (`field` names it)",
    429: "Too many attempts; see `Retry-After`",
}

_HTTP_CODES: Final[dict[int, str]] = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries documenting ``statuses`` with the :class:`ErrorBody` model."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        entry: dict[str, Any] = {"model": ErrorBody, "description": _DESCRIPTIONS[status]}
        if status == 429:
            entry["headers"] = {
                "Retry-After": {
                    "description": "Seconds until an attempt may succeed.",
                    "schema": {"type": "integer", "minimum": 1},
                }
            }
        if status == 401:
            entry["headers"] = {
                "WWW-Authenticate": {
                    "description": "`Bearer`: how to authenticate.",
                    "schema": {"type": "string"},
                }
            }
        out[status] = entry
    return out


def _body(code: str, message: str, field: str | None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "field": field}}


def _respond(
    request: Request,
    status: int,
    code: str,
    message: str,
    field: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    metrics = getattr(request.app.state, "metrics", None)
    if metrics is not None:
        metrics.errors.labels(code=code).inc()
    return JSONResponse(_body(code, message, field), status_code=status, headers=headers)


def _field_of(loc: Sequence[Any]) -> str | None:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    return ".".join(parts) or None


async def _service_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    status = next((s for cls, s in _STATUS.items() if isinstance(exc, cls)), 400)
    headers = {"Retry-After": str(exc.retry_after_s)} if isinstance(exc, RateLimited) else None
    if isinstance(exc, AuthenticationFailed):
        headers = {"WWW-Authenticate": "Bearer"}
    return _respond(request, status, exc.code, exc.message, exc.field, headers)


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return _respond(request, exc.status, exc.code, exc.message, exc.field, exc.headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    first = errors[0] if errors else {}
    field = _field_of(first.get("loc", ()))
    message = str(first.get("msg", "Invalid request."))
    if field:
        message = f"{field}: {message}"
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more)"
    return _respond(request, 422, "validation_error", message, field)


_HTTP_METHODS: Final = frozenset({"get", "put", "post", "delete", "patch", "head", "options"})


def _method_table(app: FastAPI) -> list[tuple[re.Pattern[str], frozenset[str]]]:
    table: list[tuple[re.Pattern[str], frozenset[str]]] | None = getattr(
        app.state, "allow_table", None
    )
    if table is None:
        table = []
        for template, operations in app.openapi().get("paths", {}).items():
            regex, _, _ = compile_path(template)
            methods = frozenset(m.upper() for m in operations if m in _HTTP_METHODS)
            table.append((regex, methods))
        app.state.allow_table = table
    return table


def _allowed_methods(request: Request) -> str | None:
    """Every documented method at this path (Starlette lists only the first matching route's)."""
    path = request.url.path
    methods: set[str] = set()
    for regex, route_methods in _method_table(request.app):
        if regex.match(path):
            methods.update(route_methods)
    return ", ".join(sorted(methods)) or None


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else "HTTP error"
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        allow = _allowed_methods(request)
        if allow:
            headers["Allow"] = allow
    return _respond(request, exc.status_code, code, message, None, headers)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _respond(request, 500, "internal_error", "Internal server error.")


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that turn every error into the one JSON shape."""
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
