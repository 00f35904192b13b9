"""The changelog of registered models: who registered a version, set, moved or deleted an
alias, or changed a version's task type, when, and why.

Rows are written wherever the platform sees the change: the tracking server's registry routes
(tracking/history.py, for the stock `mlflow` client) and the models API (routers/models.py).
A model's history is keyed by its name and follows the model: a rename takes it along, and a
delete drops it, so a later model of the same name starts with none (as its sharing does).
Who may read a history is the registry's decision (store/tracking.py), made before these
functions are called.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, Text, delete, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from .models import Base, UTCDateTime, utcnow

# actions
REGISTER, ALIAS_SET, ALIAS_DELETE, TASK = "register", "alias.set", "alias.delete", "task"
ACTIONS = (REGISTER, ALIAS_SET, ALIAS_DELETE, TASK)
MAX_REASON = 1000
HISTORY_LIMIT = 500


class ModelEvent(Base):
    """One change to a registered model. `alias` is set for alias changes; `from_version` is
    where an alias pointed before (None: it was new) and `to_version` where it points now
    (None: deleted), or the version registered or whose task changed; `detail` holds the rest
    (a task change's `from` and `to`)."""

    __tablename__ = "lw_model_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    model: Mapped[str] = mapped_column(String(256), index=True)
    action: Mapped[str] = mapped_column(String(32))
    alias: Mapped[str | None] = mapped_column(String(256), default=None)
    from_version: Mapped[str | None] = mapped_column(String(32), default=None)
    to_version: Mapped[str | None] = mapped_column(String(32), default=None)
    detail: Mapped[dict] = mapped_column(default=dict)
    actor: Mapped[str] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def record(
    session: Session,
    model: str,
    action: str,
    actor: str,
    *,
    alias: str | None = None,
    from_version: str | None = None,
    to_version: str | None = None,
    detail: dict[str, Any] | None = None,
    reason: str = "",
) -> ModelEvent:
    """Add one event to `model`'s history."""
    if action not in ACTIONS:
        raise ValueError(f"unknown model event {action!r}")
    event = ModelEvent(
        model=model, action=action, actor=actor, alias=alias, from_version=from_version,
        to_version=to_version, detail=detail or {}, reason=reason[:MAX_REASON],
    )  # fmt: skip
    session.add(event)
    session.flush()
    return event


def history(session: Session, model: str, limit: int = HISTORY_LIMIT) -> list[ModelEvent]:
    """`model`'s events, the newest first (at most `limit`)."""
    query = (
        select(ModelEvent)
        .where(ModelEvent.model == model)
        .order_by(ModelEvent.at.desc(), ModelEvent.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def follow_model(session: Session, action: str, model: str, new_name: str = "") -> None:
    """Keep a history with its model: `rename` moves it to `new_name`; `create` and `delete`
    drop what is kept under the name (a new model of an old name starts with no history)."""
    if action == "rename" and new_name:
        session.execute(update(ModelEvent).where(ModelEvent.model == model).values(model=new_name))
    elif action in ("create", "delete"):
        session.execute(delete(ModelEvent).where(ModelEvent.model == model))
