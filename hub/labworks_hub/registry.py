"""Read-only client of an OCI registry's Distribution API v2: repository and tag lists with
`Link` pagination, manifests and indexes with their digests checked, image config labels; basic
credentials or the bearer-token challenge. The image catalog (catalog.py) is built on it."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
from collections.abc import Awaitable, Iterable
from dataclasses import asdict, dataclass, fields
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MANIFEST_ACCEPT = ", ".join((OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST))
IMAGE_CONFIGS = {
    "application/vnd.oci.image.config.v1+json",
    "application/vnd.docker.container.image.v1+json",
}
LABEL_PACKAGES = "io.labworks.packages"
LABEL_GPU = "io.labworks.gpu"
_LINK_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')
T = TypeVar("T")


class CatalogError(Exception):
    """A refused or failed image lookup. `status` is the HTTP status to answer with; the
    message is shown to the user and never holds credentials."""

    status = 400


class ImageRefused(CatalogError):
    """The reference is malformed or its tag is not a CI build id."""


class ImageNotFound(CatalogError):
    """No such image, or not one this user may see (both read the same, on purpose)."""

    status = 404


class RegistryUnavailable(CatalogError):
    """The registry cannot be reached, refuses our credentials or answers nonsense."""

    status = 503


@dataclass(frozen=True)
class ImageInfo:
    """One `repository:tag` of the catalog, pinned by the digest of its manifest (or index)."""

    repository: str
    tag: str
    digest: str
    title: str = ""
    description: str = ""
    packages: tuple[str, ...] = ()
    gpu: bool = False
    created: str | None = None
    source: str = ""
    revision: str = ""

    @property
    def ref(self) -> str:
        return f"{self.repository}:{self.tag}"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "packages": list(self.packages)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ImageInfo:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        return cls(**{**values, "packages": tuple(values.get("packages") or ())})


def image_facts(labels: Any, created: Any = None) -> dict[str, Any]:
    """What the catalog shows of an image, from its config labels (docs/admin/images.md).
    Labels that are missing or not text read as empty."""

    def label(name: str) -> str:
        value = labels.get(name) if isinstance(labels, dict) else None
        return value.strip() if isinstance(value, str) else ""

    oci = "org.opencontainers.image."
    return {
        "title": label(oci + "title"),
        "description": label(oci + "description"),
        "packages": tuple(p.strip() for p in label(LABEL_PACKAGES).split(",") if p.strip()),
        "gpu": label(LABEL_GPU).lower() == "true",
        "created": label(oci + "created") or (created if isinstance(created, str) else None),
        "source": label(oci + "source"),
        "revision": label(oci + "revision"),
    }


def facts_of(image: ImageInfo) -> dict[str, Any]:
    data = asdict(image)
    for key in ("repository", "tag", "digest"):
        del data[key]
    return data


def _scope(path: str) -> str:
    """The token scope a Distribution API path needs."""
    if path.rstrip("/").endswith("/v2/_catalog"):
        return "registry:catalog:*"
    found = re.search(r"/v2/(.+?)/(?:tags|manifests|blobs)/", path)
    return f"repository:{found.group(1)}:pull" if found else ""


class RegistryAuth(httpx.Auth):
    """Basic credentials, and the Distribution token flow: on a 401 with a `Bearer realm=...`
    challenge, ask the realm for a token (with the basic credentials, if any) and retry.
    Tokens are kept per scope for the life of the client."""

    requires_response_body = True

    def __init__(self, username: str = "", password: str = "") -> None:
        raw = f"{username}:{password}".encode()
        self._basic = f"Basic {base64.b64encode(raw).decode()}" if username else None
        self._tokens: dict[str, str] = {}

    def auth_flow(self, request: httpx.Request):
        scope = _scope(request.url.path)
        if scope in self._tokens:
            request.headers["Authorization"] = f"Bearer {self._tokens[scope]}"
        elif self._basic:
            request.headers["Authorization"] = self._basic
        response = yield request
        scheme, _, rest = response.headers.get("www-authenticate", "").partition(" ")
        if response.status_code != 401 or scheme.lower() != "bearer":
            return
        challenge = dict(_CHALLENGE_PARAM.findall(rest))
        if "realm" not in challenge:
            return
        params = {k: challenge[k] for k in ("service", "scope") if k in challenge}
        token_request = httpx.Request("GET", challenge["realm"], params=params)
        if self._basic:
            token_request.headers["Authorization"] = self._basic
        token_response = yield token_request
        try:
            body = token_response.json() if token_response.status_code == 200 else {}
        except ValueError:
            body = {}
        token = body.get("token") or body.get("access_token")
        if not token:
            return
        self._tokens[scope] = token
        request.headers["Authorization"] = f"Bearer {token}"
        yield request


class RegistryClient:
    """The Distribution API v2 of one registry, read-only. Use as `async with RegistryClient(...)`.

    Errors: ImageNotFound for what the registry does not have, RegistryUnavailable for
    everything that makes the registry unusable (network, 5xx, refused credentials, content
    whose digest does not match)."""

    def __init__(
        self,
        url: str,
        *,
        username: str = "",
        password: str = "",
        timeout: float = 10.0,
        concurrency: int = 16,
        verify: bool = True,
        page_size: int = 1000,
    ) -> None:
        self.url = url.rstrip("/")
        self.page_size = page_size
        self._auth = RegistryAuth(username, password)
        self._options: dict[str, Any] = {
            "timeout": timeout,
            "verify": verify,
            "limits": httpx.Limits(max_connections=concurrency),
        }
        self._http: httpx.AsyncClient | None = None

    async def __aenter__(self) -> RegistryClient:
        self._http = httpx.AsyncClient(
            base_url=self.url, auth=self._auth, follow_redirects=True, **self._options
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def _get(self, path: str, **kwargs: Any) -> httpx.Response:
        assert self._http is not None, "use RegistryClient with `async with`"
        try:
            response = await self._http.get(path, **kwargs)
        except httpx.HTTPError as e:
            reason = str(e) or type(e).__name__
            raise RegistryUnavailable(
                f"cannot reach the image registry at {self.url}: {reason}"
            ) from None
        if response.status_code in (401, 403):
            raise RegistryUnavailable(
                f"the image registry at {self.url} refused access ({response.status_code});"
                " check the registry credentials"
            )
        if response.status_code == 429 or response.status_code >= 500:
            raise RegistryUnavailable(
                f"the image registry at {self.url} answered {response.status_code}"
            )
        return response

    async def _paged(self, path: str, key: str) -> list[str]:
        """Every item of a paginated list (`n` and the `Link: <...>; rel="next"` header)."""
        items: list[str] = []
        seen: set[str] = set()
        url: str | None = path
        params: dict[str, str] | None = {"n": str(self.page_size)}
        while url and url not in seen:
            seen.add(url)
            response = await self._get(url, params=params)
            if response.status_code == 404:
                raise ImageNotFound(f"the registry has no {path}")
            listed = self._json(response, path).get(key)
            if isinstance(listed, list):
                items.extend(i for i in listed if isinstance(i, str))
            found = _LINK_NEXT.search(response.headers.get("link", ""))
            url, params = (self._same_origin(found.group(1)) if found else None), None
        return items

    def _same_origin(self, link: str) -> str | None:
        """A `Link` to follow: relative, or on this registry (credentials go nowhere else)."""
        target = urlsplit(link)
        if not target.netloc:
            return link
        here = urlsplit(self.url)
        return link if (target.scheme, target.netloc) == (here.scheme, here.netloc) else None

    def _json(self, response: httpx.Response, what: str) -> dict[str, Any]:
        if response.status_code != 200:
            raise RegistryUnavailable(
                f"the image registry at {self.url} answered {response.status_code} for {what}"
            )
        try:
            body = json.loads(response.content)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise RegistryUnavailable(f"the image registry at {self.url} sent no JSON for {what}")
        return body

    async def repositories(self) -> list[str]:
        """`GET /v2/_catalog`, every page."""
        return await self._paged("/v2/_catalog", "repositories")

    async def tags(self, repository: str) -> list[str]:
        """`GET /v2/<repository>/tags/list`, every page; ImageNotFound for an unknown one."""
        return await self._paged(f"/v2/{repository}/tags/list", "tags")

    async def manifest(self, repository: str, reference: str) -> tuple[str, dict[str, Any]]:
        """The manifest (or index) of a tag or digest, and its digest, checked against the
        content (and against `Docker-Content-Digest` and the reference, when they give one)."""
        what = f"{repository}:{reference}"
        response = await self._get(
            f"/v2/{repository}/manifests/{reference}", headers={"Accept": MANIFEST_ACCEPT}
        )
        if response.status_code == 404:
            raise ImageNotFound(f"the registry has no image {what}")
        body = self._json(response, what)
        digest = "sha256:" + hashlib.sha256(response.content).hexdigest()
        claimed = response.headers.get("docker-content-digest")
        pinned = reference if reference.startswith("sha256:") else None
        for expected in (claimed, pinned):
            if expected and expected != digest:
                raise RegistryUnavailable(
                    f"the manifest of {what} does not match its digest {expected}"
                )
        return digest, body

    async def config(self, repository: str, manifest: dict[str, Any]) -> dict[str, Any]:
        """The image config a manifest points to; for an index, that of linux/amd64 (else the
        first entry). ImageNotFound for artifacts that are not container images."""
        if "manifests" in manifest:
            entries = manifest["manifests"]
            if not isinstance(entries, list) or not entries:
                raise ImageNotFound(f"{repository}: an empty image index")
            if not all(isinstance(e, dict) and isinstance(e.get("digest"), str) for e in entries):
                raise ImageNotFound(f"{repository}: a malformed image index")
            amd64 = {"os": "linux", "architecture": "amd64"}
            chosen = next(
                (e for e in entries if _platform(e) == amd64),
                entries[0],
            )
            _, manifest = await self.manifest(repository, chosen["digest"])
        config = manifest.get("config")
        if not isinstance(config, dict):
            raise ImageNotFound(f"{repository}: not a container image (no config)")
        if config.get("mediaType") not in IMAGE_CONFIGS or not isinstance(
            config.get("digest"), str
        ):
            raise ImageNotFound(f"{repository}: not a container image ({config.get('mediaType')})")
        response = await self._get(f"/v2/{repository}/blobs/{config['digest']}")
        if response.status_code == 404:
            raise ImageNotFound(f"{repository}: config blob {config['digest']} is missing")
        body = self._json(response, f"the config of {repository}")
        if "sha256:" + hashlib.sha256(response.content).hexdigest() != config["digest"]:
            raise RegistryUnavailable(f"the config blob of {repository} does not match its digest")
        return body

    async def image(
        self, repository: str, tag: str, known: dict[str, dict[str, Any]] | None = None
    ) -> ImageInfo:
        """One tag with its digest and labels; `known` (digest -> facts) saves the config read."""
        digest, manifest = await self.manifest(repository, tag)
        facts = (known or {}).get(digest)
        if facts is None:
            config = await self.config(repository, manifest)
            inner = config.get("config")
            facts = image_facts(inner.get("Labels") if isinstance(inner, dict) else None,
                                config.get("created"))  # fmt: skip
        return ImageInfo(repository=repository, tag=tag, digest=digest, **facts)


def _platform(entry: dict[str, Any]) -> dict[str, Any]:
    platform = entry.get("platform")
    if not isinstance(platform, dict):
        return {}
    return {k: platform.get(k) for k in ("os", "architecture")}


async def bounded(limit: int, jobs: Iterable[Awaitable[T]]) -> list[T]:
    """Await `jobs` with at most `limit` at a time; the first failure cancels the rest."""
    gate = asyncio.Semaphore(limit)

    async def run(job: Awaitable[T]) -> T:
        async with gate:
            return await job

    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(run(job)) for job in jobs]
    except ExceptionGroup as failed:
        raise failed.exceptions[0] from None
    return [t.result() for t in tasks]
