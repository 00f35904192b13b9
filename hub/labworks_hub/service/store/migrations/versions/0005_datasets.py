"""Versioned datasets: a dataset per (owner, name) and its immutable manifests.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lw_datasets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("visibility", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("owner", "name", name="uq_lw_dataset"),
    )
    op.create_index("ix_lw_datasets_owner", "lw_datasets", ["owner"])
    op.create_table(
        "lw_dataset_versions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "dataset_id",
            sa.Integer(),
            sa.ForeignKey("lw_datasets.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(71), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("file_count", sa.Integer(), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("dataset_id", "number", name="uq_lw_dataset_version"),
    )
    op.create_index("ix_lw_dataset_versions_dataset_id", "lw_dataset_versions", ["dataset_id"])


def downgrade() -> None:
    op.drop_index("ix_lw_dataset_versions_dataset_id", table_name="lw_dataset_versions")
    op.drop_table("lw_dataset_versions")
    op.drop_index("ix_lw_datasets_owner", table_name="lw_datasets")
    op.drop_table("lw_datasets")
