"""Versioned datasets: `<owner>/<name>`, each version an immutable manifest of files whose
contents are blobs addressed by sha256 (kept in the artifact store by the caller, under
`blob_prefix`).

Who may read or write what is the access layer's one rule (`Dataset.visible_to`, access.py): a
dataset is readable by its owner, by the members of its group (`group:<g>`) and by every user
when `public`; only its owner writes. A dataset the viewer may not read is reported as missing
(404), so its existence does not leak; a write to one the viewer may read is refused (403).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, cast, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, undefer

from .. import validation
from ..access import PRIVATE, Conflict, Forbidden, Invalid, NotFound, Viewer, Visibility
from .models import Dataset, DatasetVersion, utcnow

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
MAX_FILES = 10_000
MAX_PATH_CHARS = validation.MAX_PATH_CHARS
MAX_MESSAGE_CHARS = 2000
MAX_DESCRIPTION_CHARS = 2000


class MissingBlobs(Invalid):
    """A version lists files whose blobs are not uploaded (with that size)."""

    code = "missing_blobs"


class DigestMismatch(Invalid):
    """An uploaded body's sha256 is not the one it was sent as."""

    code = "digest_mismatch"


@dataclass(frozen=True)
class FileEntry:
    """One file of a manifest: where it goes in the dataset, its blob and its size."""

    path: str
    sha256: str
    size: int


def blob_prefix(owner: str, name: str) -> str:
    """The artifact-store prefix of a dataset's files; each blob is `<prefix>/<sha256>`."""
    return f"datasets/{owner}/{name}/blobs"


def dataset_prefix(owner: str, name: str) -> str:
    """The artifact-store prefix of everything a dataset holds."""
    return f"datasets/{owner}/{name}"


def check_name(name: str) -> str:
    if not NAME_RE.match(name):
        raise Invalid(
            f"invalid dataset name {name!r}: use 1-128 letters, digits, '.', '_' or '-',"
            " starting with a letter or digit"
        )
    return name


def check_sha256(value: str) -> str:
    if not SHA256_RE.match(value):
        raise Invalid(f"invalid sha256 {value!r}: expected 64 lowercase hex digits")
    return value


def check_path(path: str) -> str:
    """A relative POSIX path inside the dataset (validation.path_problem); Invalid
    otherwise."""
    problem = validation.path_problem(path)
    if problem:
        raise Invalid(f"invalid file path {path!r}: {problem}")
    return path


def check_manifest(files: Iterable[FileEntry]) -> list[FileEntry]:
    """The files sorted by path, each checked, paths unique; Invalid otherwise."""
    entries = sorted(files, key=lambda f: f.path)
    if not 1 <= len(entries) <= MAX_FILES:
        raise Invalid(f"a version holds 1 to {MAX_FILES} files, not {len(entries)}")
    previous = None
    for entry in entries:
        check_path(entry.path)
        check_sha256(entry.sha256)
        if entry.size < 0:
            raise Invalid(f"invalid size {entry.size} of {entry.path!r}")
        if entry.path == previous:
            raise Invalid(f"the file path {entry.path!r} is listed twice")
        previous = entry.path
    return entries


def manifest_digest(files: Iterable[FileEntry]) -> str:
    """`sha256:` + sha256 over the manifest sorted by path, `path\\tsha256\\tsize\\n` a file."""
    digest = hashlib.sha256()
    for entry in sorted(files, key=lambda f: f.path):
        digest.update(f"{entry.path}\t{entry.sha256}\t{entry.size}\n".encode())
    return "sha256:" + digest.hexdigest()


def list_datasets(session: Session, viewer: Viewer, owner: str | None = None) -> list[Dataset]:
    """The datasets the viewer may read, most recently updated first, optionally one owner's."""
    query = select(Dataset).where(Dataset.visible_to(viewer))
    if owner:
        query = query.where(Dataset.owner == owner)
    query = query.order_by(Dataset.updated_at.desc(), Dataset.id.desc())
    return list(session.scalars(query))


def latest_numbers(session: Session, dataset_ids: list[int]) -> dict[int, int]:
    """The latest version number of each dataset id that has a version."""
    if not dataset_ids:
        return {}
    rows = session.execute(
        select(DatasetVersion.dataset_id, func.max(DatasetVersion.number))
        .where(DatasetVersion.dataset_id.in_(dataset_ids))
        .group_by(DatasetVersion.dataset_id)
    )
    return {dataset_id: number for dataset_id, number in rows}


def get_dataset(session: Session, viewer: Viewer, owner: str, name: str) -> Dataset:
    """The dataset (its `versions` newest first); NotFound if absent or not readable."""
    found = session.scalar(
        select(Dataset).where(
            Dataset.owner == owner, Dataset.name == name, Dataset.visible_to(viewer)
        )
    )
    if found is None:
        raise NotFound(f"no dataset {owner}/{name} that you can read")
    return found


def get_version(
    session: Session, viewer: Viewer, owner: str, name: str, version: int | str
) -> DatasetVersion:
    """Version `version` (a number or `latest`) with its files; NotFound if there is none."""
    dataset = get_dataset(session, viewer, owner, name)
    query = select(DatasetVersion).options(undefer(DatasetVersion.files))
    query = query.where(DatasetVersion.dataset_id == dataset.id)
    if version == "latest":
        query = query.order_by(DatasetVersion.number.desc()).limit(1)
    else:
        query = query.where(DatasetVersion.number == int(version))
    found = session.scalar(query)
    if found is None:
        raise NotFound(f"dataset {owner}/{name} has no version {version}")
    return found


