"""The image catalog: the workspace images a registry offers, read over the OCI Distribution API
(registry.py). What people may pick: tags matching the CI build-id pattern only, with the labels
of each image's config; `users/<name>/...` repositories for that user alone. The last good
catalog is kept on disk and served, marked stale with a warning, while the registry cannot be
reached.

The platform service (`GET /images`) and the spawners (spawn page, tag -> digest at spawn) each
hold one `ImageCatalog`; nothing here imports the service or FastAPI.
"""

from __future__ import annotations

import asyncio
import fnmatch
import hashlib
import json
import os
import re
import sys
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, distributions, version
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from traitlets import Bool, Float, Integer, List, TraitError, Unicode, default, validate
from traitlets.config import LoggingConfigurable

from .registry import (
    CatalogError,
    ImageInfo,
    ImageNotFound,
    ImageRefused,
    RegistryClient,
    RegistryUnavailable,
    bounded,
    facts_of,
    image_facts,
)

__all__ = [
    "DEFAULT_TAG_PATTERN",
    "CatalogError",
    "CatalogSnapshot",
    "ImageCatalog",
    "ImageInfo",
    "ImageNotFound",
    "ImageRefused",
    "LocalEnvironment",
    "RegistryUnavailable",
    "image_facts",
    "local_env_hash",
    "local_environment",
    "owner_of",
    "parse_ref",
    "visible_to",
]

DEFAULT_TAG_PATTERN = r"^ci-[0-9A-Za-z._-]+$"
USERS_PREFIX = "users/"
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REPOSITORY = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


# Packages named on the local environment's entry, those installed (the digest covers all).
KEY_PACKAGES = (
    "labworks", "jupyterlab", "mlflow", "papermill", "numpy", "pandas", "scikit-learn", "torch",
)  # fmt: skip
LOCAL = "local"  # the local environment's name where an image reference would be


def local_env_hash() -> str:
    """The lock digest of the local environment: sha256 over the sorted `name==version` of
    every installed distribution (what a job in it records, executors/local.py). Reading
    every distribution's metadata takes a quarter of a second, so the digest is kept until a
    packages folder on `sys.path` changes: installing, upgrading or removing a distribution
    adds or removes its `.dist-info` folder there."""
    global _env_hash
    stamp = _path_stamp()
    if _env_hash is not None and _env_hash[0] == stamp:
        return _env_hash[1]
    names = sorted({f"{(d.metadata['Name'] or '').lower()}=={d.version}" for d in distributions()})
    digest = "sha256:" + hashlib.sha256("\n".join(names).encode()).hexdigest()
    _env_hash = (stamp, digest)
    return digest


_env_hash: tuple[tuple[int, ...], str] | None = None


def _path_stamp() -> tuple[int, ...]:
    """The modification times of the site- and dist-packages folders on `sys.path` (0 for
    one that is missing); not the others: the service's working folder, on the path too,
    changes with every database write."""
    stamp = []
    for entry in sys.path:
        if entry.rstrip("/").endswith(("site-packages", "dist-packages")):
            try:
                stamp.append(os.stat(entry).st_mtime_ns)
            except OSError:
                stamp.append(0)
    return tuple(stamp)


@dataclass(frozen=True)
class LocalEnvironment:
    """The Python environment this platform runs in: what the local backends (LocalWorkspace-
    Spawner, LocalExecutor) run every workspace and job in, shown beside the catalog's images."""

    name: str
    title: str
    description: str
    digest: str  # local_env_hash()
    python: str  # e.g. 3.11.2
    prefix: str  # sys.prefix
    packages: list[str]  # `name==version` of the KEY_PACKAGES installed

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def local_environment() -> LocalEnvironment:
    """The local environment as it is now (reads the installed distributions: call it off the
    event loop)."""
    packages = []
    for name in KEY_PACKAGES:
        try:
            packages.append(f"{name}=={version(name)}")
        except PackageNotFoundError:
            continue
    return LocalEnvironment(
        name=LOCAL,
        title="Local environment",
        description="The Python environment this platform runs in; every workspace and job on"
        " this machine runs in it.",
        digest=local_env_hash(),
        python=".".join(map(str, sys.version_info[:3])),
        prefix=sys.prefix,
        packages=packages,
    )


