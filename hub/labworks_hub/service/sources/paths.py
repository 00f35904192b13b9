"""The one check of a path inside a data source.

A path names an object under a source's root (a folder, a bucket's prefix) or a table; it
comes from a client, so it is checked here before any backend sees it: no absolute path, no
`..`, no NUL, no backslash, no percent-encoded dot, slash or backslash (a proxy or a client
library may decode them later). Empty and `.` components are dropped, so `a//b/./c/` is
`a/b/c`; the root is ''.
"""

from __future__ import annotations

import re

from labworks_hub.service.access import Invalid

__all__ = ["MAX_PATH_BYTES", "clean_path", "folder_prefix", "join_prefix"]

MAX_PATH_BYTES = 1024  # an S3 key's limit
_ENCODED = re.compile(r"%(2e|2f|5c)", re.IGNORECASE)


def clean_path(text: str) -> str:
    """`text` as a relative POSIX path ('' is the root of the source).

    Raises:
        Invalid: naming the path and what is wrong with it.
    """
    if "\x00" in text:
        raise Invalid(f"bad path {text!r}: it holds a NUL character")
    if "\\" in text:
        raise Invalid(f"bad path {text!r}: use / between folders, not a backslash")
    if _ENCODED.search(text):
        raise Invalid(f"bad path {text!r}: an encoded '.', '/' or '\\' is not allowed")
    if text.startswith("/"):
        raise Invalid(f"bad path {text!r}: a path in a source is relative to its root")
    parts = [part for part in text.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise Invalid(f"bad path {text!r}: '..' is not allowed")
    path = "/".join(parts)
    if len(path.encode()) > MAX_PATH_BYTES:
        raise Invalid(f"bad path {text[:80]!r}...: longer than {MAX_PATH_BYTES} bytes")
    return path


def join_prefix(prefix: str, path: str) -> str:
    """`path` (cleaned) under `prefix` (cleaned, a folder: '' or ending in '/'): an S3 key
    that cannot leave the prefix."""
    return f"{prefix}{path}" if path else prefix


def folder_prefix(text: str | None) -> str:
    """A source's configured prefix as `join_prefix` takes it: '' or `a/b/` (a leading slash
    is dropped: it is the bucket's root)."""
    path = clean_path((text or "").lstrip("/"))
    return f"{path}/" if path else ""
