"""What an administrator does to owned and shared things when people and groups go: hand one
user's things to another (`transfer`, `transfer_tracking`), and make what was shared with a
deleted group private (`unshare_group`, `unshare_tracking_group`).

The platform store's owned things are every model with the `Shareable` mixin (access.py), found
from the mapper registry, so a new shareable domain is handed over with no change here.
Experiments and registered models are MLflow's: their owner is the user holding MANAGE on them
in MLflow's auth store (store/tracking.py), and a share is a READ grant to a `group:` role.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..access import GROUP, PRIVATE, Conflict, Shareable
from . import jobs  # noqa: F401 (registers the job tables)
from .jobs import JobDefinition, JobSchedule
from .models import Base, Dataset, GalleryEntry

# What each owned kind is called in a transfer's answer; others are named by their table.
KINDS = {"lw_datasets": "datasets", "lw_gallery_entries": "gallery", "lw_job_runs": "jobs"}


def shareable_models() -> list[Any]:
    """Every mapped model of the store with an owner and a visibility (Shareable)."""
    found = [m.class_ for m in Base.registry.mappers if issubclass(m.class_, Shareable)]
    return sorted(found, key=lambda model: model.__tablename__)


def owned_datasets(session: Session, owner: str) -> list[str]:
    """The names of `owner`'s datasets (their files move with them: the caller copies them)."""
    return list(session.scalars(select(Dataset.name).where(Dataset.owner == owner)))


def transfer(session: Session, leaver: str, to: str) -> dict[str, int]:
    """Make `to` the owner of everything `leaver` owns in the store; how many of each kind
    moved (`schedules`: the leaver's job definitions that have one). Visibility is kept.

    Raises:
        Conflict: `to` already has a dataset or gallery entry of the same name (nothing moved).
    """
    check_clashes(session, leaver, to)
    schedules = session.scalar(
        select(func.count(JobSchedule.id))
        .join(JobDefinition, JobDefinition.id == JobSchedule.definition_id)
        .where(JobDefinition.owner == leaver)
    )
    moved = {"schedules": int(schedules or 0)}
    for model in shareable_models():
        table = model.__tablename__
        result: Any = session.execute(update(model).where(model.owner == leaver).values(owner=to))
        if model is not JobDefinition:  # counted as schedules, with their runs as jobs
            moved[KINDS.get(table, table.removeprefix("lw_"))] = int(result.rowcount or 0)
    session.flush()
    return moved


def check_clashes(session: Session, leaver: str, to: str) -> None:
    clashes = []
    theirs = set(owned_datasets(session, to))
    clashes += [f"dataset {to}/{n}" for n in owned_datasets(session, leaver) if n in theirs]
    entry = (GalleryEntry.visibility, GalleryEntry.name)
    held = {tuple(row) for row in session.execute(select(*entry).where(GalleryEntry.owner == to))}
    mine = session.execute(select(*entry).where(GalleryEntry.owner == leaver))
    clashes += [f"gallery notebook {n} ({v})" for v, n in mine if (v, n) in held]
    if clashes:
        raise Conflict(
            f"{to!r} already has {', '.join(sorted(clashes))}; rename or delete those first"
        )


def unshare_group(session: Session, group: str) -> int:
    """Make everything shared with `group` private again (its owner still has it); how many
    things changed. A gallery notebook that its owner also has private under the same name is
    renamed `<name> (<group>)`, so none is lost."""
    shared = GROUP + group
    changed = 0
    for entry in session.scalars(select(GalleryEntry).where(GalleryEntry.visibility == shared)):
        taken = select(GalleryEntry.id).where(
            GalleryEntry.owner == entry.owner,
            GalleryEntry.visibility == PRIVATE,
            GalleryEntry.name == entry.name,
        )
        if session.scalar(taken) is not None:
            entry.name = f"{entry.name} ({group})"[:255]
        entry.visibility = PRIVATE
        changed += 1
    session.flush()
    for model in shareable_models():
        if model is GalleryEntry:
            continue
        result: Any = session.execute(
            update(model).where(model.visibility == shared).values(visibility=PRIVATE)
        )
        changed += int(result.rowcount or 0)
    return changed


# --- MLflow: experiments and registered models -------------------------------------------------


def transfer_tracking(auth: Any, leaver: str, to: str) -> dict[str, int]:
    """Move the leaver's MANAGE grants (ownership) on experiments and registered models to
    `to`, made an MLflow user if they are not one yet; how many of each moved."""
    from mlflow.exceptions import MlflowException

    moved = {"experiments": 0, "models": 0}
    if not auth.has_user(leaver):
        return moved
    if not auth.has_user(to):
        auth.create_user(to, secrets.token_urlsafe(32))
    for grant in auth.list_experiment_permissions(leaver):
        if grant.permission != "MANAGE":
            continue
        try:
            auth.create_experiment_permission(grant.experiment_id, to, "MANAGE")
        except MlflowException:  # `to` held a grant on it already
            auth.update_experiment_permission(grant.experiment_id, to, "MANAGE")
        auth.delete_experiment_permission(grant.experiment_id, leaver)
        moved["experiments"] += 1
    for grant in auth.list_registered_model_permissions(leaver):
        if grant.permission != "MANAGE":
            continue
        try:
            auth.create_registered_model_permission(grant.name, to, "MANAGE")
        except MlflowException:
            auth.update_registered_model_permission(grant.name, to, "MANAGE")
        auth.delete_registered_model_permission(grant.name, leaver)
        moved["models"] += 1
    return moved


def unshare_tracking_group(auth: Any, group: str) -> int:
    """Drop the `group:<group>` sharing role: its READ grants (the experiments and models
    shared with the group become private unless shared otherwise) and its members."""
    from mlflow.server.auth.db.models import SqlRole, SqlRolePermission, SqlUserRoleAssignment

    from .tracking import WORKSPACE

    with auth.ManagedSessionMaker(read_only=False) as session:
        role = session.scalar(
            select(SqlRole).where(SqlRole.workspace == WORKSPACE, SqlRole.name == GROUP + group)
        )
        if role is None:
            return 0
        grants = session.query(SqlRolePermission).filter(SqlRolePermission.role_id == role.id)
        count = grants.delete(synchronize_session=False)
        session.query(SqlUserRoleAssignment).filter(
            SqlUserRoleAssignment.role_id == role.id
        ).delete(synchronize_session=False)
        session.delete(role)
        return int(count or 0)