@dataclass(frozen=True)
class CatalogSnapshot:
    """The catalog as last read. `stale`: the latest attempt to read the registry failed, and
    `warning` says why; `fetched_at` (epoch seconds) is when it last answered, None if never."""

    images: tuple[ImageInfo, ...]
    fetched_at: float | None
    stale: bool = False
    warning: str | None = None


def owner_of(repository: str) -> str | None:
    """`alice` for `users/alice/...`; None for repositories everyone may use."""
    if repository.startswith(USERS_PREFIX):
        return repository.split("/")[1]
    return None


def visible_to(repository: str, user: str | None) -> bool:
    """Everyone sees shared repositories; `users/<name>/...` only <name> sees."""
    owner = owner_of(repository)
    return owner is None or owner == user


def parse_ref(ref: str) -> tuple[str, str]:
    """`repository:tag` -> (repository, tag); ImageRefused says what is wrong."""
    if not isinstance(ref, str) or not ref.strip():
        raise ImageRefused("the image must be given as 'repository:tag'")
    if "@" in ref:
        raise ImageRefused(f"choose an image by its CI tag ('repository:tag'), not {ref!r}")
    repository, sep, tag = ref.rpartition(":")
    if not sep or not repository or "/" in tag:
        raise ImageRefused(f"image {ref!r} has no tag; use 'repository:tag'")
    if not _REPOSITORY.match(repository) or not _TAG.match(tag):
        raise ImageRefused(f"{ref!r} is not a valid image reference ('repository:tag')")
    return repository, tag


def newest_first(images: Iterable[ImageInfo]) -> list[ImageInfo]:
    """By repository, then newest first: `created` label, then tag in natural order."""
    ordered = sorted(images, key=lambda i: _natural(i.tag), reverse=True)
    ordered.sort(key=lambda i: i.created or "", reverse=True)
    ordered.sort(key=lambda i: i.repository)
    return ordered


def _natural(text: str) -> list[tuple[int, int, str]]:
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", text) if p]