def check_owner(viewer: Viewer, owner: str, name: str) -> None:
    """Refuse (Forbidden) a push to `<owner>/<name>` by anyone but `owner`; it need not exist,
    so the answer is the same whether it does or not."""
    check_name(name)
    if not viewer.owns(owner):
        raise Forbidden(f"only {owner!r} can push to dataset {owner}/{name}")


def owned(session: Session, viewer: Viewer, owner: str, name: str) -> Dataset:
    """The viewer's own existing dataset: NotFound if not readable, Forbidden if only read."""
    dataset = get_dataset(session, viewer, owner, name)
    if not viewer.owns(dataset.owner):
        raise Forbidden(f"only {dataset.owner!r}, its owner, can change dataset {owner}/{name}")
    return dataset


def create_version(
    session: Session,
    viewer: Viewer,
    owner: str,
    name: str,
    files: Iterable[FileEntry],
    held: Mapping[str, int],
    *,
    message: str = "",
    description: str | None = None,
) -> tuple[DatasetVersion, bool]:
    """Add a version to the viewer's dataset, creating it (private) on its first version.

    `held` maps the sha256 of each blob the dataset holds to its size. Returns the version and
    whether it is new: when the manifest's digest equals the latest version's, that one is
    returned unchanged.

    Raises:
        Forbidden: the viewer is not `owner`.
        Invalid: bad name, message, description or manifest.
        MissingBlobs: a file's blob is not held, or not with that size.
        Conflict: a concurrent push won.
    """
    check_owner(viewer, owner, name)
    if len(message) > MAX_MESSAGE_CHARS:
        raise Invalid(f"the message is longer than {MAX_MESSAGE_CHARS} characters")
    if description is not None and len(description) > MAX_DESCRIPTION_CHARS:
        raise Invalid(f"the description is longer than {MAX_DESCRIPTION_CHARS} characters")
    entries = check_manifest(files)
    missing = [e for e in entries if held.get(e.sha256) != e.size]
    if missing:
        named = ", ".join(f"{e.path} ({e.sha256[:12]}, {e.size} bytes)" for e in missing[:3])
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        raise MissingBlobs(
            f"{len(missing)} file(s) are not uploaded with that size: {named}{more};"
            " upload their blobs first"
        )
    digest = manifest_digest(entries)
    dataset = session.scalar(select(Dataset).where(Dataset.owner == owner, Dataset.name == name))
    now = utcnow()
    try:
        if dataset is None:
            dataset = Dataset(owner=owner, name=name, description="", visibility=PRIVATE)
            session.add(dataset)
            session.flush()
        if description is not None:
            dataset.description = description
        latest = _latest(session, dataset.id)
        if latest is not None and latest.digest == digest:
            session.flush()
            return latest, False
        version = DatasetVersion(
            dataset_id=dataset.id,
            number=(latest.number if latest else 0) + 1,
            digest=digest,
            size=sum(e.size for e in entries),
            file_count=len(entries),
            files=[{"path": e.path, "sha256": e.sha256, "size": e.size} for e in entries],
            message=message.strip(),
            created_by=viewer.name,
            created_at=now,
        )
        session.add(version)
        dataset.updated_at = now
        session.flush()
    except IntegrityError:
        raise Conflict(
            f"dataset {owner}/{name} got a version at the same moment from another push; push again"
        ) from None
    return version, True


def set_visibility(
    session: Session, viewer: Viewer, owner: str, name: str, visibility: str
) -> Dataset:
    """Share the viewer's dataset read-only with one of their groups or everyone, or make it
    private again; NotFound, Forbidden (not the owner, or not the viewer's group) or Invalid.
    Setting the visibility it has already changes nothing."""
    dataset = owned(session, viewer, owner, name)
    wanted = Visibility.parse(visibility).settable_by(viewer).value
    if wanted != dataset.visibility:
        dataset.visibility = wanted
        dataset.updated_at = utcnow()
        session.flush()
    return dataset


def delete_dataset(session: Session, viewer: Viewer, owner: str, name: str) -> None:
    """Remove the viewer's dataset and its versions (the caller removes its blobs)."""
    session.delete(owned(session, viewer, owner, name))
    session.flush()


def listed_blob(session: Session, viewer: Viewer, owner: str, name: str, sha256: str) -> str:
    """The path of blob `sha256` in the newest version of the dataset that lists it, when the
    viewer may read the dataset; NotFound otherwise."""
    check_sha256(sha256)
    dataset = get_dataset(session, viewer, owner, name)
    # The hex digest is quoted as is in the JSON text of `files`: no need to parse each one.
    found = session.scalar(
        select(DatasetVersion)
        .where(
            DatasetVersion.dataset_id == dataset.id,
            cast(DatasetVersion.files, String).contains(f'"{sha256}"'),
        )
        .order_by(DatasetVersion.number.desc())
        .limit(1)
    )
    if found is None:
        raise NotFound(f"dataset {owner}/{name} lists no file with sha256 {sha256}")
    return next((f["path"] for f in found.files if f["sha256"] == sha256), sha256)


def describe(dataset: Dataset, viewer: Viewer, latest: int | None) -> dict[str, Any]:
    """The fields of a dataset as the API shows them (without versions)."""
    return {
        "ref": f"{dataset.owner}/{dataset.name}",
        "owner": dataset.owner,
        "name": dataset.name,
        "description": dataset.description,
        "visibility": dataset.visibility,
        "yours": viewer.owns(dataset.owner),
        "latest_version": latest,
        "created_at": dataset.created_at,
        "updated_at": dataset.updated_at,
    }


def _latest(session: Session, dataset_id: int) -> DatasetVersion | None:
    return session.scalar(
        select(DatasetVersion)
        .where(DatasetVersion.dataset_id == dataset_id)
        .order_by(DatasetVersion.number.desc())
        .limit(1)
    )
