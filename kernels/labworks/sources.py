"""Data sources from a notebook: approved buckets, databases and folders, without credentials.

A source is registered on the platform by its owner (``labworks sources add ...``); a notebook
names its objects ``SOURCE/PATH-IN-SOURCE`` and its tables ``schema.table``:

    from labworks import sources

    sources.list()                                # every source, with your access to it
    sources.ls("raw/2026/")                       # one level below a prefix
    df = pd.read_csv(sources.open("raw/2026/x.csv"))
    df = pd.read_parquet("labworks://raw/2026/x.parquet")    # fsspec, protocol "labworks"
    pd.read_csv(sources.fs("raw").open("2026/x.csv"))        # a filesystem rooted at "raw"
    orders = sources.read_table("warehouse", "sales.orders", limit=1000)
    top = sources.read_sql("warehouse", "select * from sales.orders order by total desc")
    sources.preview("raw/2026/x.csv"), sources.request_access("raw", "for the churn model")

Objects are read in blocks (``BLOCK_SIZE``, 8 MiB) with HTTP range requests over pooled
connections (urllib3, which reads large bodies faster than httpx): an S3 source's straight from
the object store through a presigned URL the platform signs (kept until shortly before it
expires, asked again when the store refuses it), a folder source's through the platform
(``/objects``), as stored (never decompressed). Queries run on the platform, read-only and
bounded, and come back as pandas DataFrames typed from the database's column types.

Every request names where it comes from (``X-Labworks-Origin``: the job, or the workspace) for
the source's audit. Every failure is a ``SourceError`` with the platform's message and HTTP
status; a source you may not read is a 403 naming it and its owner.
"""

from __future__ import annotations

import base64
import builtins
import contextlib
import os
import re
import threading
import urllib.parse
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import fsspec
import urllib3
from fsspec.spec import AbstractBufferedFile, AbstractFileSystem

from .api import ORIGIN_HEADER, TIMEOUT, Api, PlatformError, origin

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "Client",
    "LabworksFileSystem",
    "SourceError",
    "fs",
    "list",
    "ls",
    "open",
    "preview",
    "read_sql",
    "read_table",
    "request_access",
]

NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
PROTOCOL = "labworks"
BLOCK_SIZE = 8 << 20
URL_MARGIN = timedelta(seconds=30)
S3_MESSAGE = re.compile(r"<Message>([^<]*)</Message>")


class SourceError(PlatformError):
    """A source operation failed; ``status`` is the HTTP status (None when nobody answered)."""


def split(path: str) -> tuple[str, str]:
    """``(source, path in it)`` of ``SOURCE/PATH`` (or ``labworks://SOURCE/PATH``); refuses
    what is not a source name and '.' or '..' parts before asking."""
    text = path.removeprefix(f"{PROTOCOL}://").lstrip("/")
    source, _, inner = text.partition("/")
    if not NAME.match(source):
        raise SourceError(f"not SOURCE/PATH: {path!r} (a source name is lowercase a-z, 0-9, ._-)")
    if any(part in (".", "..") for part in inner.split("/")):
        raise SourceError(f"not a path inside a source: {path!r}")
    return source, inner


@dataclass(frozen=True)
class _Presigned:
    url: str
    size: int
    renew_at: datetime


