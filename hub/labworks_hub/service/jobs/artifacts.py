"""Where job outputs live: output notebooks and logs, per run and attempt, behind fsspec; dataset
files live here too (`datasets/<owner>/<name>/blobs/<sha256>`, routers/datasets.py).

The embedded default is a directory in the state directory; production points `url` at an
object store (`s3://bucket/prefix`, with `storage_options` for the endpoint and credentials;
install s3fs). Keys are relative paths such as `runs/<run id>/1/output.ipynb`.
"""

from __future__ import annotations

import contextlib
import shutil
from typing import IO, Any

import fsspec
from fsspec.core import url_to_fs
from traitlets import Dict, Integer, Unicode, default
from traitlets.config import LoggingConfigurable

COPY_CHUNK = 4 * 2**20  # bytes read at a time when copying a file in


class ArtifactError(Exception):
    """The artifact store cannot be read or written; the message has no credentials."""


def run_key(run_id: str, attempt: int, name: str) -> str:
    return f"runs/{run_id}/{attempt}/{name}"


class ArtifactStore(LoggingConfigurable):
    """Objects under one fsspec URL. Methods are blocking (call them off the event loop);
    thread-safe as far as the fsspec filesystem is (the local and S3 ones are)."""

    url = Unicode(
        help="fsspec URL of the artifact root, e.g. s3://labworks-artifacts/jobs (default:"
        " <state dir>/jobs/artifacts)."
    ).tag(config=True)
    storage_options = Dict(
        help="fsspec options of that filesystem (S3: endpoint_url, key, secret, ...)."
    ).tag(config=True)
    max_blob_size = Integer(
        5 * 2**30, help="Largest dataset file (blob) one upload may hold, in bytes (413 above)."
    ).tag(config=True)

    state_dir = Unicode(help="The platform's state directory (default: its parent's, or '.').")

    @default("state_dir")
    def _default_state_dir(self) -> str:
        return str(getattr(self.parent, "state_dir", "."))

    @default("url")
    def _default_url(self) -> str:
        return f"{self.state_dir}/jobs/artifacts"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        try:
            self.fs, self.root = url_to_fs(self.url, **self.storage_options)
        except (ImportError, ValueError) as e:
            raise ArtifactError(f"cannot use artifact store {self.url!r}: {e}") from None
        self.root = self.root.rstrip("/")
        self.local = "file" in _protocols(self.fs)

    def __repr__(self) -> str:
        return f"ArtifactStore({self.url!r})"

    def path(self, key: str) -> str:
        return f"{self.root}/{key.lstrip('/')}"

    def uri(self, key: str) -> str:
        """The full URL of `key`, for a process that opens it itself (a Kubernetes pod)."""
        return self.fs.unstrip_protocol(self.path(key))

    def put(self, key: str, data: bytes) -> None:
        path = self.path(key)
        try:
            if self.local:
                self.fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
            self.fs.pipe_file(path, data)
        except OSError as e:
            raise ArtifactError(f"cannot write {key} to the artifact store: {e}") from None

    def put_file(self, key: str, source: str | IO[bytes]) -> None:
        """Copy a file into `key`: the platform's own file at a path, or a file already open
        (read to its end). A file a user can write is passed open (labworks_hub.userfiles),
        never by path, so no link in it is followed here."""
        path = self.path(key)
        try:
            if self.local:
                self.fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
            with contextlib.ExitStack() as stack:
                if isinstance(source, str):
                    source = stack.enter_context(open(source, "rb"))
                out = stack.enter_context(self.fs.open(path, "wb"))
                shutil.copyfileobj(source, out, COPY_CHUNK)
        except OSError as e:
            raise ArtifactError(f"cannot copy {key} to the artifact store: {e}") from None

    def get(self, key: str) -> bytes | None:
        """The object, or None when there is none."""
        try:
            return self.fs.cat_file(self.path(key))
        except FileNotFoundError:
            return None
        except OSError as e:
            raise ArtifactError(f"cannot read {key} from the artifact store: {e}") from None

    def read_from(self, key: str, offset: int, limit: int) -> bytes | None:
        """Up to `limit` bytes from `offset`; None when the object does not exist."""
        try:
            size = self.fs.size(self.path(key))
            if offset >= size:
                return b""
            return self.fs.cat_file(self.path(key), start=offset, end=min(size, offset + limit))
        except FileNotFoundError:
            return None
        except OSError as e:
            raise ArtifactError(f"cannot read {key} from the artifact store: {e}") from None

    def open(self, key: str) -> tuple[IO[bytes], int] | None:
        """The object opened for reading, with its size; None when it does not exist."""
        path = self.path(key)
        try:
            size = int(self.fs.size(path))
            return self.fs.open(path, "rb"), size
        except FileNotFoundError:
            return None
        except OSError as e:
            raise ArtifactError(f"cannot read {key} from the artifact store: {e}") from None

    def sizes(self, prefix: str) -> dict[str, int]:
        """Name -> size of the objects right under `prefix` (none when there is none)."""
        path = self.path(prefix)
        try:
            self.fs.invalidate_cache(path)  # S3 listings are cached; blobs come and go
            found = self.fs.ls(path, detail=True)
        except FileNotFoundError:
            return {}
        except OSError as e:
            raise ArtifactError(f"cannot list {prefix} in the artifact store: {e}") from None
        return {
            entry["name"].rstrip("/").rsplit("/", 1)[-1]: int(entry.get("size") or 0)
            for entry in found
            if entry.get("type") == "file" and entry["name"].rstrip("/") != path
        }

    def exists(self, key: str) -> bool:
        try:
            return bool(self.fs.exists(self.path(key)))
        except OSError as e:
            raise ArtifactError(f"cannot reach the artifact store: {e}") from None

    def delete_prefix(self, prefix: str) -> None:
        path = self.path(prefix)
        try:
            if self.fs.exists(path):
                self.fs.rm(path, recursive=True)
        except OSError as e:
            raise ArtifactError(f"cannot delete {prefix} from the artifact store: {e}") from None


def _protocols(fs: fsspec.AbstractFileSystem) -> tuple[str, ...]:
    protocol = fs.protocol
    return (protocol,) if isinstance(protocol, str) else tuple(protocol)
