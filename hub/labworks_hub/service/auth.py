"""Who is calling: hub API tokens (header or the OAuth cookie) checked with JupyterHub.

Authorization lives here and in the store's query layer, never in routers. Routers declare
`caller: Caller = Depends(current_caller)` or `Depends(require_scope("..."))`.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

import httpx
from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.security import APIKeyHeader
from jupyterhub.services.auth import HubOAuth
from tornado.web import HTTPError

from .errors import APIError
from .hubapi import token_digest
from .settings import ServiceSettings

log = logging.getLogger("labworks.service")
TOKEN_COOKIE = "labworks-token"  # noqa: S105 (a cookie name)
STATE_COOKIE = "labworks-oauth-state"
USER_CACHE_SECONDS = 30

# Labworks-level permissions a route may require. `require_scope` refuses any other name at
# import time, so a typo cannot silently open a route.
SCOPES = {
    "read:metrics": "read the Prometheus metrics (admins and services)",
}


@dataclass(frozen=True)
class Caller:
    name: str
    kind: str  # "user" or "service"
    admin: bool = False
    groups: tuple[str, ...] = ()
    hub_scopes: frozenset[str] = field(default_factory=frozenset)

    def has_scope(self, scope: str) -> bool:
        if scope == "read:metrics":
            return self.admin or self.kind == "service"
        return False


class HubIdentity:
    """Turns a hub token into a Caller, caching hub answers briefly."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self.hub = HubOAuth(
            api_token=settings.api_token,
            api_url=settings.hub_api_url,
            base_url=settings.prefix,
            hub_prefix=settings.base_url + "hub/",
            oauth_client_id=settings.client_id,
            oauth_redirect_uri=settings.oauth_callback_url,
            cache_max_age=USER_CACHE_SECONDS,
        )
        self._users: dict[str, tuple[float, dict]] = {}
        self._revoked: dict[str, float] = {}  # digests of tokens this process revoked -> when

    def revoked(self, digest: str) -> None:
        """A token this process just revoked (a job's): refused now, not when the hub's
        cached answer about it expires."""
        now = time.monotonic()
        self._revoked = {d: t for d, t in self._revoked.items() if now - t < USER_CACHE_SECONDS}
        self._revoked[digest] = now

    async def caller_for_token(self, token: str) -> Caller:
        if self._revoked and token_digest(token) in self._revoked:
            raise APIError(401, "invalid or expired token")
        try:
            model = await self.hub.user_for_token(token, sync=False)
        except HTTPError as e:  # HubAuth reports an unreachable or failing hub this way
            log.error("Cannot check a token with the hub: %s", e.log_message)
            raise APIError(503, "cannot reach JupyterHub to check the token; try again") from None
        if not model:
            raise APIError(401, "invalid or expired token")
        if not self.hub.check_scopes(self.hub.access_scopes, model):
            raise APIError(403, "this token may not use the labworks service")
        scopes = frozenset(model.get("scopes", ()))
        if model.get("kind") == "service":
            return Caller(name=model["name"], kind="service", hub_scopes=scopes)
        details = await self._user_details(model["name"])
        return Caller(
            name=model["name"],
            kind="user",
            admin=bool(details.get("admin")),
            groups=tuple(sorted(details.get("groups") or ())),
            hub_scopes=scopes,
        )

    async def _user_details(self, name: str) -> dict:
        cached = self._users.get(name)
        if cached and time.monotonic() - cached[0] < USER_CACHE_SECONDS:
            return cached[1]
        url = f"{self.settings.hub_api_url}/users/{quote(name, safe='')}"
        headers = {"Authorization": f"token {self.settings.api_token}"}
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                response = await client.get(url, headers=headers)
        except httpx.HTTPError as e:
            raise APIError(503, f"cannot reach JupyterHub for user details: {e}") from None
        if response.status_code != 200:
            log.warning("Hub answered %s for user %r", response.status_code, name)
            return {}
        details = response.json()
        self._users[name] = (time.monotonic(), details)
        return details


