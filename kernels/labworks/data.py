"""Versioned datasets on the Labworks platform, read with lineage on MLflow runs.

A dataset belongs to the user who pushed it and is named ``<owner>/<name>`` (its ref); each push
of a file or a folder makes a new, immutable version (1, 2, ...). Files are stored once by
sha256, so pushing an unchanged file again uploads nothing.

    from labworks import data

    v = data.push("iris", "data/iris/", message="first cut")   # a new version of your "iris"
    folder = data.get("iris")                    # the latest version, as a local folder (Path)
    old = data.get("alice/iris", version=1)      # someone's dataset they shared with you
    with data.open("iris", "train.csv") as f:    # one file (binary)
        ...
    data.versions("iris"), data.datasets()
    data.snapshot("orders", "raw/2026/")         # a data source's objects, copied on the platform

``get`` and ``open`` download into a cache (``$LABWORKS_DATA_CACHE``, default
``~/.cache/labworks/datasets``; ``<owner>/<name>/<number>`` below it), check every file's sha256
and size, and rename a file into place only once it is checked; a file already there is reused
(checked again only when its size or modification time changed since it was checked).

Lineage: every ``get`` and ``open`` records the version read on the active MLflow run (tag
``labworks.dataset.<owner>/<name>`` = the version number, and a dataset input named
``<owner>/<name>``), and on the runs this process starts later (``labworks.track``).

Environment: ``LABWORKS_API_URL`` (the platform API, set in workspaces and jobs) and a token
from ``LABWORKS_API_TOKEN``, ``JUPYTERHUB_API_TOKEN`` or ``MLFLOW_TRACKING_TOKEN``. ``Client``
has the same methods for an explicit address and token. Every failure is a ``DataError``
carrying the platform's message and HTTP status.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from . import track
from .api import Api, PlatformError

__all__ = [
    "Client",
    "DataError",
    "Dataset",
    "Version",
    "datasets",
    "get",
    "open",
    "push",
    "snapshot",
    "versions",
]

CACHE_VARIABLE = "LABWORKS_DATA_CACHE"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
OWNER = re.compile(r"^[^/\s.][^/\s]*$")
MAX_FILES = 10_000
MAX_PATH_CHARS = 1024
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
CHUNK = 1 << 20


class DataError(PlatformError):
    """A dataset operation failed; ``status`` is the platform's HTTP status (None when the
    platform was not asked or did not answer)."""


@dataclass(frozen=True)
class Version:
    """One version of a dataset."""

    ref: str
    number: int
    digest: str
    size: int
    file_count: int
    created: datetime
    message: str = ""


@dataclass(frozen=True)
class Dataset:
    """A dataset the caller can read."""

    ref: str
    owner: str
    name: str
    description: str
    visibility: str
    latest_version: int | None
    updated: datetime


@dataclass(frozen=True)
class File:
    """One file of a version's manifest."""

    path: str
    sha256: str
    size: int


def manifest_digest(files: list[File]) -> str:
    """The digest of a manifest, as the platform computes it."""
    lines = "".join(f"{f.path}\t{f.sha256}\t{f.size}\n" for f in sorted(files, key=_path))
    return "sha256:" + hashlib.sha256(lines.encode()).hexdigest()


def check_path(path: str) -> str:
    """`path` when the platform takes it as a file's path in a dataset, else DataError: 1-1024
    characters, relative, '/' between parts, no control or bidi characters, no empty, blank,
    '.' or '..' part and no part with spaces at its start or end."""
    parts = path.split("/")
    if (
        not 0 < len(path) <= MAX_PATH_CHARS
        or path.startswith("/")
        or "\\" in path
        or UNSAFE.search(path)
        or any(p != p.strip() or p.strip() in ("", ".", "..") for p in parts)
    ):
        raise DataError(f"not a relative POSIX file path the platform takes: {path!r}")
    return path


def scan(path: str | os.PathLike[str]) -> list[File]:
    """The manifest of a file (named by its file name) or a folder (every file below it, by
    its path relative to the folder), sorted by path; files are hashed in chunks."""
    root = Path(path)
    if root.is_file():
        found = [(root.name, root)]
    elif root.is_dir():
        found = []
        for folder, dirs, names in os.walk(root):
            dirs.sort()
            for name in sorted(names):
                file = Path(folder, name)
                if file.is_file():
                    found.append((file.relative_to(root).as_posix(), file))
    else:
        raise DataError(f"no such file or folder: {root}")
    if not found:
        raise DataError(f"no files in {root}")
    if len(found) > MAX_FILES:
        raise DataError(f"{root} holds {len(found)} files; a version holds at most {MAX_FILES}")
    return sorted((File(check_path(rel), *_hash(file)) for rel, file in found), key=_path)


