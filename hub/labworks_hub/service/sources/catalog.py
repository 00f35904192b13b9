"""The catalog of sources and who may do what with them (store functions: a session first,
`Refused` kinds for refusals, no FastAPI, no I/O to the sources themselves).

Everyone sees the catalog (name, kind, owner, description, tags): knowing a source exists is
how one asks for it. Reading needs a grant: the owner and administrators have every right;
`read` and `write` grants go to users (`user:<name>`) or groups (`group:<name>`), and the
strongest one of a person's counts. A refusal names the source and its owner, and how to ask.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..access import Conflict, Forbidden, Invalid, NotFound, Viewer
from ..store.models import utcnow
from ..store.sources import (
    FOLDER,
    GRANTED,
    PENDING,
    WRITE,
    DataSource,
    SourceAccessRequest,
    SourceGrant,
)
from .secrets import SourceSecrets

OWNER, NONE = "owner", "none"
RANK = {NONE: 0, "read": 1, WRITE: 2, OWNER: 3}
MANAGE = "manage"  # what updating, granting and auditing need: OWNER


def principals(viewer: Viewer) -> list[str]:
    """The grant principals that stand for `viewer`: themselves and each of their groups."""
    return [f"user:{viewer.name}", *sorted(f"group:{g}" for g in viewer.groups)]


def access_of(session: Session, viewer: Viewer, source: DataSource) -> str:
    """owner, write, read or none: `viewer`'s strongest right on `source`."""
    return accesses(session, viewer, [source])[source.id]


def accesses(session: Session, viewer: Viewer, sources: list[DataSource]) -> dict[int, str]:
    """`access_of` for many sources in one query."""
    if not viewer.is_user:
        return {s.id: NONE for s in sources}
    found = {s.id: OWNER if viewer.admin or viewer.owns(s.owner) else NONE for s in sources}
    rows = session.execute(
        select(SourceGrant.source_id, SourceGrant.access).where(
            SourceGrant.source_id.in_([s for s, a in found.items() if a == NONE]),
            SourceGrant.principal.in_(principals(viewer)),
        )
    )
    for source_id, access in rows:
        if RANK[access] > RANK[found[source_id]]:
            found[source_id] = access
    return found


def get(session: Session, name: str) -> DataSource:
    source = session.scalar(select(DataSource).where(DataSource.name == name))
    if source is None:
        raise NotFound(f"no data source named {name!r} (`labworks sources list` shows them)")
    return source


def require(session: Session, viewer: Viewer, name: str, need: str) -> DataSource:
    """The source when `viewer` may `need` (read, write or manage) it; Forbidden naming the
    owner and how to ask otherwise."""
    source = get(session, name)
    have = access_of(session, viewer, source)
    wanted = OWNER if need == MANAGE else need
    if RANK[have] >= RANK[wanted]:
        return source
    if need == MANAGE:
        raise Forbidden(
            f"only the owner of source {name!r} ({source.owner}) or an administrator can do this"
        )
    held = f"you may only read source {name!r}" if have == "read" else (
        f"you have no access to source {name!r}"
    )  # fmt: skip
    raise Forbidden(
        f"{held}; its owner is {source.owner}. Ask for {need} access: labworks sources request"
        f" {name}{' --write' if need == WRITE else ''} (or Request access in the Data panel)"
    )


def may_register(viewer: Viewer, kind: str, registrars_group: str) -> None:
    """Administrators register any kind; members of `registrars_group` register s3 and
    postgres sources (folders are on the platform's own disk: administrators only)."""
    viewer.require_user("register data sources")
    if viewer.admin:
        return
    if kind == FOLDER:
        raise Forbidden("only administrators register folder sources (they are on the platform)")
    if not registrars_group or registrars_group not in viewer.groups:
        raise Forbidden(
            "only administrators and members of the group"
            f" {registrars_group or '(none configured)'} register data sources"
        )


def describe(source: DataSource, access: str) -> dict[str, Any]:
    """The source as SourceModel fields; a folder's path only for those who manage it."""
    config = dict(source.config)
    if source.kind == FOLDER and access != OWNER:
        config = {}
    return {
        "name": source.name, "kind": source.kind, "owner": source.owner,
        "description": source.description, "tags": list(source.tags), "config": config,
        "has_credentials": bool(source.credentials), "access": access,
        "created_at": source.created_at, "updated_at": source.updated_at,
    }  # fmt: skip


def list_sources(session: Session, viewer: Viewer) -> list[dict[str, Any]]:
    sources = list(session.scalars(select(DataSource).order_by(DataSource.name)))
    found = accesses(session, viewer, sources)
    return [describe(s, found[s.id]) for s in sources]


def create(
    session: Session, viewer: Viewer, *, name: str, kind: str, owner: str, description: str,
    tags: list[str], config: dict[str, Any], credentials: str,
) -> dict[str, Any]:  # fmt: skip
    """Record a checked source (config validated, credentials sealed, reachability tried by
    the caller); Conflict when the name is taken."""
    if owner != viewer.name and not viewer.admin:
        raise Forbidden("only administrators register a source for someone else")
    source = DataSource(
        name=name, kind=kind, owner=owner, description=description, tags=tags, config=config,
        credentials=credentials, created_by=viewer.name,
    )  # fmt: skip
    session.add(source)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(f"a data source named {name!r} exists already") from None
    return describe(source, OWNER)


