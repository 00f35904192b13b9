"""Notebook jobs: input notebooks, job definitions, schedules, runs, run events, notifications.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _spec() -> list[sa.Column]:
    """What to run: the columns definitions and runs share."""
    return [
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("notebook_path", sa.String(1024), nullable=False),
        sa.Column(
            "notebook_sha256",
            sa.String(64),
            sa.ForeignKey("lw_job_notebooks.sha256"),
            nullable=False,
        ),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("profile", sa.String(255), nullable=False),
        sa.Column("kernel_name", sa.String(255), nullable=False),
        sa.Column("image", sa.String(1024), nullable=False),
        sa.Column("timeout", sa.Integer(), nullable=False),
        sa.Column("max_retries", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "lw_job_notebooks",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        _when("created_at"),
    )
    op.create_table(
        "lw_job_definitions",
        sa.Column("id", sa.String(12), primary_key=True),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("share_group", sa.String(255), nullable=True),
        *_spec(),
        _when("created_at"),
    )
    op.create_index("ix_lw_job_definitions_owner", "lw_job_definitions", ["owner"])
    op.create_index("ix_lw_job_definitions_share_group", "lw_job_definitions", ["share_group"])
    op.create_table(
        "lw_job_schedules",
        sa.Column("id", sa.String(12), primary_key=True),
        sa.Column(
            "definition_id",
            sa.String(12),
            sa.ForeignKey("lw_job_definitions.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("cron", sa.String(255), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        _when("next_run_at", nullable=True),
        _when("last_run_at", nullable=True),
        _when("created_at"),
        _when("updated_at"),
    )
    op.create_index("ix_lw_job_schedules_next_run_at", "lw_job_schedules", ["next_run_at"])
    op.create_table(
        "lw_job_runs",
        sa.Column("id", sa.String(12), primary_key=True),
        sa.Column(
            "definition_id",
            sa.String(12),
            sa.ForeignKey("lw_job_definitions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("schedule_id", sa.String(12), nullable=True),
        sa.Column("rerun_of", sa.String(12), nullable=True),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("share_group", sa.String(255), nullable=True),
        *_spec(),
        sa.Column("resources", sa.JSON(), nullable=False),
        sa.Column("environment", sa.JSON(), nullable=False),
        sa.Column("executor", sa.String(64), nullable=False),
        sa.Column("executor_state", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("has_output", sa.Boolean(), nullable=False),
        _when("created_at"),
        _when("updated_at"),
        _when("not_before"),
        _when("started_at", nullable=True),
        _when("finished_at", nullable=True),
    )
    for column in ("definition_id", "schedule_id", "owner", "share_group", "status", "updated_at"):
        op.create_index(f"ix_lw_job_runs_{column}", "lw_job_runs", [column])
    op.create_table(
        "lw_job_run_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "run_id",
            sa.String(12),
            sa.ForeignKey("lw_job_runs.id", ondelete="CASCADE"),
            nullable=False,
        ),
        _when("at"),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
    )
    op.create_index("ix_lw_job_run_events_run_id", "lw_job_run_events", ["run_id"])
    op.create_table(
        "lw_job_notify_settings",
        sa.Column("owner", sa.String(255), primary_key=True),
        sa.Column("webhook_url", sa.Text(), nullable=False),
        sa.Column("events", sa.String(16), nullable=False),
        _when("updated_at"),
    )


def downgrade() -> None:
    op.drop_table("lw_job_notify_settings")
    op.drop_index("ix_lw_job_run_events_run_id", table_name="lw_job_run_events")
    op.drop_table("lw_job_run_events")
    for column in ("definition_id", "schedule_id", "owner", "share_group", "status", "updated_at"):
        op.drop_index(f"ix_lw_job_runs_{column}", table_name="lw_job_runs")
    op.drop_table("lw_job_runs")
    op.drop_index("ix_lw_job_schedules_next_run_at", table_name="lw_job_schedules")
    op.drop_table("lw_job_schedules")
    op.drop_index("ix_lw_job_definitions_share_group", table_name="lw_job_definitions")
    op.drop_index("ix_lw_job_definitions_owner", table_name="lw_job_definitions")
    op.drop_table("lw_job_definitions")
    op.drop_table("lw_job_notebooks")
