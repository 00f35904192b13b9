"""Who is calling: hub API tokens (header or the OAuth cookie) checked with JupyterHub.

Authorization lives here and in the store's query layer (access.py), never in routers. Routers
declare `who: Viewer = Depends(viewer)` (shareable things), `Depends(current_caller)` or
`Depends(require_scope("..."))`. The request guard
(guard.py) may ask first, before a body is read; the answer is kept on the request, so the hub
is asked once.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

import httpx
from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.security import APIKeyHeader
from jupyterhub.services.auth import HubOAuth
from tornado.web import HTTPError

from .access import Viewer
from .errors import APIError
from .hubapi import token_digest
from .settings import USER_CACHE_SECONDS, ServiceSettings

log = logging.getLogger("labworks.service")
TOKEN_COOKIE = "labworks-token"  # noqa: S105 (a cookie name)
STATE_COOKIE = "labworks-oauth-state"
XSRF_COOKIE = "_xsrf"  # read by the API docs page's script, echoed in XSRF_HEADER
XSRF_HEADER = "X-XSRFToken"
_OUTCOME = "labworks.caller"  # where a request keeps its caller (or refusal) in its scope

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

    def viewer(self) -> Viewer:
        name = self.name if self.kind == "user" else ""
        return Viewer(name=name, groups=frozenset(self.groups), admin=self.admin, kind=self.kind)

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

    def forget(self, name: str) -> None:
        """Drop what the hub said about user `name` and their tokens: an administrator just
        changed their groups or took their access away, which counts now, not in
        USER_CACHE_SECONDS."""
        self._users.pop(name, None)
        cache = self.hub.cache
        for key, model in list(cache.values.items()):
            if isinstance(model, dict) and model.get("name") == name:
                cache.pop(key, None)

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


def header_token(request: Request) -> str | None:
    """The token of `Authorization: token|Bearer <token>`, which a browser never sends by itself."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() in ("token", "bearer") and value.strip():
        return value.strip()
    return None


def token_from_request(request: Request) -> str | None:
    return header_token(request) or request.cookies.get(TOKEN_COOKIE)


def by_cookie(request: Request) -> bool:
    """Whether the request is authenticated by the login cookie (a browser's, so it needs the
    XSRF token and a same-origin request to write) rather than by a token it sent itself."""
    return header_token(request) is None and bool(request.cookies.get(TOKEN_COOKIE))


def xsrf_token(settings: ServiceSettings, login_token: str) -> str:
    """The XSRF token of a login: derived from the login token (as JupyterHub 4.1+ ties its
    own to the session), so a cookie another page plants does not match."""
    key = settings.api_token.encode()
    return hmac.new(key, b"labworks-xsrf:" + login_token.encode(), hashlib.sha256).hexdigest()


# Declared for the OpenAPI schema (Swagger's "Authorize", clients, fuzzers); the check is below.
HUB_TOKEN = APIKeyHeader(
    name="Authorization",
    scheme_name="hubToken",
    description="`token <hub API token>` (or `Bearer <token>`); browsers use the login cookie.",
    auto_error=False,
)


async def authenticate(request: Request) -> Caller:
    """The caller of this request, from its token or login cookie; the answer (or refusal) is
    kept on the request so that the guard and the route ask the hub once between them."""
    state = request.scope.setdefault("state", {})
    outcome = state.get(_OUTCOME)
    if outcome is None:
        outcome = state[_OUTCOME] = await _identify(request)
    if isinstance(outcome, APIError):
        raise outcome
    return outcome


async def _identify(request: Request) -> Caller | APIError:
    token = token_from_request(request)
    if not token:
        return APIError(401, "authentication required: send 'Authorization: token <hub token>'")
    identity: HubIdentity = request.app.state.identity
    try:
        return await identity.caller_for_token(token)
    except APIError as e:
        return e


async def current_caller(request: Request, _declared: str | None = Depends(HUB_TOKEN)) -> Caller:
    return await authenticate(request)


async def viewer(caller: Caller = Depends(current_caller)) -> Viewer:
    """The one dependency of routes over shareable things: who is asking, as access.Viewer
    (a service token is a viewer with no name: it sees nothing shared)."""
    return caller.viewer()


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
        set_cookie(response, request, settings, STATE_COOKIE, state)
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
        set_cookie(response, request, settings, TOKEN_COOKIE, token)
        set_xsrf_cookie(response, request, settings, token)
        return response


def set_cookie(
    response: Response,
    request: Request,
    settings: ServiceSettings,
    name: str,
    value: str,
    *,
    httponly: bool = True,
) -> None:
    """A cookie of this service only (its path), not sent on cross-site requests."""
    response.set_cookie(
        name, value, httponly=httponly, samesite="lax", path=settings.prefix,
        secure=_is_https(request),
    )  # fmt: skip


def set_xsrf_cookie(
    response: Response, request: Request, settings: ServiceSettings, login_token: str
) -> None:
    """The XSRF cookie of this login; the docs page's script copies it into XSRF_HEADER."""
    value = xsrf_token(settings, login_token)
    set_cookie(response, request, settings, XSRF_COOKIE, value, httponly=False)


def request_origin(request: Request) -> str:
    """`scheme://host[:port]` as the browser addressed this service: the hub proxy's
    X-Forwarded-Proto/Host (the first, the browser's, when proxies chain them; a browser cannot
    set them on a cross-site request), else the request's own scheme and Host."""
    proto = _first(request.headers.get("x-forwarded-proto")) or request.url.scheme
    host = _first(request.headers.get("x-forwarded-host")) or request.headers.get("host", "")
    return normal_origin(proto, host)


def normal_origin(scheme: str, host: str) -> str:
    """An origin compared as browsers write it: lower case, no default port."""
    scheme, host = scheme.lower(), host.lower()
    default = {"http": ":80", "https": ":443"}.get(scheme)
    if default and host.endswith(default):
        host = host[: -len(default)]
    return f"{scheme}://{host}"


def _first(value: str | None) -> str:
    return (value or "").split(",")[0].strip()


def _is_https(request: Request) -> bool:
    return request_origin(request).startswith("https://")
