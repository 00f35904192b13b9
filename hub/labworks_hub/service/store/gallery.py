"""The notebook gallery: notebooks published read-only to a group, as numbered versions.

Who may see what is the access layer's one rule (`GalleryEntry.visible_to`, access.py): an
entry's visibility is `group:<its group>`, so it is visible to the members of its group and to
its owner, and only members of a group may publish to it. Every query takes the `Viewer`
asking; an entry the viewer may not see is reported as missing (404), so its existence does not
leak.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import warnings
from typing import Any

import nbformat
from nbdime import diff_notebooks
from nbdime.prettyprint import PrettyPrintConfig, pretty_print_diff
from nbformat.warnings import MissingIDFieldWarning
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, undefer

from .. import validation
from ..access import Conflict, Forbidden, Invalid, NotFound, TooLarge, Viewer, Visibility
from .accounts import AccountError, validate_name
from .models import GalleryEntry, GalleryVersion, utcnow

# Largest notebook (its canonical JSON, in bytes) the gallery keeps.
MAX_NOTEBOOK_BYTES = 16 * 1024 * 1024
MAX_MESSAGE_CHARS = 2000
_NAME_RE = re.compile(r"^[^/\\\x00-\x1f.][^/\\\x00-\x1f]{0,248}\.ipynb$")


def too_large(size: int) -> TooLarge:
    """The error for a notebook (or request) of `size` bytes over MAX_NOTEBOOK_BYTES."""
    return TooLarge(
        f"the notebook is {size / 2**20:.1f} MiB; the gallery takes notebooks of at most"
        f" {MAX_NOTEBOOK_BYTES / 2**20:.0f} MiB (clear large outputs and publish again)"
    )


def check_notebook_size(size: int) -> None:
    if size > MAX_NOTEBOOK_BYTES:
        raise too_large(size)


def canonical_notebook(content: Any) -> str:
    """The notebook as nbformat writes it, after validation; raises Invalid or TooLarge.

    `content` is the notebook as JSON text or as the parsed object.
    """
    text = content if isinstance(content, str) else json.dumps(content)
    check_notebook_size(len(text.encode()))
    try:
        raw = json.loads(text)
    except ValueError as e:
        raise Invalid(f"not a Jupyter notebook: the content is not JSON ({e})") from None
    if not isinstance(raw, dict) or raw.get("nbformat") != 4:
        raise Invalid(
            'not a Jupyter notebook: expected a JSON object with "nbformat": 4'
            " (save it with JupyterLab 3 or later)"
        )
    try:
        with warnings.catch_warnings():  # a cell without an id gets one: not worth a warning
            warnings.simplefilter("ignore", MissingIDFieldWarning)
            notebook = nbformat.reads(text, as_version=4)
    except Exception as e:  # nbformat raises NotJSONError, ValueError, KeyError, ...
        raise Invalid(f"not a Jupyter notebook: {_first_line(e)}") from None
    try:
        nbformat.validate(notebook)
    except nbformat.ValidationError as e:
        where = "/".join(str(p) for p in e.absolute_path) or "notebook"
        raise Invalid(f"invalid notebook at {where}: {_first_line(e.message)}") from None
    canonical = nbformat.writes(notebook)
    check_notebook_size(len(canonical.encode()))
    return canonical


def publish(
    session: Session,
    viewer: Viewer,
    *,
    group: str,
    name: str,
    content: Any,
    message: str = "",
) -> GalleryVersion:
    """Add a version of `name` to `group`'s gallery, creating the entry on first publish.

    Raises:
        Forbidden: the viewer is not a member of `group`.
        Invalid: bad group, name, message or notebook.
        TooLarge: the notebook is over MAX_NOTEBOOK_BYTES.
        Conflict: the content equals the latest version, or a concurrent publish won.
    """
    group = _valid_group(group)
    name = _valid_name(name)
    if len(message) > MAX_MESSAGE_CHARS:
        raise Invalid(f"the message is longer than {MAX_MESSAGE_CHARS} characters")
    viewer.require_user("publish to the gallery")
    shared = Visibility.of_group(group).settable_by(viewer).value
    canonical = canonical_notebook(content)
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    entry = session.scalar(
        select(GalleryEntry).where(
            GalleryEntry.owner == viewer.name,
            GalleryEntry.visibility == shared,
            GalleryEntry.name == name,
        )
    )
    try:
        if entry is None:
            entry = GalleryEntry(owner=viewer.name, visibility=shared, name=name)
            session.add(entry)
            session.flush()
            number = 1
        else:
            latest = _latest(session, entry.id)
            if latest is not None and latest.sha256 == digest:
                raise Conflict(
                    f"version {latest.number} of {name!r} in {group!r} already has this exact"
                    " content; change the notebook before publishing again"
                )
            number = (latest.number if latest else 0) + 1
        now = utcnow()
        version = GalleryVersion(
            entry_id=entry.id,
            number=number,
            content=canonical,
            sha256=digest,
            size=len(canonical.encode()),
            message=message.strip(),
            published_at=now,
        )
        session.add(version)
        entry.updated_at = now
        session.flush()
    except IntegrityError:
        raise Conflict(
            f"{name!r} was published to {group!r} at the same moment by another request;"
            " publish again"
        ) from None
    return version


def list_entries(session: Session, viewer: Viewer, group: str | None = None) -> list[GalleryEntry]:
    """The entries the viewer may see, newest first, optionally of one group."""
    query = select(GalleryEntry).where(GalleryEntry.visible_to(viewer))
    if group:
        query = query.where(GalleryEntry.visibility == Visibility.of_group(group).value)
    query = query.order_by(GalleryEntry.updated_at.desc(), GalleryEntry.id.desc())
    return list(session.scalars(query))


def latest_numbers(session: Session, entry_ids: list[int]) -> dict[int, int]:
    """The latest version number of each entry id."""
    if not entry_ids:
        return {}
    rows = session.execute(
        select(GalleryVersion.entry_id, func.max(GalleryVersion.number))
        .where(GalleryVersion.entry_id.in_(entry_ids))
        .group_by(GalleryVersion.entry_id)
    )
    return {entry_id: number for entry_id, number in rows}


def get_entry(session: Session, viewer: Viewer, entry_id: int) -> GalleryEntry:
    """The entry with its versions (without content); NotFound if absent or not visible."""
    entry = session.scalar(
        select(GalleryEntry).where(GalleryEntry.id == entry_id, GalleryEntry.visible_to(viewer))
    )
    if entry is None:
        raise NotFound(f"no gallery entry {entry_id} in your groups")
    return entry


def get_version(session: Session, viewer: Viewer, entry_id: int, number: int) -> GalleryVersion:
    """One version with its content; NotFound if the entry is not visible or has no such one."""
    entry = get_entry(session, viewer, entry_id)
    version = session.scalar(
        select(GalleryVersion)
        .options(undefer(GalleryVersion.content))
        .where(GalleryVersion.entry_id == entry.id, GalleryVersion.number == number)
    )
    if version is None:
        raise NotFound(f"gallery entry {entry_id} ({entry.name}) has no version {number}")
    return version


def diff_versions(
    session: Session, viewer: Viewer, entry_id: int, base: int, remote: int
) -> dict[str, Any]:
    """nbdime's diff from version `base` to version `remote`, as JSON and as plain text."""
    old = get_version(session, viewer, entry_id, base)
    new = get_version(session, viewer, entry_id, remote)
    old_nb = nbformat.reads(old.content, as_version=4)
    new_nb = nbformat.reads(new.content, as_version=4)
    diff = diff_notebooks(old_nb, new_nb)
    out = io.StringIO()
    config = PrettyPrintConfig(out=out, use_git=False, use_diff=False, use_color=False)
    pretty_print_diff(old_nb, diff, "", config)
    return {
        "base": base,
        "remote": remote,
        "diff": json.loads(json.dumps(diff)),
        "text": out.getvalue(),
    }


def delete_entry(session: Session, viewer: Viewer, entry_id: int) -> None:
    """Remove an entry and all its versions; only its owner may."""
    entry = get_entry(session, viewer, entry_id)
    if not viewer.owns(entry.owner):
        raise Forbidden(f"only {entry.owner!r}, who published it, can delete entry {entry_id}")
    session.delete(entry)


def _latest(session: Session, entry_id: int) -> GalleryVersion | None:
    return session.scalar(
        select(GalleryVersion)
        .where(GalleryVersion.entry_id == entry_id)
        .order_by(GalleryVersion.number.desc())
        .limit(1)
    )


def _valid_group(group: str) -> str:
    try:
        return validate_name(group, "group name")
    except AccountError as e:
        raise Invalid(str(e)) from None


def _valid_name(name: str) -> str:
    if not _NAME_RE.match(name):
        raise Invalid(
            f"invalid notebook name {name!r}: give the file name only (no folders), ending in"
            " .ipynb, not starting with '.'"
        )
    problem = validation.path_problem(name)
    if problem:
        raise Invalid(f"invalid notebook name {name!r}: {problem}")
    return name


def _first_line(error: object) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