class ImageCatalog(LoggingConfigurable):
    """The workspace images of one registry, as users may pick them. One instance per process.

    `snapshot()` answers from memory (or the cache file) and refreshes in the background once
    `cache_ttl` has passed; only the very first read waits for the registry. `resolve()` asks
    the registry for the digest of one tag at spawn time. Not thread-safe: use it from the event
    loop of its process.
    """

    registry_url = Unicode(
        "", help="Registry API root, e.g. https://registry.example.org; empty: no image catalog."
    ).tag(config=True)
    pull_prefix = Unicode(
        help="Put before a repository to pull it (registry host, e.g. registry.example.org);"
        " default: the host of registry_url."
    ).tag(config=True)
    username = Unicode("", help="Registry user (basic auth, or for the token service).").tag(
        config=True
    )
    password = Unicode(help="Registry password or token; default $LABWORKS_REGISTRY_PASSWORD.").tag(
        config=True
    )
    tag_pattern = Unicode(
        DEFAULT_TAG_PATTERN,
        help="Regular expression a tag must match to be offered: the CI build-id tags.",
    ).tag(config=True)
    repositories = List(
        Unicode(),
        help="Repositories to offer: names or fnmatch patterns (users/* for personal ones);"
        " empty: all that /v2/_catalog lists. Plain names alone are read without /v2/_catalog.",
    ).tag(config=True)
    cache_ttl = Float(60.0, help="Seconds a read catalog is served before it is re-read.").tag(
        config=True
    )
    cache_file = Unicode(
        "", help="JSON file keeping the last good catalog across restarts; empty: memory only."
    ).tag(config=True)
    concurrency = Integer(16, help="Registry requests in flight at once.").tag(config=True)
    timeout = Float(10.0, help="Seconds per registry request.").tag(config=True)
    tls_verify = Bool(True, help="Verify the registry's TLS certificate.").tag(config=True)

    @default("pull_prefix")
    def _default_pull_prefix(self) -> str:
        return urlsplit(self.registry_url).netloc

    @default("password")
    def _default_password(self) -> str:
        return os.environ.get("LABWORKS_REGISTRY_PASSWORD", "")

    @validate("registry_url")
    def _validate_registry_url(self, proposal: Any) -> str:
        url = str(proposal.value).rstrip("/")
        if url and (urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc):
            raise TraitError(f"registry_url must be an http(s):// URL, not {url!r}")
        return url

    @validate("tag_pattern")
    def _validate_tag_pattern(self, proposal: Any) -> str:
        try:
            re.compile(proposal.value)
        except re.error as e:
            raise TraitError(f"tag_pattern is not a regular expression: {e}") from None
        return str(proposal.value)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._snapshot: CatalogSnapshot | None = None
        self._checked_at = float("-inf")  # monotonic time of the last registry read
        self._task: asyncio.Task[CatalogSnapshot] | None = None
        self._facts: dict[str, dict[str, Any]] = {}  # manifest digest -> labels read

    @property
    def configured(self) -> bool:
        return bool(self.registry_url)

    def is_ci_tag(self, tag: str) -> bool:
        return re.match(self.tag_pattern, tag) is not None

    def offers(self, repository: str) -> bool:
        """Whether `repository` is in `repositories` (everything when that is empty)."""
        return not self.repositories or any(
            fnmatch.fnmatchcase(repository, p) for p in self.repositories
        )

    def pull_reference(self, image: ImageInfo) -> str:
        """`<pull_prefix>/<repository>:<tag>`; runtimes pin it with `@<digest>`."""
        return f"{self.pull_prefix}/{image.ref}" if self.pull_prefix else image.ref

    def check_ref(self, ref: str, user: str | None) -> tuple[str, str]:
        """(repository, tag) of a reference this user may ask for; no registry request.

        ImageRefused for a malformed reference or a tag that is not a CI build id; ImageNotFound
        for a repository outside `repositories` or another user's (the same message as for one
        that does not exist)."""
        if isinstance(ref, str) and self.pull_prefix and ref.startswith(self.pull_prefix + "/"):
            ref = ref[len(self.pull_prefix) + 1 :]
        repository, tag = parse_ref(ref)
        if not self.is_ci_tag(tag):
            raise ImageRefused(
                f"tag {tag!r} of {repository} is not a CI build id: workspace images are offered"
                f" only by tags matching {self.tag_pattern}"
            )
        if not self.offers(repository) or not visible_to(repository, user):
            raise ImageNotFound(self._unknown(ref))
        return repository, tag

    @staticmethod
    def _unknown(ref: str) -> str:
        return f"unknown image {ref!r}; list the images you can use with GET /images"

    def visible(self, snapshot: CatalogSnapshot, user: str | None) -> list[ImageInfo]:
        """The images of `snapshot` this user may pick (also rechecks pattern and allow-list,
        which may have changed since a cached catalog was written)."""
        return [
            i
            for i in snapshot.images
            if self.is_ci_tag(i.tag)
            and self.offers(i.repository)
            and visible_to(i.repository, user)
        ]

    async def resolve(self, ref: str, user: str | None) -> ImageInfo:
        """The image `ref` names, with the digest the registry gives for its tag now. When the
        registry is unreachable, the digest of the last good catalog (tags are never moved)."""
        if not self.configured:
            raise ImageNotFound(
                "no image registry is configured on this platform (an admin sets one with"
                " `labworks up --registry URL`)"
            )
        repository, tag = self.check_ref(ref, user)
        try:
            async with self._client() as client:
                image = await client.image(repository, tag, self._facts)
        except ImageNotFound:
            raise ImageNotFound(self._unknown(ref)) from None
        except RegistryUnavailable as e:
            cached = self._cached(repository, tag)
            if cached is None:
                raise
            self.log.warning("Image registry unreachable (%s); using cached digest of %s", e, ref)
            return cached
        self._facts.setdefault(image.digest, facts_of(image))
        return image

    def _cached(self, repository: str, tag: str) -> ImageInfo | None:
        snapshot = self._snapshot or self._load()
        if snapshot is None:
            return None
        return next(
            (i for i in snapshot.images if (i.repository, i.tag) == (repository, tag)), None
        )

    async def snapshot(self) -> CatalogSnapshot:
        """The catalog now: from memory or the cache file, refreshed in the background once
        `cache_ttl` has passed; the first read ever waits for the registry."""
        if self._snapshot is None:
            self._snapshot = self._load()
            if self._snapshot is None:
                return await self.refresh()
        if time.monotonic() - self._checked_at >= self.cache_ttl:
            self.refresh_in_background()
        return self._snapshot

    async def refresh(self) -> CatalogSnapshot:
        """Read the registry now (joining a read already under way)."""
        return await asyncio.shield(self.refresh_in_background())

    def refresh_in_background(self) -> asyncio.Task[CatalogSnapshot]:
        """Start reading the registry unless a read is under way; the task of that read."""
        task = self._task
        if task is None or task.done() or task.get_loop() is not asyncio.get_running_loop():
            self._checked_at = time.monotonic()
            task = self._task = asyncio.get_running_loop().create_task(self._refresh())
        return task

    async def _refresh(self) -> CatalogSnapshot:
        started = time.monotonic()
        try:
            images = await self._read_registry()
        except Exception as e:
            if not isinstance(e, CatalogError):
                self.log.exception("Reading the image catalog failed")
            return self._mark_stale(str(e) or type(e).__name__)
        self._snapshot = CatalogSnapshot(tuple(images), time.time())
        self._facts = {i.digest: facts_of(i) for i in images}
        self.log.info(
            "Image catalog: %d images from %s in %.2fs",
            len(images),
            self.registry_url,
            time.monotonic() - started,
        )
        self._save(self._snapshot)
        return self._snapshot

    def _mark_stale(self, reason: str) -> CatalogSnapshot:
        last = self._snapshot
        if last is not None and last.fetched_at is not None:
            when = datetime.fromtimestamp(last.fetched_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
            warning = f"{reason}; showing the last good image catalog, read {when}"
            self._snapshot = CatalogSnapshot(last.images, last.fetched_at, True, warning)
        else:
            warning = f"{reason}; no image catalog has been read yet"
            self._snapshot = CatalogSnapshot((), None, True, warning)
        self.log.warning("Image catalog is stale: %s", warning)
        return self._snapshot

    def _client(self) -> RegistryClient:
        return RegistryClient(
            self.registry_url,
            username=self.username,
            password=self.password,
            timeout=self.timeout,
            concurrency=self.concurrency,
            verify=self.tls_verify,
        )

    async def _read_registry(self) -> list[ImageInfo]:
        async with self._client() as client:
            literal = self.repositories and not any(set(p) & set("*?[") for p in self.repositories)
            if literal:
                repositories = sorted(set(self.repositories))
            else:
                repositories = [r for r in await client.repositories() if self.offers(r)]
            tag_lists = await bounded(self.concurrency, map(self._tags_of(client), repositories))
            wanted = [
                (repository, tag)
                for repository, tags in zip(repositories, tag_lists, strict=True)
                for tag in tags
                if self.is_ci_tag(tag)
            ]
            found = await bounded(
                self.concurrency, (self._image_or_none(client, r, t) for r, t in wanted)
            )
        return newest_first(i for i in found if i is not None)

    def _tags_of(self, client: RegistryClient):
        async def tags(repository: str) -> list[str]:
            try:
                return await client.tags(repository)
            except ImageNotFound:
                self.log.warning("Image catalog: repository %s not found; skipped", repository)
                return []

        return tags

    async def _image_or_none(
        self, client: RegistryClient, repository: str, tag: str
    ) -> ImageInfo | None:
        try:
            return await client.image(repository, tag, self._facts)
        except ImageNotFound as e:  # deleted meanwhile, or an artifact that is not an image
            self.log.warning("Image catalog: %s:%s skipped: %s", repository, tag, e)
            return None

    def _load(self) -> CatalogSnapshot | None:
        """The last good catalog from `cache_file`, if it is this registry's."""
        if not self.cache_file:
            return None
        try:
            data = json.loads(Path(self.cache_file).read_text())
            if data.get("registry") != self.registry_url:
                return None
            images = tuple(ImageInfo.from_dict(d) for d in data["images"])
            fetched_at = float(data["fetched_at"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
            self.log.warning("Ignoring image catalog cache %s: %s", self.cache_file, e)
            return None
        self._facts = {i.digest: facts_of(i) for i in images}
        return CatalogSnapshot(images, fetched_at)

    def _save(self, snapshot: CatalogSnapshot) -> None:
        if not self.cache_file:
            return
        path = Path(self.cache_file)
        data = {
            "registry": self.registry_url,
            "fetched_at": snapshot.fetched_at,
            "images": [i.to_dict() for i in snapshot.images],
        }
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                json.dump(data, f)
            os.replace(tmp, path)  # atomic: the hub and the service may both write it
        except OSError as e:
            self.log.warning("Cannot write image catalog cache %s: %s", path, e)
