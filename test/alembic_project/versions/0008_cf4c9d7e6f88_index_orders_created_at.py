"""index orders.created_at concurrently

CREATE INDEX CONCURRENTLY cannot run in a transaction block: Alembic needs
an autocommit block, pg_migrate a revision registered with
transactional => false.

Revision ID: cf4c9d7e6f88
Revises: be3b8c6d5e77
Create Date: 2024-03-08 09:00:00

"""
from alembic import op

revision = "cf4c9d7e6f88"
down_revision = "be3b8c6d5e77"
branch_labels = None
depends_on = None


def upgrade():
    with op.get_context().autocommit_block():
        op.create_index("ix_orders_created_at", "orders", ["created_at"],
                        postgresql_concurrently=True)


def downgrade():
    with op.get_context().autocommit_block():
        op.drop_index("ix_orders_created_at", table_name="orders",
                      postgresql_concurrently=True)
