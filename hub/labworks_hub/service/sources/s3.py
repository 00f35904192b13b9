"""A data source in an S3 bucket (or under a prefix of it), through s3fs."""

from __future__ import annotations

import builtins
import re
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO, Any, BinaryIO

from labworks_hub.service.access import Invalid, NotFound, Unavailable
from labworks_hub.service.sources.base import (
    CHUNK,
    MAX_LIST,
    MAX_WALK,
    Entries,
    Entry,
    NoTables,
    copy_bounded,
)
from labworks_hub.service.sources.paths import clean_path, folder_prefix, join_prefix


class S3Backend(NoTables):
    """A bucket, or the part of it under a prefix, through s3fs. Keys are always the prefix and
    a cleaned path, so nothing outside the prefix is reachable. Without keys the bucket is read
    anonymously: the platform's own credentials (environment, instance role) are never used.
    Presigned URLs are SigV4."""

    kind = "s3"

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        session_token: str | None = None,
        *,
        connect_timeout: float = 5,
        read_timeout: float = 30,
    ) -> None:
        import s3fs

        if not bucket or not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,62}", bucket):
            raise Invalid(f"not an S3 bucket name: {bucket!r}")
        self.bucket = bucket
        self.prefix = folder_prefix(prefix)
        self.endpoint = endpoint_url or "https://s3.amazonaws.com"
        config = {
            "connect_timeout": connect_timeout,
            "read_timeout": read_timeout,
            "retries": {"max_attempts": 2, "mode": "standard"},
            "signature_version": "s3v4",
        }
        self.fs = s3fs.S3FileSystem(
            anon=not access_key_id,
            key=access_key_id or None,
            secret=secret_access_key or None,
            token=session_token or None,
            endpoint_url=endpoint_url or None,
            client_kwargs={"region_name": region or "us-east-1"},
            config_kwargs=config,
            default_block_size=CHUNK,
            skip_instance_cache=True,
            use_listings_cache=False,
        )
        self.fs.retries = 2  # s3fs's own retries, on top of botocore's

    def _key(self, path: str) -> str:
        return join_prefix(self.prefix, clean_path(path))

    def _call(self, what: str, method: str, **kwargs: Any) -> dict:
        try:
            return self.fs.call_s3(method, Bucket=self.bucket, **kwargs)
        except Exception as e:
            raise self._refusal(what, e) from None

    def _refusal(self, what: str, e: Exception) -> Exception:
        import botocore.exceptions

        if isinstance(e, FileNotFoundError):
            if "bucket" in str(e).lower():
                return Invalid(f"no bucket {self.bucket} at {self.endpoint}")
            return NotFound(f"no {what} in this source")
        if isinstance(e, PermissionError):
            return Invalid(f"the source's credentials may not read {what}: {e}")
        if isinstance(e, botocore.exceptions.BotoCoreError | TimeoutError | ConnectionError):
            return Unavailable(
                f"the S3 endpoint {self.endpoint} did not answer ({type(e).__name__})"
            )
        return Unavailable(f"the S3 endpoint {self.endpoint} refused {what}: {e}")

    def check(self) -> None:
        self._call(f"the bucket {self.bucket}", "list_objects_v2", Prefix=self.prefix, MaxKeys=1)

    def _file(self, path: str, item: dict) -> Entry:
        modified = item.get("LastModified")
        return Entry(path, "file", size=item.get("Size"), modified=_utc(modified))

    def list(self, prefix: str, limit: int = MAX_LIST) -> Entries:
        key = self._key(prefix)
        key = f"{key}/" if key and not key.endswith("/") else key
        answer = self._call(
            prefix or "the root", "list_objects_v2",
            Prefix=key, Delimiter="/", MaxKeys=min(limit, MAX_LIST),
        )  # fmt: skip
        strip = len(self.prefix)
        entries = [
            Entry(p["Prefix"][strip:].rstrip("/"), "dir")
            for p in answer.get("CommonPrefixes") or []
        ]
        entries += [
            self._file(item["Key"][strip:], item)
            for item in answer.get("Contents") or []
            if not item["Key"].endswith("/")  # a folder marker of some clients
        ]
        entries.sort(key=lambda e: e.path)
        return entries[:limit], bool(answer.get("IsTruncated")) or len(entries) > limit

    def stat(self, path: str) -> Entry:
        if not path:
            return Entry("", "dir")
        key = self._key(path)
        try:
            info = self.fs.info(f"{self.bucket}/{key}")
        except Exception as e:
            raise self._refusal(path, e) from None
        if info.get("type") == "directory":
            return Entry(path, "dir")
        return Entry(path, "file", size=info.get("size"), modified=_utc(info.get("LastModified")))

    def open(self, path: str) -> BinaryIO:
        if self.stat(path).kind != "file":
            raise Invalid(f"{path} is a folder: list it")
        key = self._key(path)
        try:
            return self.fs.open(f"{self.bucket}/{key}", "rb")
        except Exception as e:
            raise self._refusal(path, e) from None

    def walk(self, prefix: str, max_files: int = MAX_WALK) -> Iterator[Entry]:
        key = self._key(prefix)
        top = self.stat(prefix) if prefix else Entry("", "dir")
        if top.kind == "file":
            return iter([top])
        key = f"{key}/" if key else key
        found: builtins.list[Entry] = []
        token: dict[str, str] = {}
        while True:
            answer = self._call(
                prefix or "the root", "list_objects_v2", Prefix=key, MaxKeys=MAX_LIST, **token
            )
            for item in answer.get("Contents") or []:
                if not item["Key"].endswith("/"):
                    found.append(self._file(item["Key"][len(self.prefix) :], item))
            if len(found) > max_files:
                raise Invalid(f"more than {max_files} files under {prefix or 'the root'}")
            if not answer.get("IsTruncated"):
                return iter(sorted(found, key=lambda e: e.path))
            token = {"ContinuationToken": answer["NextContinuationToken"]}

    def presign(self, path: str, expires: int) -> str:
        key = self._key(path)
        try:
            return self.fs.sign(f"{self.bucket}/{key}", expiration=expires)
        except Exception as e:
            raise self._refusal(path, e) from None

    def write(self, path: str, stream: IO[bytes], max_bytes: int) -> int:
        """The bytes are spooled (memory, then a temporary file) up to `max_bytes` first, so an
        upload over the limit never starts."""
        key = self._key(path)
        if not path:
            raise Invalid("name a file to write")
        with tempfile.SpooledTemporaryFile(max_size=8 * CHUNK) as spool:
            size = copy_bounded(stream, spool, max_bytes, path)
            spool.seek(0)
            try:
                with self.fs.open(f"{self.bucket}/{key}", "wb", block_size=5 * CHUNK) as out:
                    shutil.copyfileobj(spool, out, CHUNK)
            except Exception as e:
                raise self._refusal(path, e) from None
        return size

    def close(self) -> None:
        pass


def _utc(value: Any) -> datetime | None:
    return value.astimezone(UTC) if isinstance(value, datetime) else None
