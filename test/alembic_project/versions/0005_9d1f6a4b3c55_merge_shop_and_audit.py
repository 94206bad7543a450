"""merge shop and audit, add user_orders

Revision ID: 9d1f6a4b3c55
Revises: 7b9d4e2f1a33, 8c0e5f3a2b44
Create Date: 2024-03-05 09:00:00

"""
from alembic import op

revision = "9d1f6a4b3c55"
down_revision = ("7b9d4e2f1a33", "8c0e5f3a2b44")
branch_labels = None
depends_on = None


def upgrade():
    op.execute("""
        CREATE VIEW user_orders AS
            SELECT u.id AS user_id, u.name, o.id AS order_id, o.total
            FROM users u JOIN orders o ON o.user_id = u.id
    """)


def downgrade():
    op.execute("DROP VIEW user_orders")
