"""Data sources: the catalog, grants, access requests and the access audit.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "lw_sources",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(63), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("credentials", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
    )
    op.create_index("ix_lw_sources_owner", "lw_sources", ["owner"])
    op.create_table(
        "lw_source_grants",
        sa.Column("source_id", sa.Integer(),
                  sa.ForeignKey("lw_sources.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("principal", sa.String(300), primary_key=True),
        sa.Column("access", sa.String(8), nullable=False),
        sa.Column("granted_by", sa.String(255), nullable=False),
        sa.Column("granted_at", WHEN, nullable=False),
    )  # fmt: skip
    op.create_table(
        "lw_source_requests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("source_id", sa.Integer(),
                  sa.ForeignKey("lw_sources.id", ondelete="CASCADE"), nullable=False),
        sa.Column("user", sa.String(255), nullable=False),
        sa.Column("access", sa.String(8), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("decided_by", sa.String(255), nullable=False),
        sa.Column("decided_at", WHEN, nullable=True),
    )  # fmt: skip
    op.create_index("ix_lw_source_requests_user", "lw_source_requests", ["user"])
    op.create_index(
        "ix_lw_source_requests_source_status", "lw_source_requests", ["source_id", "status"]
    )
    op.create_table(
        "lw_source_audit",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("source", sa.String(300), nullable=False),
        sa.Column("user", sa.String(255), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("object", sa.Text(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=True),
        sa.Column("rows", sa.BigInteger(), nullable=True),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("origin", sa.String(200), nullable=False),
    )
    op.create_index("ix_lw_source_audit_source_at", "lw_source_audit", ["source", "at"])


def downgrade() -> None:
    op.drop_index("ix_lw_source_audit_source_at", table_name="lw_source_audit")
    op.drop_table("lw_source_audit")
    op.drop_index("ix_lw_source_requests_source_status", table_name="lw_source_requests")
    op.drop_index("ix_lw_source_requests_user", table_name="lw_source_requests")
    op.drop_table("lw_source_requests")
    op.drop_table("lw_source_grants")
    op.drop_index("ix_lw_sources_owner", table_name="lw_sources")
    op.drop_table("lw_sources")