def verified(path: Path, file: File) -> bool:
    """Whether `path` holds exactly the bytes of `file` (size, then sha256)."""
    try:
        return path.stat().st_size == file.size and _hash(path)[0] == file.sha256
    except OSError:
        return False


class Client:
    """The dataset functions against one platform API and token; the module-level functions
    use ``Client.from_env()``."""

    def __init__(self, api_url: str, token: str, cache: str | os.PathLike[str] | None = None):
        self.api = Api(api_url, token, DataError)
        self.api_url = self.api.api_url
        self.cache = Path(cache) if cache else Path.home() / ".cache/labworks/datasets"
        self._user: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Client:
        """A client from LABWORKS_API_URL, the first token of ``api.TOKEN_VARIABLES`` and
        LABWORKS_DATA_CACHE."""
        env = os.environ if environ is None else environ
        api = Api.from_env("labworks.data", DataError, env)
        return cls(api.api_url, api.token, env.get(CACHE_VARIABLE) or None)

    # --- the API -------------------------------------------------------------------------

    def push(
        self,
        name: str,
        path: str | os.PathLike[str],
        message: str = "",
        description: str | None = None,
    ) -> Version:
        """Make file or folder `path` a new version of your dataset `name` (created on its
        first push); only the files the platform does not hold yet are uploaded. Pushing the
        same content as the latest version returns that version."""
        if not NAME.match(name):
            raise DataError(f"not a dataset name: {name!r} (letters, digits, '.', '_', '-')")
        files = scan(path)
        base = self._base(f"{self.user()}/{name}")
        wanted = sorted({f.sha256 for f in files})
        missing = set(self._json("POST", f"{base}/blobs/missing", {"sha256": wanted})["missing"])
        root = Path(path)
        for file in files:
            if file.sha256 in missing:
                missing.discard(file.sha256)
                local = root / file.path if root.is_dir() else root
                with local.open("rb") as blob:
                    self._json("PUT", f"{base}/blobs/{file.sha256}", blob, size=file.size)
        made: dict[str, Any] = {"files": [asdict(f) for f in files], "message": message}
        if description is not None:
            made["description"] = description
        return _version(self._json("POST", f"{base}/versions", made))

    def snapshot(
        self,
        name: str,
        path: str,
        *,
        table: str | None = None,
        sql: str | None = None,
        limit: int | None = None,
        message: str = "",
    ) -> Version:
        """Make what a data source holds now a new version of your dataset `name` (created,
        private, when missing): the objects under `path` (``SOURCE/PREFIX``), or with `table`
        (``schema.table``) or `sql` the first `limit` rows of a query on database `path`
        (``SOURCE``) as one Parquet file. The platform copies the bytes, so the version stays
        the same when the source changes."""
        if not NAME.match(name):
            raise DataError(f"not a dataset name: {name!r} (letters, digits, '.', '_', '-')")
        source, _, prefix = path.partition("/")
        made: dict[str, Any] = {"source": source, "message": message}
        if table is not None and sql is not None:
            raise DataError("snapshot a table or a query, not both")
        if table is None and sql is None:
            made["prefix"] = prefix
        elif prefix.strip("/"):
            raise DataError(f"a table or a query is read from a source, not from {path!r}")
        else:
            made.update({"table": table} if table is not None else {"sql": sql})
            if limit is not None:
                made["limit"] = limit
        return _version(self._json("POST", f"{self._base(f'{self.user()}/{name}')}/snapshot", made))

    def get(
        self,
        ref: str,
        version: int | None = None,
        dest: str | os.PathLike[str] | None = None,
    ) -> Path:
        """Download a version (default: the latest) and return its folder: the cache's, or
        `dest` when given. Records the read (lineage)."""
        detail = self._detail(ref, version)
        if dest is not None:
            folder = Path(dest)
            for file in _files(detail):
                self._fetch(detail, file, folder)
        else:
            folder = self._folder(detail)
            with _Checked(folder) as checked:
                for file in _files(detail):
                    self._fetch(detail, file, folder, checked)
        self._record(detail)
        return folder

    def open(self, ref: str, path: str | None = None, version: int | None = None) -> IO[bytes]:
        """One file of a version, opened for binary reading (downloaded into the cache first).
        `path` may be left out when the version holds a single file. Records the read."""
        detail = self._detail(ref, version)
        files = _files(detail)
        if path is None and len(files) == 1:
            chosen = files[0]
        else:
            named = [f for f in files if f.path == path]
            if not named:
                listing = ", ".join(f.path for f in files[:20]) + (", ..." if files[20:] else "")
                asked = "give one of its paths" if path is None else f"it has no {path!r}"
                raise DataError(
                    f"{detail['ref']} version {detail['number']} holds {len(files)} files, "
                    f"{asked}: {listing}"
                )
            chosen = named[0]
        folder = self._folder(detail)
        with _Checked(folder) as checked:
            local = self._fetch(detail, chosen, folder, checked)
        self._record(detail)
        return local.open("rb")

    def versions(self, ref: str) -> list[Version]:
        """The versions of a dataset you can read, newest first."""
        found = self._json("GET", self._base(self.ref(ref)))
        return [_version({**v, "ref": found["ref"]}) for v in found["versions"]]

    def datasets(self) -> list[Dataset]:
        """The datasets you can read (yours, your groups', public ones), recently updated first."""
        return [
            Dataset(
                ref=d["ref"],
                owner=d["owner"],
                name=d["name"],
                description=d["description"],
                visibility=d["visibility"],
                latest_version=d["latest_version"],
                updated=_time(d["updated_at"]),
            )
            for d in self._json("GET", "datasets")["datasets"]
        ]

    def user(self) -> str:
        """The name of the token's user (asked once)."""
        if self._user is None:
            self._user = str(self._json("GET", "me")["name"])
        return self._user

    def ref(self, ref: str) -> str:
        """``owner/name`` of `ref`, which is ``owner/name`` or a name of your own."""
        owner, _, name = ref.rpartition("/")
        if not NAME.match(name) or ref.startswith("/") or (owner and not OWNER.match(owner)):
            raise DataError(f"not a dataset: {ref!r} (give NAME or OWNER/NAME)")
        return f"{owner or self.user()}/{name}"

    # --- parts ---------------------------------------------------------------------------

    def _base(self, ref: str) -> str:
        owner, name = ref.split("/")
        return f"datasets/{urllib.parse.quote(owner, safe='')}/{urllib.parse.quote(name)}"

    def _detail(self, ref: str, version: int | None) -> dict[str, Any]:
        if version is not None and (isinstance(version, bool) or int(version) < 1):
            raise DataError(f"a version is a number from 1, not {version!r}")
        number = "latest" if version is None else str(int(version))
        return self._json("GET", f"{self._base(self.ref(ref))}/versions/{number}")

    def _folder(self, detail: Mapping[str, Any]) -> Path:
        owner, name = detail["ref"].split("/")
        return self.cache / check_path(owner) / check_path(name) / str(int(detail["number"]))

    def _fetch(
        self,
        detail: Mapping[str, Any],
        file: File,
        folder: Path,
        checked: _Checked | None = None,
    ) -> Path:
        """`folder`/`file.path`, reused when it checks out, else downloaded next to it and
        renamed into place once its size and sha256 match. With `checked` (the cache), a file
        already checked and not touched since is reused without hashing it again."""
        target = folder / check_path(file.path)
        if checked is not None and checked.unchanged(target, file):
            return target
        if verified(target, file):
            if checked is not None:
                checked.add(target, file)
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        url = f"{self._base(detail['ref'])}/blobs/{file.sha256}"
        fd, partial = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
        try:
            digest, size = hashlib.sha256(), 0
            with os.fdopen(fd, "wb") as out, self._open("GET", url) as response:
                try:
                    while chunk := response.read(CHUNK):
                        digest.update(chunk)
                        size += len(chunk)
                        out.write(chunk)
                except (OSError, http.client.HTTPException) as e:
                    raise DataError(f"{file.path}: the download broke off: {e!r}") from None
            if size != file.size or digest.hexdigest() != file.sha256:
                raise DataError(f"{file.path}: the download does not match its sha256 and size")
            os.replace(partial, target)
        finally:
            Path(partial).unlink(missing_ok=True)
        if checked is not None:
            checked.add(target, file)
        return target

    def _record(self, detail: Mapping[str, Any]) -> None:
        url = f"{self.api_url}/{self._base(detail['ref'])}/versions/{detail['number']}"
        track.record_dataset(detail["ref"], int(detail["number"]), detail["digest"], url)

    def _json(self, method: str, path: str, body: Any = None, size: int | None = None) -> Any:
        return self.api.json(method, path, body, size)

    def _open(self, method: str, path: str, body: Any = None, size: int | None = None) -> Any:
        return self.api.open(method, path, body, size)