class Client:
    """The source functions against one platform API and token. One HTTP connection pool
    serves every call and every file opened, from any thread; the module-level functions
    share one client per address, token and origin."""

    def __init__(self, api_url: str, token: str, origin: str = "") -> None:
        self.api = Api(api_url, token, SourceError)
        self.api_url = self.api.api_url
        self.origin = origin
        self.http = urllib3.PoolManager(
            maxsize=16,
            timeout=urllib3.Timeout(connect=10.0, read=TIMEOUT),
            retries=urllib3.Retry(total=2, redirect=0, raise_on_redirect=False),
        )
        self._kinds: dict[str, str] = {}
        self._urls: dict[tuple[str, str], _Presigned] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Client:
        """The client of this workspace or job (see ``labworks.api``), made once."""
        env = os.environ if environ is None else environ
        api = Api.from_env("labworks.sources", SourceError, env)
        key = (api.api_url, api.token, origin(env))
        with _CLIENTS_LOCK:
            if key not in _CLIENTS:
                _CLIENTS[key] = cls(*key)
            return _CLIENTS[key]

    # --- the catalog ---------------------------------------------------------------------

    def sources(self) -> builtins.list[dict[str, Any]]:
        """Every source (name, kind, owner, description, tags, your ``access``)."""
        found: builtins.list[dict[str, Any]] = self.json("GET", "sources")["sources"]
        return found

    def source(self, name: str) -> dict[str, Any]:
        """One source's description."""
        found: dict[str, Any] = self.json("GET", _base(name))
        self._kinds[name] = found["kind"]
        return found

    def kind(self, name: str) -> str:
        """``folder``, ``s3`` or ``postgres`` (asked once per source)."""
        return self._kinds.get(name) or self.source(name)["kind"]

    def ls(self, path: str) -> builtins.list[dict[str, Any]]:
        """The entries one level below ``SOURCE/PREFIX`` (files and folders; schemas, or a
        schema's tables, of a database), each with its ``path`` in the source."""
        source, prefix = split(path)
        found = self.json("GET", f"{_base(source)}/list", params={"prefix": prefix})
        if found.get("truncated"):
            warnings.warn(f"{path}: only the first {len(found['entries'])} entries", stacklevel=3)
        entries: builtins.list[dict[str, Any]] = found["entries"]
        return entries

    def stat(self, path: str) -> dict[str, Any]:
        """The entry of one object, folder or table."""
        source, inner = split(path)
        found: dict[str, Any] = self.json("GET", f"{_base(source)}/stat", params={"path": inner})
        return found

    def preview(self, path: str, limit: int = 20) -> dict[str, Any]:
        """The platform's bounded preview of an object or a table (``SOURCE/schema.table``):
        format, columns, first rows, row count where cheap, text or image thumbnail."""
        source, inner = split(path)
        params = {"path": inner, "limit": str(limit)}
        found: dict[str, Any] = self.json("GET", f"{_base(source)}/preview", params=params)
        return found

    def request_access(self, source: str, reason: str = "", write: bool = False) -> dict[str, Any]:
        """Ask the source's owner for read (or write) access; they are notified."""
        body = {"reason": reason, "access": "write" if write else "read"}
        found: dict[str, Any] = self.json("POST", f"{_base(source)}/requests", body=body)
        return found

    # --- tables --------------------------------------------------------------------------

    def read_table(self, source: str, table: str, limit: int = 1000) -> pd.DataFrame:
        """The first `limit` rows of ``schema.table`` as a DataFrame."""
        return self._query(source, {"table": table, "limit": limit})

    def read_sql(self, source: str, sql: str, limit: int = 1000) -> pd.DataFrame:
        """The first `limit` rows of a read-only query as a DataFrame."""
        return self._query(source, {"sql": sql, "limit": limit})

    def _query(self, source: str, body: dict[str, Any]) -> pd.DataFrame:
        answer = self.json("POST", f"{_base(source)}/query", body=body)
        if answer.get("truncated"):
            warnings.warn(
                f"{source}: only the first {answer['row_count']} rows; pass a larger limit",
                stacklevel=4,
            )
        return frame(answer)

    # --- objects -------------------------------------------------------------------------

    def open(self, path: str, mode: str = "rb", block_size: int | None = None) -> SourceFile:
        """An object opened for binary reading: seekable, read in blocks of `block_size`."""
        return LabworksFileSystem(client=self).open(path, mode, block_size=block_size)

    def size(self, path: str) -> int:
        """The size of an object in bytes (an S3 source's from its presigned URL)."""
        source, inner = split(path)
        kind = self.kind(source)
        if kind == "s3":
            return self._presigned(source, inner).size
        if kind == "postgres":
            raise SourceError(f"{source} is a database: read its tables with read_table")
        entry = self.stat(path)
        if entry["kind"] != "file" or entry.get("size") is None:
            raise SourceError(f"{path} is a {entry['kind']}, not a file")
        return int(entry["size"])

    def read(self, path: str, start: int, end: int) -> bytes:
        """Bytes `start` to `end` (exclusive) of an object, in one range request."""
        if start >= end:
            return b""
        source, inner = split(path)
        wanted = {"Range": f"bytes={start}-{end - 1}"}
        if self.kind(source) != "s3":
            url = f"{_base(source)}/objects/{urllib.parse.quote(inner)}"
            return _ranged(self.request("GET", url, headers=wanted, raw=True), start, end)
        response = self._direct(self._presigned(source, inner).url, wanted)
        if response.status == 403:  # expired early (clock skew) or revoked: sign again
            response = self._direct(self._presigned(source, inner, renew=True).url, wanted)
        if response.status >= 400:
            found = S3_MESSAGE.search(response.data.decode(errors="replace"))
            reason = found.group(1) if found else f"{response.status} {response.reason}"
            raise SourceError(f"{path}: the object store refused the read: {reason}",
                              response.status)  # fmt: skip
        return _ranged(response, start, end)

    def _presigned(self, source: str, inner: str, renew: bool = False) -> _Presigned:
        """The presigned URL of an S3 object, reused until shortly before it expires."""
        key, now = (source, inner), datetime.now(UTC)
        with self._lock:
            kept = self._urls.get(key)
        if kept is not None and not renew and now < kept.renew_at:
            return kept
        found = self.json("GET", f"{_base(source)}/url", params={"path": inner})
        expires = datetime.fromisoformat(found["expires_at"])
        expires = expires if expires.tzinfo else expires.replace(tzinfo=UTC)
        margin = max(timedelta(0), min(URL_MARGIN, (expires - now) / 5))
        presigned = _Presigned(found["url"], int(found["size"]), expires - margin)
        with self._lock:
            self._urls[key] = presigned
        return presigned

    def _direct(self, url: str, headers: dict[str, str]) -> urllib3.BaseHTTPResponse:
        """A request to the object store: no platform token or origin goes there."""
        try:
            return self.http.request("GET", url, headers=headers, decode_content=False)
        except urllib3.exceptions.HTTPError as e:
            host = urllib.parse.urlsplit(url).netloc
            raise SourceError(f"cannot reach the object store at {host}: {e}") from None

    # --- HTTP ----------------------------------------------------------------------------

    def json(
        self, method: str, path: str, params: Mapping[str, str] | None = None, body: Any = None
    ) -> Any:
        return self.request(method, path, params=params, body=body).json()

    def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        raw: bool = False,
    ) -> urllib3.BaseHTTPResponse:
        """One request to the platform; a refusal raises SourceError with its message. With
        `raw`, an object's bytes are kept as stored (never decompressed: ranges of them)."""
        sent = {
            "Authorization": f"token {self.api.token}",
            "Accept": "application/json",
            ORIGIN_HEADER: self.origin,
            **(headers or {}),
        }
        url = f"{self.api_url}/{path}" + (f"?{urllib.parse.urlencode(params)}" if params else "")
        try:
            response = self.http.request(
                method, url, json=body, headers=sent, decode_content=not raw
            )
        except urllib3.exceptions.HTTPError as e:
            raise SourceError(f"cannot reach the platform at {self.api_url}: {e}") from None
        if response.status >= 400:
            raise SourceError(_message(response), response.status)
        return response


