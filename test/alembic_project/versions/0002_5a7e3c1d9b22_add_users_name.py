"""add users.name

Revision ID: 5a7e3c1d9b22
Revises: 3f1c2a9b7d10
Create Date: 2024-03-02 09:00:00

"""
from alembic import op
import sqlalchemy as sa

revision = "5a7e3c1d9b22"
down_revision = "3f1c2a9b7d10"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("users", sa.Column("name", sa.String(100)))
    op.create_index("ix_users_name", "users", ["name"])


def downgrade():
    op.drop_index("ix_users_name", table_name="users")
    op.drop_column("users", "name")