def push(
    name: str, path: str | os.PathLike[str], message: str = "", description: str | None = None
) -> Version:
    """Make file or folder `path` a new version of your dataset `name` (see ``Client.push``)."""
    return Client.from_env().push(name, path, message, description)


def snapshot(
    name: str,
    path: str,
    *,
    table: str | None = None,
    sql: str | None = None,
    limit: int | None = None,
    message: str = "",
) -> Version:
    """Copy a data source's objects (``SOURCE/PREFIX``) or a table or query of database
    ``SOURCE`` into a new version of your dataset `name` (see ``Client.snapshot``)."""
    return Client.from_env().snapshot(
        name, path, table=table, sql=sql, limit=limit, message=message
    )


def get(ref: str, version: int | None = None) -> Path:
    """The folder of a downloaded, checked version (default: the latest); records the read."""
    return Client.from_env().get(ref, version)


def open(ref: str, path: str | None = None, version: int | None = None) -> IO[bytes]:
    """One file of a version, opened for binary reading; records the read."""
    return Client.from_env().open(ref, path, version)


def versions(ref: str) -> list[Version]:
    """The versions of dataset `ref` (``name`` of yours, or ``owner/name``), newest first."""
    return Client.from_env().versions(ref)


def datasets() -> list[Dataset]:
    """The datasets you can read, recently updated first."""
    return Client.from_env().datasets()