def token_from_request(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() in ("token", "bearer") and value.strip():
        return value.strip()
    return request.cookies.get(TOKEN_COOKIE)


# Declared for the OpenAPI schema (Swagger's "Authorize", clients, fuzzers); the check is below.
HUB_TOKEN = APIKeyHeader(
    name="Authorization",
    scheme_name="hubToken",
    description="`token <hub API token>` (or `Bearer <token>`); browsers use the login cookie.",
    auto_error=False,
)


async def current_caller(request: Request, _declared: str | None = Depends(HUB_TOKEN)) -> Caller:
    token = token_from_request(request)
    if not token:
        raise APIError(401, "authentication required: send 'Authorization: token <hub token>'")
    identity: HubIdentity = request.app.state.identity
    return await identity.caller_for_token(token)


def require_scope(scope: str):
    """A dependency that admits callers holding `scope` (one of SCOPES)."""
    if scope not in SCOPES:
        raise ValueError(f"unknown labworks scope {scope!r}")

    async def check(caller: Caller = Depends(current_caller)) -> Caller:
        if not caller.has_scope(scope):
            raise APIError(403, f"missing permission {scope!r}: {SCOPES[scope]}")
        return caller

    return check


async def browser_caller(request: Request) -> Caller:
    """Like current_caller, but a browser with no token is sent through the hub's OAuth login."""
    if token_from_request(request) or "text/html" not in request.headers.get("accept", ""):
        return await current_caller(request)
    raise OAuthRedirect(
        str(request.url.path) + (f"?{request.url.query}" if request.url.query else "")
    )


class OAuthRedirect(Exception):
    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


def install_oauth(app: FastAPI, settings: ServiceSettings) -> None:
    """The hub OAuth round trip for browser pages (API docs): login redirect and callback."""

    def set_private_cookie(response, request: Request, name: str, value: str) -> None:
        response.set_cookie(
            name, value, httponly=True, samesite="lax", path=settings.prefix,
            secure=_is_https(request),
        )  # fmt: skip

    @app.exception_handler(OAuthRedirect)
    async def _login(request: Request, exc: OAuthRedirect):
        hub: HubOAuth = request.app.state.identity.hub
        extra: dict = {}
        params: dict = {}
        if hub.pkce_enabled:
            verifier, challenge, method = hub.generate_pkce_code_challenge()
            extra["code_verifier"] = verifier
            params.update(code_challenge=challenge, code_challenge_method=method)
        state = hub.generate_state(exc.next_url, **extra)
        params["state"] = state
        response = RedirectResponse(f"{hub.login_url}&{urlencode(params)}", status_code=302)
        set_private_cookie(response, request, STATE_COOKIE, state)
        return response

    @app.get(settings.prefix + "oauth_callback", include_in_schema=False)
    async def oauth_callback(request: Request, code: str = "", state: str = ""):
        hub: HubOAuth = request.app.state.identity.hub
        cookie = request.cookies.get(STATE_COOKIE, "")
        if not code or not state or not secrets.compare_digest(cookie, state):
            raise APIError(400, "OAuth state mismatch; open the page again to log in")
        try:
            token = await hub.token_for_code(
                code, code_verifier=hub.get_code_verifier(state), sync=False
            )
        except HTTPError as e:
            if e.status_code >= 500:  # HubAuth's way of saying the hub could not be reached
                raise APIError(503, "cannot reach JupyterHub to finish the login") from None
            raise APIError(400, "the hub refused this login code; open the page again") from None
        next_url = hub.get_next_url(state)
        hub.clear_oauth_state(state)
        if not next_url.startswith(settings.prefix):
            next_url = settings.api_prefix + "/docs"
        response = RedirectResponse(next_url, status_code=302)
        response.delete_cookie(STATE_COOKIE, path=settings.prefix)
        set_private_cookie(response, request, TOKEN_COOKIE, token)
        return response


def _is_https(request: Request) -> bool:
    return request.headers.get("x-forwarded-proto", request.url.scheme) == "https"