def declare(session: Session, declared: list[dict[str, Any]], secrets: SourceSecrets) -> None:
    """Sources the config declares (`DataSources.declared`, credentials in clear): made when
    missing; when there, their owner, description, tags, config and credentials become the
    config's (credentials sealed again only when they changed); grants and audit are kept."""
    for entry in declared:
        fields = {k: v for k, v in entry.items() if k != "credentials"}
        plain = entry["credentials"]
        source = session.scalar(select(DataSource).where(DataSource.name == fields["name"]))
        if source is None:
            sealed = secrets.seal(plain) if plain else ""
            session.add(DataSource(**fields, credentials=sealed, created_by="(config)"))
            continue
        if source.kind != fields["kind"]:
            raise Conflict(
                f"c.DataSources.sources: {source.name} is a {source.kind} source already,"
                f" not {fields['kind']}; rename one"
            )
        changed = {k: v for k, v in fields.items() if getattr(source, k) != v}
        if secrets.open(source.credentials) != plain:
            changed["credentials"] = secrets.seal(plain) if plain else ""
        for key, value in changed.items():
            setattr(source, key, value)
        if changed:
            source.updated_at = utcnow()


def update(session: Session, viewer: Viewer, name: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Apply `changes` (description, tags, config, credentials: already checked and sealed)."""
    source = require(session, viewer, name, MANAGE)
    for field, value in changes.items():
        setattr(source, field, value)
    source.updated_at = utcnow()
    return describe(source, OWNER)


def remove(session: Session, viewer: Viewer, name: str) -> None:
    session.delete(require(session, viewer, name, MANAGE))


# --- grants and requests ----------------------------------------------------------------------


def grants(session: Session, viewer: Viewer, name: str) -> list[SourceGrant]:
    source = require(session, viewer, name, MANAGE)
    query = select(SourceGrant).where(SourceGrant.source_id == source.id)
    return list(session.scalars(query.order_by(SourceGrant.principal)))


def grant(
    session: Session, viewer: Viewer, name: str, principal: str, access: str, now: datetime
) -> SourceGrant:
    """Give (or change) `principal`'s access; a user's pending requests are answered by it."""
    source = require(session, viewer, name, MANAGE)
    if principal == f"user:{source.owner}":
        raise Invalid(f"{source.owner} owns source {name!r}: owners need no grant")
    found = session.get(SourceGrant, (source.id, principal))
    if found is None:
        found = SourceGrant(source_id=source.id, principal=principal)
        session.add(found)
    found.access, found.granted_by, found.granted_at = access, viewer.name, now
    if principal.startswith("user:"):
        asked = select(SourceAccessRequest).where(
            SourceAccessRequest.source_id == source.id,
            SourceAccessRequest.user == principal.removeprefix("user:"),
            SourceAccessRequest.status == PENDING,
        )
        for request in session.scalars(asked):
            if RANK[access] >= RANK[request.access]:
                request.status, request.decided_by, request.decided_at = GRANTED, viewer.name, now
    session.flush()
    return found


def revoke(session: Session, viewer: Viewer, name: str, principal: str) -> None:
    source = require(session, viewer, name, MANAGE)
    gone = session.execute(
        delete(SourceGrant).where(
            SourceGrant.source_id == source.id, SourceGrant.principal == principal
        )
    )
    if not cast(CursorResult, gone).rowcount:
        raise NotFound(f"source {name!r} has no grant to {principal}")


def ask(
    session: Session, viewer: Viewer, name: str, access: str, reason: str
) -> tuple[SourceAccessRequest, DataSource, bool]:
    """Ask for access: the pending request (one per person and source: asking again updates
    it), the source, and whether it is new (then its owner is told)."""
    viewer.require_user("ask for access to data sources")
    source = get(session, name)
    if RANK[access_of(session, viewer, source)] >= RANK[access]:
        raise Conflict(f"you have {access} access to source {name!r} already")
    request = session.scalar(
        select(SourceAccessRequest).where(
            SourceAccessRequest.source_id == source.id,
            SourceAccessRequest.user == viewer.name,
            SourceAccessRequest.status == PENDING,
        )
    )
    new = request is None
    if request is None:
        request = SourceAccessRequest(source_id=source.id, user=viewer.name, status=PENDING)
        session.add(request)
    request.access, request.reason = access, reason
    session.flush()
    return request, source, new


def requests(session: Session, viewer: Viewer) -> list[tuple[SourceAccessRequest, str]]:
    """Requests on the sources `viewer` manages and their own, pending first, newest first."""
    if not viewer.is_user:
        return []
    query = select(SourceAccessRequest, DataSource.name).join(
        DataSource, DataSource.id == SourceAccessRequest.source_id
    )
    if not viewer.admin:
        query = query.where(
            (DataSource.owner == viewer.name) | (SourceAccessRequest.user == viewer.name)
        )
    query = query.order_by(
        (SourceAccessRequest.status != PENDING), SourceAccessRequest.created_at.desc()
    )
    return [(request, name) for request, name in session.execute(query.limit(500))]