def _path(file: File) -> str:
    return file.path


def _hash(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


class _Checked:
    """The record, beside a cached version's folder (`<number>.checked.json`, so the folder
    holds only the dataset's files), of the files checked against their sha256: path ->
    [sha256, size, mtime in ns] when checked. A file whose size and mtime still match is not
    hashed again (as git's index does), so reading a large cached version again is quick; a
    file edited since is checked, and fetched again when it differs."""

    SUFFIX = ".checked.json"

    def __init__(self, folder: Path) -> None:
        self.path = folder.with_name(folder.name + self.SUFFIX)
        try:
            found = json.loads(self.path.read_text())
        except (OSError, ValueError):
            found = {}
        self.stamps: dict[str, Any] = found if isinstance(found, dict) else {}
        self.changed = False

    def __enter__(self) -> _Checked:
        return self

    def __exit__(self, *exc: object) -> None:
        """Save what was checked (also when a later file failed): temp file, then rename."""
        if not self.changed:
            return
        partial = self.path.with_name(self.path.name + ".part")
        try:
            partial.parent.mkdir(parents=True, exist_ok=True)
            partial.write_text(json.dumps(self.stamps))
            os.replace(partial, self.path)
        except OSError:
            partial.unlink(missing_ok=True)  # only a cache of checks: next time hashes again

    def unchanged(self, target: Path, file: File) -> bool:
        stamp = _stamp(target, file)
        return stamp is not None and self.stamps.get(file.path) == stamp

    def add(self, target: Path, file: File) -> None:
        self.stamps[file.path] = _stamp(target, file)
        self.changed = True


def _stamp(target: Path, file: File) -> list[Any] | None:
    try:
        stat = target.stat()
    except OSError:
        return None
    return [file.sha256, stat.st_size, stat.st_mtime_ns]


def _files(detail: Mapping[str, Any]) -> list[File]:
    return [File(f["path"], f["sha256"], int(f["size"])) for f in detail["files"]]


def _version(v: Mapping[str, Any]) -> Version:
    return Version(
        ref=v["ref"],
        number=int(v["number"]),
        digest=v["digest"],
        size=int(v["size"]),
        file_count=int(v["file_count"]),
        created=_time(v["created_at"]),
        message=v.get("message") or "",
    )


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)
