"""E-mail job notifications; GPU leases shared by workspaces and jobs.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lw_job_notify_settings") as batch:
        batch.add_column(sa.Column("email", sa.String(320), nullable=False, server_default=""))
    op.create_table(
        "lw_gpu_leases",
        # One row per GPU in use on a host: the primary key makes taking a GPU atomic.
        sa.Column("host", sa.String(255), primary_key=True),
        sa.Column("gpu_index", sa.Integer(), primary_key=True),
        # workspace:<user>/<server> or job:<run id>
        sa.Column("holder", sa.String(255), nullable=False, index=True),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("lw_gpu_leases")
    with op.batch_alter_table("lw_job_notify_settings") as batch:
        batch.drop_column("email")
