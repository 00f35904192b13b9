"""A data source in a folder on the platform host (local or NFS)."""

from __future__ import annotations

import builtins
import errno
import os
import secrets
import stat as st
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO, BinaryIO

from labworks_hub.service.access import Invalid, NotFound, Unavailable
from labworks_hub.service.sources.base import (
    MAX_LIST,
    MAX_WALK,
    Entries,
    Entry,
    NoTables,
    copy_bounded,
)
from labworks_hub.service.sources.paths import clean_path

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC


class FolderBackend(NoTables):
    """A directory on the platform host (local or NFS) that users may write.

    The platform never follows a symbolic link in it: every folder is opened by its single name
    under its parent's descriptor (from the root's down) with O_NOFOLLOW, files likewise, and
    only regular files are read (O_NONBLOCK, so a FIFO cannot hang the reader). Links and
    special files are left out of listings and refused by name. Hard links are not refused: a
    user can only link what they could reach, and the platform's own files are under 0700
    folders. The root itself is the administrator's choice and may be a link.
    """

    kind = "folder"

    def __init__(self, root: str) -> None:
        if not root or not os.path.isabs(root):
            raise Invalid(f"a folder source needs an absolute path, not {root!r}")
        self.root = os.path.normpath(root)

    def check(self) -> None:
        os.close(self._root_fd())

    def _root_fd(self) -> int:
        try:
            return os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except (FileNotFoundError, NotADirectoryError):
            raise Invalid(f"the folder {self.root} does not exist") from None
        except PermissionError:
            raise Invalid(f"the platform may not read the folder {self.root}") from None
        except OSError as e:
            raise Unavailable(f"the folder {self.root} cannot be opened: {e.strerror}") from None

    def _dir_fd(self, path: str) -> int:
        """A descriptor of the folder `path`, opened component by component without links."""
        fd = self._root_fd()
        done: builtins.list[str] = []
        try:
            for part in path.split("/") if path else []:
                done.append(part)
                try:
                    inner = os.open(part, _DIR_FLAGS, dir_fd=fd)
                except OSError as e:
                    raise self._refusal("/".join(done), e, "folder") from None
                os.close(fd)
                fd = inner
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _refusal(self, path: str, e: OSError, what: str) -> Exception:
        if e.errno == errno.ENOENT:
            return NotFound(f"no {what} {path} in this source")
        if e.errno in (errno.ELOOP, errno.ENOTDIR):
            return Invalid(
                f"{path} is a symbolic link or not a {what}: a folder source never follows links"
            )
        if e.errno in (errno.EACCES, errno.EPERM):
            return Invalid(f"the platform may not read {path}")
        return Unavailable(f"{path} cannot be read: {e.strerror}")

    def _parent(self, path: str) -> tuple[int, str]:
        if not path:
            raise Invalid("name a file, not the root of the source")
        parent, _, name = path.rpartition("/")
        return self._dir_fd(parent), name

    def _entry(self, path: str, info: os.stat_result) -> Entry | None:
        modified = datetime.fromtimestamp(info.st_mtime, UTC)
        if st.S_ISDIR(info.st_mode):
            return Entry(path, "dir", modified=modified)
        if st.S_ISREG(info.st_mode):
            return Entry(path, "file", size=info.st_size, modified=modified)
        return None  # links, FIFOs, devices, sockets

    def list(self, prefix: str, limit: int = MAX_LIST) -> Entries:
        prefix = clean_path(prefix)  # again: a '..' here would leave the root
        fd = self._dir_fd(prefix)
        try:
            with os.scandir(fd) as it:
                names = sorted(e.name for e in it if not e.is_symlink())
            entries = []
            for name in names:
                try:
                    info = os.stat(name, dir_fd=fd, follow_symlinks=False)
                except FileNotFoundError:
                    continue
                entry = self._entry(f"{prefix}/{name}" if prefix else name, info)
                if entry is not None:
                    entries.append(entry)
                    if len(entries) > limit:
                        return entries[:limit], True
            return entries, False
        finally:
            os.close(fd)

    def stat(self, path: str) -> Entry:
        path = clean_path(path)  # again: a '..' here would leave the root
        if not path:
            return Entry("", "dir")
        fd, name = self._parent(path)
        try:
            info = os.stat(name, dir_fd=fd, follow_symlinks=False)
        except OSError as e:
            raise self._refusal(path, e, "file") from None
        finally:
            os.close(fd)
        entry = self._entry(path, info)
        if entry is None:
            raise Invalid(f"{path} is a symbolic link or a special file: it cannot be read")
        return entry

    def open(self, path: str) -> BinaryIO:
        path = clean_path(path)  # again: a '..' here would leave the root
        fd, name = self._parent(path)
        try:
            file = os.open(name, _FILE_FLAGS, dir_fd=fd)
        except OSError as e:
            raise self._refusal(path, e, "file") from None
        finally:
            os.close(fd)
        try:
            mode = os.fstat(file).st_mode
            if st.S_ISDIR(mode):
                raise Invalid(f"{path} is a folder: list it")
            if not st.S_ISREG(mode):
                raise Invalid(f"{path} is a special file, not a regular file: it cannot be read")
            os.set_blocking(file, True)
            return os.fdopen(file, "rb")
        except BaseException:
            os.close(file)
            raise

    def walk(self, prefix: str, max_files: int = MAX_WALK) -> Iterator[Entry]:
        prefix = clean_path(prefix)  # again: a '..' here would leave the root
        top = self.stat(prefix)
        if top.kind == "file":
            return iter([top])
        found: builtins.list[Entry] = []
        folders = [prefix]
        while folders:
            folder = folders.pop()
            for entry in self.list(folder, limit=max_files + 1)[0]:
                if entry.kind == "dir":
                    folders.append(entry.path)
                    continue
                found.append(entry)
                if len(found) > max_files:
                    raise Invalid(f"more than {max_files} files under {prefix or 'the root'}")
        return iter(sorted(found, key=lambda e: e.path))

    def presign(self, path: str, expires: int) -> str:
        raise Invalid("a folder source has no URLs: read it through /objects")

    def write(self, path: str, stream: IO[bytes], max_bytes: int) -> int:
        """Written to a new file beside the target, then renamed over it (mode 0640): a reader
        sees the old bytes or the new ones. Missing folders are made (0750)."""
        path = clean_path(path)
        parent, _, name = path.rpartition("/")
        if not name:
            raise Invalid("name a file to write")
        fd = self._root_fd()
        try:
            for part in parent.split("/") if parent else []:
                try:
                    os.mkdir(part, 0o750, dir_fd=fd)
                except FileExistsError:
                    pass
                except OSError as e:
                    raise self._refusal(parent, e, "folder") from None
                try:
                    inner = os.open(part, _DIR_FLAGS, dir_fd=fd)
                except OSError as e:
                    raise self._refusal(parent, e, "folder") from None
                os.close(fd)
                fd = inner
            return self._replace(fd, name, path, stream, max_bytes)
        finally:
            os.close(fd)

    def _replace(self, fd: int, name: str, path: str, stream: IO[bytes], max_bytes: int) -> int:
        partial = f".{name[:200]}.{secrets.token_hex(6)}.part"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            out = os.open(partial, flags, 0o640, dir_fd=fd)
        except OSError as e:
            raise self._refusal(path, e, "folder") from None
        try:
            with os.fdopen(out, "wb") as f:
                os.fchmod(f.fileno(), 0o640)
                size = copy_bounded(stream, f, max_bytes, path)
                f.flush()
                os.fsync(f.fileno())
            os.replace(partial, name, src_dir_fd=fd, dst_dir_fd=fd)
        except BaseException as e:
            os.unlink(partial, dir_fd=fd)
            if isinstance(e, IsADirectoryError):
                raise Invalid(f"{path} is a folder") from None
            raise
        return size

    def close(self) -> None:
        pass
