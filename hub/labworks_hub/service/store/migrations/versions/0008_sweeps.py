"""Sweeps: a sweep, its trials (each a job run) and its Optuna journal.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "lw_sweeps",
        sa.Column("id", sa.String(12), primary_key=True),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("visibility", sa.String(300), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column(
            "definition_id",
            sa.String(12),
            sa.ForeignKey("lw_job_definitions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("space", sa.JSON(), nullable=False),
        sa.Column("metric", sa.String(255), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("sampler", sa.String(16), nullable=False),
        sa.Column("pruner", sa.String(16), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=True),
        sa.Column("n_trials", sa.Integer(), nullable=False),
        sa.Column("parallel", sa.Integer(), nullable=False),
        sa.Column("timeout_seconds", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("parent_run_id", sa.String(64), nullable=False),
        sa.Column("experiment_id", sa.String(64), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("started_at", WHEN, nullable=False),
        sa.Column("finished_at", WHEN, nullable=True),
    )
    for column in ("owner", "visibility", "definition_id", "status"):
        op.create_index(f"ix_lw_sweeps_{column}", "lw_sweeps", [column])
    op.create_table(
        "lw_sweep_trials",
        sa.Column(
            "sweep_id",
            sa.String(12),
            sa.ForeignKey("lw_sweeps.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("number", sa.Integer(), primary_key=True),
        sa.Column("run_id", sa.String(12), nullable=False, unique=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("mlflow_run_id", sa.String(64), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("finished_at", WHEN, nullable=True),
    )
    op.create_table(
        "lw_sweep_journal",
        sa.Column(
            "sweep_id",
            sa.String(12),
            sa.ForeignKey("lw_sweeps.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("line", sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("lw_sweep_journal")
    op.drop_table("lw_sweep_trials")
    for column in ("owner", "visibility", "definition_id", "status"):
        op.drop_index(f"ix_lw_sweeps_{column}", table_name="lw_sweeps")
    op.drop_table("lw_sweeps")