_CLIENTS: dict[tuple[str, str, str], Client] = {}
_CLIENTS_LOCK = threading.Lock()


class SourceFile(AbstractBufferedFile):
    """An object of a source, open for reading: seekable, fetched in range requests of at
    least the block size (fsspec's read-ahead cache), so small reads cost no request."""

    def _fetch_range(self, start: int, end: int) -> bytes:
        return self.fs.client.read(self.fs.full(self.path), start, end)


class LabworksFileSystem(AbstractFileSystem):
    """The sources as an fsspec filesystem (protocol ``labworks``): paths are
    ``SOURCE/PATH``, or paths inside `source` when it is given. Read-only."""

    protocol = PROTOCOL
    root_marker = ""

    def __init__(self, source: str | None = None, client: Client | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        if source is not None:
            _base(source)
        self.source = source
        self._client = client

    @property
    def client(self) -> Client:
        return self._client or Client.from_env()

    def full(self, path: str) -> str:
        """``SOURCE/PATH`` of a path of this filesystem."""
        path = self._strip_protocol(path)
        return f"{self.source}/{path}" if self.source else path

    def _name(self, source: str, inner: str) -> str:
        return inner if self.source else f"{source}/{inner}".rstrip("/")

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> builtins.list[Any]:
        full = self.full(path).strip("/")
        if not full:
            found = [{"name": s["name"], "type": "directory", "size": 0, **s}
                     for s in self.client.sources()]  # fmt: skip
        else:
            source, _ = split(full)
            found = [self._info(source, e) for e in self.client.ls(full)]
        return found if detail else [f["name"] for f in found]

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        full = self.full(path).strip("/")
        if not full:
            return {"name": "", "type": "directory", "size": 0}
        source, inner = split(full)
        try:
            if not inner:
                return {**self.client.source(source), "name": self._name(source, ""),
                        "type": "directory", "size": 0}  # fmt: skip
            if self.client.kind(source) == "s3":  # one call signs the read and sizes it
                with contextlib.suppress(SourceError):  # not a file: stat says what it is
                    return {"name": self._name(source, inner), "path": inner, "kind": "file",
                            "type": "file", "size": self.client.size(full)}  # fmt: skip
            try:
                return self._info(source, self.client.stat(full))
            except SourceError as e:
                # An object store has no folders: a prefix with objects below it is one.
                if e.status != 404 or not self.client.ls(f"{full}/"):
                    raise
                return {"name": self._name(source, inner), "type": "directory", "size": 0}
        except SourceError as e:
            if e.status == 404:
                raise FileNotFoundError(f"{full}: {e.message}") from None
            raise

    def _info(self, source: str, entry: Mapping[str, Any]) -> dict[str, Any]:
        kind = "directory" if entry["kind"] in ("dir", "schema") else "file"
        return {**entry, "name": self._name(source, entry["path"]), "type": kind,
                "size": entry.get("size")}  # fmt: skip

    def _open(
        self,
        path: str,
        mode: str = "rb",
        block_size: int | None = None,
        autocommit: bool = True,
        cache_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> SourceFile:
        if mode != "rb":
            raise ValueError(f"sources are opened for reading ('rb'), not {mode!r}")
        return SourceFile(
            self,
            self._strip_protocol(path),
            mode,
            block_size=block_size or BLOCK_SIZE,
            cache_options=cache_options,
            size=self.client.size(self.full(path)),
        )


fsspec.register_implementation(PROTOCOL, LabworksFileSystem, clobber=True)


def frame(answer: Mapping[str, Any]) -> pd.DataFrame:
    """The DataFrame of a query's answer, each column typed from its database type:
    integers as nullable Int64, floats and decimals as float64, booleans as nullable boolean,
    timestamps as datetime64 (UTC when they carry a zone), dates as datetime64, bytes
    decoded; other types as pandas infers them."""
    import pandas as pd

    columns = answer["columns"]
    rows = answer["rows"]
    series = {i: _column(pd, [r[i] for r in rows], c["type"]) for i, c in enumerate(columns)}
    result = pd.DataFrame(series, index=pd.RangeIndex(len(rows)))
    result.columns = [c["name"] for c in columns]
    return result


INTEGER = re.compile(r"(small|big)?int(eger|[248])?|u?int(8|16|32|64)|(small|big)?serial")
FLOAT = re.compile(r"real|double( precision)?|float[248]?|float(16|32|64)|halffloat")


def _column(pd: Any, values: builtins.list[Any], kind: str) -> Any:
    kind = kind.lower().strip()
    if INTEGER.fullmatch(kind):
        return pd.array(values, dtype="Int64")
    if FLOAT.fullmatch(kind) or kind.startswith(("numeric", "decimal")):
        return pd.array([None if v is None else float(v) for v in values], dtype="float64")
    if kind in ("boolean", "bool"):
        return pd.array(values, dtype="boolean")
    if kind.startswith("timestamp"):
        zoned = "with time zone" in kind or kind == "timestamptz" or "tz=" in kind
        return pd.to_datetime(pd.Series(values, dtype=object), utc=zoned, format="ISO8601")
    if kind == "date" or kind.startswith("date32") or kind.startswith("date64"):
        return pd.to_datetime(pd.Series(values, dtype=object), format="ISO8601")
    if kind in ("bytea", "binary", "large_binary"):
        return pd.Series([None if v is None else base64.b64decode(v) for v in values], dtype=object)
    return pd.Series(values)


def _base(source: str) -> str:
    if not NAME.match(source):
        raise SourceError(f"not a source name: {source!r} (lowercase a-z, 0-9, ._-)")
    return f"sources/{source}"


def _ranged(response: urllib3.BaseHTTPResponse, start: int, end: int) -> bytes:
    """The bytes of a range answer; a server that ignored the range sent all of them."""
    if response.status == 206:
        return response.data
    return response.data[start:end]


def _message(response: urllib3.BaseHTTPResponse) -> str:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    return f"{response.status} {response.reason}"


# --- the module's functions: Client.from_env() -----------------------------------------


def list() -> builtins.list[dict[str, Any]]:
    """Every source, with your ``access`` to it (none, read, write, owner)."""
    return Client.from_env().sources()


def ls(path: str) -> builtins.list[dict[str, Any]]:
    """The entries one level below ``SOURCE/PREFIX``."""
    return Client.from_env().ls(path)


def open(path: str, mode: str = "rb", block_size: int | None = None) -> SourceFile:
    """``SOURCE/PATH`` opened for binary reading: seekable, read in ranges."""
    return Client.from_env().open(path, mode, block_size)


def fs(source: str) -> LabworksFileSystem:
    """An fsspec filesystem whose paths are inside `source`."""
    return LabworksFileSystem(source)


def read_table(source: str, table: str, limit: int = 1000) -> pd.DataFrame:
    """The first `limit` rows of table ``schema.table`` of a database source."""
    return Client.from_env().read_table(source, table, limit)


def read_sql(source: str, sql: str, limit: int = 1000) -> pd.DataFrame:
    """The first `limit` rows of a read-only query on a database source."""
    return Client.from_env().read_sql(source, sql, limit)


def preview(path: str, limit: int = 20) -> dict[str, Any]:
    """The platform's bounded preview of ``SOURCE/PATH`` or ``SOURCE/schema.table``."""
    return Client.from_env().preview(path, limit)


def request_access(source: str, reason: str = "", write: bool = False) -> dict[str, Any]:
    """Ask the owner of `source` for read (or, with `write`, write) access."""
    return Client.from_env().request_access(source, reason, write)
