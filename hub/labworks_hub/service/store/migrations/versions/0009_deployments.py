"""Served models: deployments, their model servers and their change records.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def _deployment() -> sa.ForeignKey:
    return sa.ForeignKey("lw_deployments.id", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "lw_deployments",
        sa.Column("id", sa.String(12), primary_key=True),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("visibility", sa.String(300), nullable=False),
        sa.Column("name", sa.String(63), nullable=False, unique=True),
        sa.Column("model_name", sa.String(256), nullable=False),
        sa.Column("version", sa.String(32), nullable=False),
        sa.Column("canary_version", sa.String(32), nullable=True),
        sa.Column("canary_percent", sa.Integer(), nullable=False),
        sa.Column("task", sa.String(16), nullable=False),
        sa.Column("payload_sample", sa.Float(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
    )
    for column in ("owner", "visibility", "status"):
        op.create_index(f"ix_lw_deployments_{column}", "lw_deployments", [column])
    op.create_table(
        "lw_model_servers",
        sa.Column("deployment_id", sa.String(12), _deployment(), primary_key=True),
        sa.Column("version", sa.String(32), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("restarts", sa.Integer(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("started_at", WHEN, nullable=True),
        sa.Column("ready_at", WHEN, nullable=True),
    )
    op.create_table(
        "lw_deployment_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("deployment_id", sa.String(12), _deployment(), nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
    )
    op.create_index(
        "ix_lw_deployment_events_deployment_id", "lw_deployment_events", ["deployment_id"]
    )
    op.create_table(
        "lw_deployment_keys",
        sa.Column("id", sa.String(12), primary_key=True),
        sa.Column("deployment_id", sa.String(12), _deployment(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("last_used_at", WHEN, nullable=True),
    )
    op.create_index("ix_lw_deployment_keys_deployment_id", "lw_deployment_keys", ["deployment_id"])


def downgrade() -> None:
    op.drop_index("ix_lw_deployment_keys_deployment_id", table_name="lw_deployment_keys")
    op.drop_table("lw_deployment_keys")
    op.drop_index("ix_lw_deployment_events_deployment_id", table_name="lw_deployment_events")
    op.drop_table("lw_deployment_events")
    op.drop_table("lw_model_servers")
    for column in ("owner", "visibility", "status"):
        op.drop_index(f"ix_lw_deployments_{column}", table_name="lw_deployments")
    op.drop_table("lw_deployments")
