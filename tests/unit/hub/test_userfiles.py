"""Reading a folder a user can write, as root: every shape a user can give a file name there
(a link to a root-only file, a hard link, a FIFO, a device, a folder, a file of someone else,
a file that grows) is refused, and a plain file of the folder's owner is read."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from pathlib import Path

import pytest

from labworks_hub.isolation import NOBODY
from labworks_hub.userfiles import RefusedFile, UserFolder, find_folder

SECRET = b"root-only secret 7f3a"
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (files of other users)")


@pytest.fixture
def tree():
    """`secret` (root, 0600) beside `user/`, a folder of nobody's with a plain file of its own."""
    base = Path(tempfile.mkdtemp(prefix="lw-userfiles-", dir="/tmp"))
    secret = base / "secret"
    secret.write_bytes(SECRET)
    secret.chmod(0o600)
    user = base / "user"
    user.mkdir()
    (user / "plain.txt").write_bytes(b"0123456789")
    if os.geteuid() == 0:
        for path in (user, user / "plain.txt"):
            os.chown(path, NOBODY, NOBODY)
    yield base, user
    shutil.rmtree(base)


def test_a_plain_file_of_the_owner_is_read_in_parts(tree):
    _, user = tree
    with UserFolder(user) as folder:
        assert folder.read("plain.txt") == b"0123456789"
        assert folder.read("plain.txt", offset=3, limit=4) == b"3456"
        assert folder.read("plain.txt", offset=8, max_size=10) == b"89"
        with folder.open("plain.txt") as f:
            assert f.read() == b"0123456789"
        with pytest.raises(FileNotFoundError):
            folder.read("missing")
        for name in ("../secret", ".", "..", ""):
            with pytest.raises(ValueError, match="not a file name"):
                folder.read(name)


def test_a_link_to_a_root_only_file_is_refused_not_followed(tree):
    base, user = tree
    (user / "log.txt").symlink_to(base / "secret")
    with UserFolder(user) as folder, pytest.raises(RefusedFile, match="is a symbolic link"):
        folder.read("log.txt")


def test_a_folder_that_is_a_link_is_refused(tree):
    base, _ = tree
    (base / "linked").symlink_to(base)
    with pytest.raises(RefusedFile, match="is not a folder"):
        UserFolder(base / "linked")


@as_root
def test_a_hard_link_to_someone_elses_file_is_refused(tree):
    base, user = tree
    os.link(base / "secret", user / "output.ipynb")  # what protected_hardlinks=0 allows a user
    with UserFolder(user) as folder, pytest.raises(RefusedFile, match="belongs to uid 0"):
        folder.read("output.ipynb")


@as_root
def test_a_hard_link_even_to_the_users_own_file_is_refused(tree):
    _, user = tree
    os.link(user / "plain.txt", user / "twice.txt")
    with UserFolder(user) as folder, pytest.raises(RefusedFile, match="has 2 links"):
        folder.read("twice.txt")


def test_a_fifo_is_refused_at_once_without_blocking(tree: tuple[Path, Path]) -> None:
    _, user = tree
    os.mkfifo(user / "output.ipynb")
    done: list[BaseException] = []

    def read() -> None:
        try:
            with UserFolder(user) as folder:
                folder.read("output.ipynb")
        except RefusedFile as e:
            done.append(e)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(10)  # a plain open() of a FIFO with no writer blocks forever
    assert not reader.is_alive(), "reading a FIFO blocked"
    assert "is not a regular file" in str(done[0])


def test_a_folder_is_refused(tree):
    _, user = tree
    (user / "sub").mkdir()
    with UserFolder(user) as folder, pytest.raises(RefusedFile, match="is not a regular file"):
        folder.read("sub")


@as_root
def test_a_device_node_in_the_folder_is_refused(tree):
    _, user = tree
    os.mknod(user / "null", 0o600 | 0o020000, os.makedev(1, 3))  # a character device
    os.chown(user / "null", NOBODY, NOBODY)
    with UserFolder(user) as folder, pytest.raises(RefusedFile, match="is not a regular file"):
        folder.read("null")


@as_root
def test_a_file_of_another_owner_is_refused(tree):
    _, user = tree
    (user / "root.txt").write_bytes(b"made by root")
    with UserFolder(user) as folder, pytest.raises(RefusedFile, match="not 65534"):
        folder.read("root.txt")


def test_a_small_file_is_refused_when_larger_than_its_cap(tree):
    _, user = tree
    with UserFolder(user) as folder:
        with pytest.raises(RefusedFile, match="more than 4 bytes"):
            folder.read("plain.txt", max_size=4)
        assert folder.read("plain.txt", max_size=10) == b"0123456789"


def test_find_folder_walks_real_folders_only(tree):
    base, user = tree
    (user / "a" / "b").mkdir(parents=True)
    (user / "out").symlink_to(base)
    (user / "a" / "file").write_text("x")
    assert find_folder(user, "a/b") == user / "a" / "b"
    assert find_folder(user, "") == user
    assert find_folder(user, "./a") == user / "a"
    for refused in ("out", "out/user", "a/../a", "/tmp", "a/file", "a/missing"):
        assert find_folder(user, refused) is None, refused


@as_root
def test_files_of_a_named_owner_in_a_folder_of_another(tree):
    """The launcher's attempt folder is root's, the log in it the platform account's: a reader
    names the owner its files must have; anyone else's file there is refused."""
    base, _ = tree
    (base / "log.txt").write_bytes(b"job output")
    os.chown(base / "log.txt", NOBODY, NOBODY)
    with UserFolder(base, owner=NOBODY) as folder:
        assert folder.read("log.txt") == b"job output"
        with pytest.raises(RefusedFile, match="belongs to uid 0"):
            folder.read("secret")
    with UserFolder(base) as folder, pytest.raises(RefusedFile, match=f"belongs to uid {NOBODY}"):
        folder.read("log.txt")
