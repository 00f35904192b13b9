"""Groups as rows (a group may have no members) with a membership table, and the account
lifecycle: `disabled`, and `deleted_at` for the tombstone a deleted account leaves. The groups
in each account's JSON `groups` list become rows and memberships.

The downgrade writes memberships back into the JSON lists; disabled and deleted accounts lose
those flags (a deleted account has no password hash that verifies, so it still cannot log in).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def _accounts(*columns: sa.ColumnClause) -> sa.TableClause:
    return sa.table("lw_accounts", sa.column("id", sa.Integer), *columns)


def _groups_of(value) -> list[str]:
    """A JSON list as the backend hands it back (text on some SQLite drivers)."""
    if isinstance(value, str):
        value = json.loads(value or "[]")
    return sorted({str(g) for g in value or []})


def upgrade() -> None:
    groups = op.create_table(
        "lw_groups",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
    )
    op.create_index("ix_lw_groups_name", "lw_groups", ["name"], unique=True)
    members = op.create_table(
        "lw_group_members",
        sa.Column(
            "group_id",
            sa.Integer,
            sa.ForeignKey("lw_groups.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "account_id",
            sa.Integer,
            sa.ForeignKey("lw_accounts.id", ondelete="CASCADE"),
            primary_key=True,
        ),
    )
    with op.batch_alter_table("lw_accounts") as batch:
        batch.add_column(
            sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("deleted_at", WHEN, nullable=True))

    bind = op.get_bind()
    accounts = _accounts(sa.column("groups", sa.JSON))
    rows = [(row.id, _groups_of(row.groups)) for row in bind.execute(sa.select(accounts))]
    names = sorted({name for _, names in rows for name in names})
    now = datetime.now(UTC)
    if names:
        op.bulk_insert(groups, [{"name": name, "created_at": now} for name in names])
    ids = dict(bind.execute(sa.select(groups.c.name, groups.c.id)).all())
    pairs = [{"group_id": ids[g], "account_id": a} for a, names in rows for g in names]
    if pairs:
        op.bulk_insert(members, pairs)
    with op.batch_alter_table("lw_accounts") as batch:
        batch.drop_column("groups")


def downgrade() -> None:
    with op.batch_alter_table("lw_accounts") as batch:
        batch.add_column(sa.Column("groups", sa.JSON, nullable=True))
    bind = op.get_bind()
    query = sa.text(
        "SELECT m.account_id, g.name FROM lw_group_members m"
        " JOIN lw_groups g ON g.id = m.group_id ORDER BY g.name"
    )
    held: dict[int, list[str]] = {}
    for account_id, name in bind.execute(query):
        held.setdefault(account_id, []).append(name)
    accounts = _accounts(sa.column("groups", sa.JSON))
    for row in bind.execute(sa.select(accounts.c.id)).all():
        bind.execute(
            accounts.update().where(accounts.c.id == row.id).values(groups=held.get(row.id, []))
        )
    with op.batch_alter_table("lw_accounts") as batch:
        batch.alter_column("groups", existing_type=sa.JSON, nullable=False)
        batch.drop_column("deleted_at")
        batch.drop_column("disabled")
    op.drop_table("lw_group_members")
    op.drop_index("ix_lw_groups_name", table_name="lw_groups")
    op.drop_table("lw_groups")
