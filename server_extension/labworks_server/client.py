"""The one seam between the extension and the platform service: HTTP with the user's token."""

from __future__ import annotations

import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest, HTTPResponse

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
    """Forwards requests to a server of the platform with ``Authorization: token <token>``.

    One instance per server of the platform (the service's REST API; its MLflow tracking
    server, made with ``beside``), shared by all handlers; it keeps no per-request state.

    Args:
        api_url: the root every path is relative to; empty when not configured.
        token: the user's hub token; it never appears in an error.
        timeout: seconds to wait for a connection and for an answer.
        service: what the errors call the server (``"platform service"``).
        code: the prefix of the error codes (``"platform"``: ``platform_unreachable``, ...).
        headers: more headers sent with every request (``X-Labworks-Origin``).
    """

    def __init__(
        self,
        api_url: str,
        token: str,
        timeout: float = 10.0,
        *,
        service: str = "platform service",
        code: str = "platform",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self._token = token
        self.timeout = timeout
        self.service = service
        self.code = code
        self.headers = dict(headers or {})

    def with_headers(self, headers: Mapping[str, str]) -> PlatformClient:
        """This client, sending ``headers`` too with every request."""
        return PlatformClient(
            self.api_url, self._token, self.timeout, service=self.service, code=self.code,
            headers={**self.headers, **headers},
        )  # fmt: skip

    def beside(self, api_url: str, *, service: str, code: str) -> PlatformClient:
        """A client of another server of the platform at ``api_url``, with this token and
        timeout."""
        return PlatformClient(api_url, self._token, self.timeout, service=service, code=code)

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` under the API root."""
        return f"{self.api_url}/{path.lstrip('/')}"

    async def get(self, path: str) -> Any:
        """GET ``path`` and return the parsed JSON body.

        Raises:
            PlatformError: not configured, unreachable, an error status, or a body that is not JSON.
        """
        return await self._json("GET", path)

    async def post(self, path: str, body: Any) -> Any:
        """POST ``body`` as JSON to ``path`` and return the parsed JSON answer.

        Raises:
            PlatformError: as for ``get``.
        """
        return await self._json("POST", path, json.dumps(body).encode())

    async def put(self, path: str, body: Any) -> Any:
        """PUT ``body`` as JSON to ``path`` and return the parsed JSON answer.

        Raises:
            PlatformError: as for ``get``.
        """
        return await self._json("PUT", path, json.dumps(body).encode())

    async def patch(self, path: str, body: Any) -> Any:
        """PATCH ``path`` with ``body`` as JSON and return the parsed JSON answer.

        Raises:
            PlatformError: as for ``get``.
        """
        return await self._json("PATCH", path, json.dumps(body).encode())

    async def delete(self, path: str) -> Any:
        """DELETE ``path``; returns the parsed JSON answer, or None for an empty one (204).

        Raises:
            PlatformError: as for ``get``.
        """
        return await self._json("DELETE", path)

    async def forward(self, method: str, path: str, body: bytes | None = None) -> bytes:
        """Send ``method path`` with a JSON ``body`` as it is; return the answer's raw bytes
        (a large answer passes through without being parsed and written again).

        Raises:
            PlatformError: not configured, unreachable, or an error status or a redirect (never
                followed), with the server's code and message.
        """
        response = await self.fetch(method, path, body)
        if response.code >= 300:
            raise self.refusal(response.code, response.body)
        return response.body or b"{}"

    async def fetch(
        self, method: str, path: str, body: bytes | None = None, **options: Any
    ) -> HTTPResponse:
        """The one place a request leaves: ``method path`` with the token and a JSON ``body``;
        the response whatever its status. ``options`` go to tornado's ``HTTPRequest``
        (``streaming_callback``, ``request_timeout``, ...).

        Raises:
            PlatformError: not configured, or unreachable (no HTTP answer at all).
        """
        if not self.api_url:
            raise PlatformError(
                UNREACHABLE, "platform_not_configured", "platform service URL is not configured"
            )
        url = self.url(path)
        headers = {
            **self.headers,
            "Authorization": f"token {self._token}",
            "Accept": "application/json",
        }
        if body is not None:
            headers["Content-Type"] = "application/json"
        options.setdefault("request_timeout", self.timeout)
        request = HTTPRequest(
            url,
            method=method,
            headers=headers,
            body=body,
            connect_timeout=self.timeout,
            follow_redirects=False,
            **options,
        )
        try:
            response = await AsyncHTTPClient().fetch(request, raise_error=False)
        except (OSError, HTTPClientError) as e:  # refused, TLS failure, a timeout (599), ...
            raise self._unreachable(url, e) from None
        if response.code == 599:  # tornado's code for "no HTTP response at all"
            raise self._unreachable(url, response.error)
        return response

    def refusal(self, status: int, raw: bytes | None) -> PlatformError:
        """The server's error answer as a ``PlatformError``: its status, its code (``error``,
        or MLflow's ``error_code``) and its message; a generic message for a body without one."""
        body = _parse_json(raw)
        if isinstance(body, dict):
            message = body.get("message") or body.get("detail")  # ours, or FastAPI's default
            if isinstance(message, str) and message:
                code = body.get("error_code") or body.get("error")
                return PlatformError(
                    status, code if isinstance(code, str) else f"{self.code}_error", message
                )
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "error"
        return PlatformError(
            status, f"{self.code}_error", f"{self.service} answered {status} {phrase}"
        )

    async def _json(self, method: str, path: str, body: bytes | None = None) -> Any:
        response = await self.fetch(method, path, body)
        if response.code == 204:
            return None
        if response.code >= 400:
            raise self.refusal(response.code, response.body)
        answer = _parse_json(response.body)
        if answer is _INVALID:
            raise PlatformError(
                UNREACHABLE,
                f"{self.code}_bad_response",
                f"{self.service} at {self.url(path)} sent invalid JSON",
            )
        return answer

    def _unreachable(self, url: str, error: BaseException | None) -> PlatformError:
        if isinstance(error, HTTPClientError):
            reason = error.message or str(error)
        else:
            reason = str(error) or type(error).__name__
        return PlatformError(
            UNREACHABLE,
            f"{self.code}_unreachable",
            f"{self.service} unreachable at {url}: {reason}",
        )


_INVALID = object()


def _parse_json(raw: bytes | None) -> Any:
    try:
        return json.loads(raw or b"")
    except ValueError:
        return _INVALID
