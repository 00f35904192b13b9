"""Cost metering: cursors of metered subjects, usage per subject and day, monthly budgets.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _subject() -> list[sa.Column]:
    return [
        sa.Column("subject_kind", sa.String(16), primary_key=True),
        sa.Column("subject_id", sa.String(255), primary_key=True),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("profile", sa.String(255), nullable=False),
        sa.Column("project", sa.String(255), nullable=False),
        sa.Column("sweep_id", sa.String(12), nullable=False),
        sa.Column("mlflow_run_id", sa.String(64), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "lw_cost_cursors",
        *_subject(),
        sa.Column("session_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("counter_key", sa.String(512), nullable=False),
        sa.Column("cpu_counter", sa.Float(), nullable=False),
        sa.Column("billed", sa.Boolean(), nullable=False),
        sa.Column("burn_per_hour", sa.Float(), nullable=False),
        sa.Column("cpu_percent", sa.Float(), nullable=True),
        sa.Column("memory_bytes", sa.BigInteger(), nullable=True),
        sa.Column("gpu_utilization", sa.Float(), nullable=True),
    )
    op.create_index("ix_lw_cost_cursors_ended_at", "lw_cost_cursors", ["ended_at"])
    op.create_table(
        "lw_cost_usage",
        *_subject(),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("first_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("core_seconds", sa.Float(), nullable=False),
        sa.Column("memory_gb_seconds", sa.Float(), nullable=False),
        sa.Column("gpu_seconds", sa.Float(), nullable=False),
        sa.Column("gpu_model", sa.String(255), nullable=False),
        sa.Column("cpu_seconds", sa.Float(), nullable=False),
        sa.Column("memory_byte_seconds", sa.Float(), nullable=False),
        sa.Column("memory_peak", sa.BigInteger(), nullable=False),
        sa.Column("gpu_utilization_seconds", sa.Float(), nullable=False),
        sa.Column("gpu_memory_peak", sa.BigInteger(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=False),
    )
    op.create_index("ix_lw_cost_usage_day", "lw_cost_usage", ["day"])
    op.create_index("ix_lw_cost_usage_owner_day", "lw_cost_usage", ["owner", "day"])
    op.create_table(
        "lw_cost_budgets",
        sa.Column("scope", sa.String(8), primary_key=True),
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("monthly_usd", sa.Float(), nullable=False),
        sa.Column("thresholds", sa.JSON(), nullable=False),
        sa.Column("updated_by", sa.String(255), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("lw_cost_budgets")
    op.drop_index("ix_lw_cost_usage_owner_day", table_name="lw_cost_usage")
    op.drop_index("ix_lw_cost_usage_day", table_name="lw_cost_usage")
    op.drop_table("lw_cost_usage")
    op.drop_index("ix_lw_cost_cursors_ended_at", table_name="lw_cost_cursors")
    op.drop_table("lw_cost_cursors")
