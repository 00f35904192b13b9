"""The one seam between the extension and the platform service: HTTP with the user's token."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

UNREACHABLE = 502


class PlatformError(Exception):
    """The platform service refused a call or could not be reached.

    Attributes:
        status: HTTP status to report (the platform's own for its errors, 502 when unreachable).
        code: short machine-readable error code (the platform's ``error`` field when it sent one).
        message: human-readable text; never contains the API token.
    """

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class PlatformClient:
    """Forwards requests to the platform service with ``Authorization: token <token>``.

    One instance per server, shared by all handlers; it keeps no per-request state.
    """

    def __init__(self, api_url: str, token: str, timeout: float = 10.0) -> None:
        self.api_url = api_url.rstrip("/")
        self._token = token
        self.timeout = timeout

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` under the API root."""
        return f"{self.api_url}/{path.lstrip('/')}"

    async def get(self, path: str) -> Any:
        """GET ``path`` and return the parsed JSON body.

        Raises:
            PlatformError: not configured, unreachable, an error status, or a body that is not JSON.
        """
        return await self._fetch("GET", path)

    async def post(self, path: str, body: Any) -> Any:
        """POST ``body`` as JSON to ``path`` and return the parsed JSON answer.

        Raises:
            PlatformError: as for ``get``.
        """
        return await self._fetch("POST", path, json.dumps(body).encode())

    async def put(self, path: str, body: Any) -> Any:
        """PUT ``body`` as JSON to ``path`` and return the parsed JSON answer.

        Raises:
            PlatformError: as for ``get``.
        """
        return await self._fetch("PUT", path, json.dumps(body).encode())

    async def patch(self, path: str, body: Any) -> Any:
        """PATCH ``path`` with ``body`` as JSON and return the parsed JSON answer.

        Raises:
            PlatformError: as for ``get``.
        """
        return await self._fetch("PATCH", path, json.dumps(body).encode())

    async def delete(self, path: str) -> Any:
        """DELETE ``path``; returns the parsed JSON answer, or None for an empty one (204).

        Raises:
            PlatformError: as for ``get``.
        """
        return await self._fetch("DELETE", path)

    async def _fetch(self, method: str, path: str, body: bytes | None = None) -> Any:
        if not self.api_url:
            raise PlatformError(
                UNREACHABLE, "platform_not_configured", "platform service URL is not configured"
            )
        url = self.url(path)
        headers = {"Authorization": f"token {self._token}", "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        request = HTTPRequest(
            url,
            method=method,
            headers=headers,
            body=body,
            connect_timeout=self.timeout,
            request_timeout=self.timeout,
            follow_redirects=False,
        )
        try:
            response = await AsyncHTTPClient().fetch(request, raise_error=False)
        except OSError as e:  # refused, unresolvable host, TLS failure, ...
            raise _unreachable(url, e) from None
        if response.code == 599:  # tornado's code for "no HTTP response at all"
            raise _unreachable(url, response.error)
        if response.code == 204:
            return None
        answer = _parse_json(response.body)
        if response.code >= 400:
            raise _from_error_response(response.code, answer)
        if answer is _INVALID:
            raise PlatformError(
                UNREACHABLE, "platform_bad_response", f"platform service at {url} sent invalid JSON"
            )
        return answer


_INVALID = object()


def _parse_json(raw: bytes | None) -> Any:
    try:
        return json.loads(raw or b"")
    except ValueError:
        return _INVALID


def _unreachable(url: str, error: BaseException | None) -> PlatformError:
    if isinstance(error, HTTPClientError):
        reason = error.message or str(error)
    else:
        reason = str(error) or type(error).__name__
    return PlatformError(
        UNREACHABLE, "platform_unreachable", f"platform service unreachable at {url}: {reason}"
    )


def _from_error_response(status: int, body: Any) -> PlatformError:
    if isinstance(body, dict):
        message = body.get("message") or body.get("detail")  # ours, or FastAPI's default
        if isinstance(message, str) and message:
            code = body.get("error")
            code = code if isinstance(code, str) else "platform_error"
            return PlatformError(status, code, message)
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "error"
    return PlatformError(status, "platform_error", f"platform service answered {status} {phrase}")
