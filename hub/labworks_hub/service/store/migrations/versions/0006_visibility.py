"""One visibility column (access.Shareable) for gallery entries, jobs, schedules and datasets:
gallery `group_name` g and jobs' `share_group` g become `group:g`, no group `private`.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

GROUP = "group:"
VISIBILITY = sa.String(300)
JOB_TABLES = ("lw_job_definitions", "lw_job_runs")


def _as_group(table: str, column: str) -> sa.TableClause:
    return sa.table(table, sa.column(column, sa.String), sa.column("visibility", sa.String))


def _group_of(visibility: sa.ColumnElement) -> sa.ColumnElement:
    return sa.func.substr(visibility, len(GROUP) + 1)


def upgrade() -> None:
    op.add_column("lw_gallery_entries", sa.Column("visibility", VISIBILITY, nullable=True))
    entries = _as_group("lw_gallery_entries", "group_name")
    op.execute(entries.update().values(visibility=sa.literal(GROUP) + entries.c.group_name))
    op.drop_index("ix_lw_gallery_entries_group_name", table_name="lw_gallery_entries")
    with op.batch_alter_table("lw_gallery_entries") as batch:
        batch.drop_constraint("uq_lw_gallery_entry", type_="unique")
        batch.drop_column("group_name")
        batch.alter_column("visibility", existing_type=VISIBILITY, nullable=False)
        batch.create_unique_constraint("uq_lw_gallery_entry", ["owner", "visibility", "name"])
    op.create_index("ix_lw_gallery_entries_visibility", "lw_gallery_entries", ["visibility"])

    for name in JOB_TABLES:
        op.add_column(name, sa.Column("visibility", VISIBILITY, nullable=True))
        table = _as_group(name, "share_group")
        shared = sa.case(
            (table.c.share_group.is_(None), sa.literal("private")),
            else_=sa.literal(GROUP) + table.c.share_group,
        )
        op.execute(table.update().values(visibility=shared))
        op.drop_index(f"ix_{name}_share_group", table_name=name)
        with op.batch_alter_table(name) as batch:
            batch.drop_column("share_group")
            batch.alter_column("visibility", existing_type=VISIBILITY, nullable=False)
        op.create_index(f"ix_{name}_visibility", name, ["visibility"])

    with op.batch_alter_table("lw_datasets") as batch:
        batch.alter_column("visibility", existing_type=sa.String(255), type_=VISIBILITY)
    op.create_index("ix_lw_datasets_visibility", "lw_datasets", ["visibility"])


def downgrade() -> None:
    op.drop_index("ix_lw_datasets_visibility", table_name="lw_datasets")
    with op.batch_alter_table("lw_datasets") as batch:
        batch.alter_column("visibility", existing_type=VISIBILITY, type_=sa.String(255))

    for name in JOB_TABLES:
        op.add_column(name, sa.Column("share_group", sa.String(255), nullable=True))
        table = _as_group(name, "share_group")
        group = sa.case(
            (table.c.visibility.startswith(GROUP), _group_of(table.c.visibility)), else_=None
        )
        op.execute(table.update().values(share_group=group))
        op.drop_index(f"ix_{name}_visibility", table_name=name)
        with op.batch_alter_table(name) as batch:
            batch.drop_column("visibility")
        op.create_index(f"ix_{name}_share_group", name, ["share_group"])

    op.add_column("lw_gallery_entries", sa.Column("group_name", sa.String(255), nullable=True))
    entries = _as_group("lw_gallery_entries", "group_name")
    op.execute(entries.update().values(group_name=_group_of(entries.c.visibility)))
    op.drop_index("ix_lw_gallery_entries_visibility", table_name="lw_gallery_entries")
    with op.batch_alter_table("lw_gallery_entries") as batch:
        batch.drop_constraint("uq_lw_gallery_entry", type_="unique")
        batch.drop_column("visibility")
        batch.alter_column("group_name", existing_type=sa.String(255), nullable=False)
        batch.create_unique_constraint("uq_lw_gallery_entry", ["owner", "group_name", "name"])
    op.create_index("ix_lw_gallery_entries_group_name", "lw_gallery_entries", ["group_name"])
