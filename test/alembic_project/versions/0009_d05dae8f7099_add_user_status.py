"""add user status

A lookup table filled with op.bulk_insert, a column that references it, and
a data update.

Revision ID: d05dae8f7099
Revises: cf4c9d7e6f88
Create Date: 2024-03-09 09:00:00

"""
from alembic import op
import sqlalchemy as sa

revision = "d05dae8f7099"
down_revision = "cf4c9d7e6f88"
branch_labels = None
depends_on = None


def upgrade():
    statuses = op.create_table(
        "user_statuses",
        sa.Column("code", sa.String(20), primary_key=True),
        sa.Column("label", sa.Text, nullable=False),
    )
    op.bulk_insert(statuses, [
        {"code": "active", "label": "Active"},
        {"code": "suspended", "label": "Suspended (it's temporary)"},
    ])
    op.add_column("users", sa.Column("status", sa.String(20), nullable=True))
    op.execute("UPDATE users SET status = 'active' WHERE status IS NULL")
    op.alter_column("users", "status", nullable=False, server_default="active")
    op.create_foreign_key("fk_users_status", "users", "user_statuses", ["status"], ["code"])


def downgrade():
    op.drop_constraint("fk_users_status", "users", type_="foreignkey")
    op.drop_column("users", "status")
    op.drop_table("user_statuses")
