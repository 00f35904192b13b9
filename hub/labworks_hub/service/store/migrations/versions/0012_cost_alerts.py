"""Cost alerts that fired, budget overrides, and a sweep's cost cap.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lw_cost_alerts",
        sa.Column("key", sa.String(512), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered", sa.Integer(), nullable=False),
    )
    op.create_index("ix_lw_cost_alerts_owner", "lw_cost_alerts", ["owner"])
    with op.batch_alter_table("lw_cost_budgets") as batch:
        batch.add_column(sa.Column("override_until", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("lw_sweeps") as batch:
        batch.add_column(sa.Column("max_cost_usd", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("lw_sweeps") as batch:
        batch.drop_column("max_cost_usd")
    with op.batch_alter_table("lw_cost_budgets") as batch:
        batch.drop_column("override_until")
    op.drop_index("ix_lw_cost_alerts_owner", table_name="lw_cost_alerts")
    op.drop_table("lw_cost_alerts")
