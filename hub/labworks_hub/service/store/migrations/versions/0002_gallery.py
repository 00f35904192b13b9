"""Notebook gallery: entries published to a group and their immutable versions.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lw_gallery_entries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("group_name", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("owner", "group_name", "name", name="uq_lw_gallery_entry"),
    )
    op.create_index("ix_lw_gallery_entries_owner", "lw_gallery_entries", ["owner"])
    op.create_index("ix_lw_gallery_entries_group_name", "lw_gallery_entries", ["group_name"])
    op.create_table(
        "lw_gallery_versions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "entry_id",
            sa.Integer(),
            sa.ForeignKey("lw_gallery_entries.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("entry_id", "number", name="uq_lw_gallery_version"),
    )
    op.create_index("ix_lw_gallery_versions_entry_id", "lw_gallery_versions", ["entry_id"])


def downgrade() -> None:
    op.drop_index("ix_lw_gallery_versions_entry_id", table_name="lw_gallery_versions")
    op.drop_table("lw_gallery_versions")
    op.drop_index("ix_lw_gallery_entries_group_name", table_name="lw_gallery_entries")
    op.drop_index("ix_lw_gallery_entries_owner", table_name="lw_gallery_entries")
    op.drop_table("lw_gallery_entries")
