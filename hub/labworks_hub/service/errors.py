"""The one error mapper of the platform API: errors are JSON {"error": code, "message": text}."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from .access import Refused
from .validation import error_message

log = logging.getLogger("labworks.service")

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
    503: "unavailable",
}


class ErrorBody(BaseModel):
    """What every refused request answers."""

    error: str = Field(description="A stable code, e.g. `not_found`, `forbidden`, `invalid`.")
    message: str = Field(description="What went wrong and what to do, for a person.")


# The refusals any route may answer (documented on every operation of the OpenAPI schema).
ERROR_RESPONSES: dict[int | str, dict] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in {
        400: "The request is well-formed but cannot be done as asked (the message says why).",
        401: "No valid hub token (header `Authorization: token <token>`) or login cookie.",
        403: "The token is valid but lacks the scope, or the thing is not yours to change; or"
        " a write with the login cookie lacks the `X-XSRFToken` header or came from another"
        " site.",
        404: "No such thing that you can see (another user's private things look absent).",
        409: "It conflicts with the current state (e.g. it exists already).",
        413: "The body is over the route's size limit (the message names it).",
        415: "A route that takes JSON was sent another `Content-Type`.",
        422: "A field is missing or has the wrong type or range.",
        503: "A part the platform needs (the hub, the store, the tracking server) is down.",
    }.items()
}


class APIError(Exception):
    """Raise from domain code to answer with a given status, code and message."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or _CODES.get(status, "error")
        self.message = message


def error_response(status: int, message: str, code: str | None = None, headers=None):
    return JSONResponse(
        {"error": code or _CODES.get(status, "error"), "message": message},
        status_code=status,
        headers=headers,
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(APIError)
    async def _api_error(_request: Request, exc: APIError):
        return error_response(exc.status, exc.message, exc.code)

    @app.exception_handler(Refused)
    async def _refused(_request: Request, exc: Refused):
        return error_response(exc.status, exc.message, exc.code)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            headers = {**(headers or {}), "Allow": ", ".join(_allowed_methods(request))}
        return error_response(exc.status_code, message, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError):
        return error_response(422, error_message(exc.errors()))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("Unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal error; the platform log has the details", "internal")


def _allowed_methods(request: Request) -> list[str]:
    """Every method of every route at the request's path (Starlette's own 405 names only
    the first route's, and FastAPI makes one route per method)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches({**request.scope, "method": "GET"})
        if match != Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return sorted(methods)
