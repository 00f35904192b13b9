"""Reading files from a tree a user can write, as a privileged process.

The rule: a privileged process (the platform service runs as root where isolation is on) never
follows a path that a user can write. A folder that a user's processes write in (a job's
`job/` folder) is opened once, with O_DIRECTORY | O_NOFOLLOW, through a path the user cannot
change (every parent belongs to the platform), so the folder's owner is that user. A file in
it is then opened by its single name under that descriptor, with O_NOFOLLOW (a symbolic link
is refused, not followed) and O_NONBLOCK (a FIFO cannot hang the reader), and kept only when
fstat says it is a regular file, owned by the folder's owner, with one link (a hard link may
name someone else's file). Everything after that reads the open file, never the path again.

A refused file raises `RefusedFile`; a missing one FileNotFoundError.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

__all__ = ["RefusedFile", "UserFolder", "find_folder"]

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC


class RefusedFile(Exception):
    """A file a privileged process must not read: a link, not a plain file, not the user's,
    or larger than allowed. The message names the file and why."""


class UserFolder:
    """A folder a user can write, opened once; files are opened under its descriptor.

    Use it as a context manager. Not thread-safe; one per reader.
    """

    def __init__(self, path: str | os.PathLike[str], owner: int | None = None) -> None:
        """`owner`: the uid the files must belong to (default: the folder's owner)."""
        self.path = Path(path)
        try:
            self.fd = os.open(self.path, _DIR_FLAGS)
        except OSError as e:
            if e.errno in (errno.ELOOP, errno.ENOTDIR):
                raise RefusedFile(f"{self.path} is not a folder (a link or a file)") from None
            raise
        self.owner = os.fstat(self.fd).st_uid if owner is None else owner

    def __enter__(self) -> UserFolder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def open(self, name: str, max_size: int | None = None) -> BinaryIO:
        """`name` (one name, no slash) opened for reading, once it passed every check."""
        if not name or "/" in name or name in (".", ".."):
            raise ValueError(f"not a file name: {name!r}")
        where = self.path / name
        try:
            fd = os.open(name, _FILE_FLAGS, dir_fd=self.fd)
        except OSError as e:
            if e.errno == errno.ELOOP:
                raise RefusedFile(f"{where} is a symbolic link") from None
            raise
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise RefusedFile(f"{where} is not a regular file")
            if info.st_uid != self.owner:
                raise RefusedFile(f"{where} belongs to uid {info.st_uid}, not {self.owner}")
            if info.st_nlink != 1:
                raise RefusedFile(f"{where} has {info.st_nlink} links")
            if max_size is not None and info.st_size > max_size:
                raise RefusedFile(f"{where} holds more than {max_size} bytes")
            os.set_blocking(fd, True)
            return os.fdopen(fd, "rb")
        except BaseException:
            os.close(fd)
            raise

    def read(
        self, name: str, offset: int = 0, limit: int | None = None, max_size: int | None = None
    ) -> bytes:
        """Up to `limit` bytes (None: all) of `name` from `offset`; RefusedFile when the file is
        larger than `max_size`, even if it grew after it was opened."""
        with self.open(name, max_size) as f:
            if max_size is None:
                f.seek(offset)
                return f.read(-1 if limit is None else limit)
            data = f.read(max_size + 1)
        if len(data) > max_size:
            raise RefusedFile(f"{self.path / name} holds more than {max_size} bytes")
        return data[offset:] if limit is None else data[offset : offset + limit]


def find_folder(root: Path, relative: str) -> Path | None:
    """`root / relative` when every part of `relative` is a real folder (no link, no `..`),
    checked under descriptors from `root` down; else None. `root` is the platform's own path."""
    parts = [p for p in relative.split("/") if p not in ("", ".")]
    if relative.startswith("/") or ".." in parts:
        return None
    try:
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        for part in parts:
            inner = os.open(part, _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = inner
    except OSError:
        return None
    finally:
        os.close(fd)
    return root.joinpath(*parts)
