"""add report_runs

A second base, branch "reporting"; it needs users, so it depends on
3f1c2a9b7d10 without descending from it.

Revision ID: ad2a7b5c4d66
Revises:
Create Date: 2024-03-06 09:00:00

"""
from alembic import op
import sqlalchemy as sa

revision = "ad2a7b5c4d66"
down_revision = None
branch_labels = ("reporting",)
depends_on = "3f1c2a9b7d10"


def upgrade():
    op.create_table(
        "report_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("requested_by", sa.BigInteger, sa.ForeignKey("users.id", name="fk_report_runs_user"),
                  nullable=False),
        sa.Column("status", sa.String(20), nullable=False, server_default="queued"),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("finished_at IS NULL OR finished_at >= started_at", name="ck_report_runs_times"),
    )


def downgrade():
    op.drop_table("report_runs")
