"""add orders

The first of two heads above 5a7e3c1d9b22; it starts branch "shop".

Revision ID: 7b9d4e2f1a33
Revises: 5a7e3c1d9b22
Create Date: 2024-03-03 09:00:00

"""
from alembic import op
import sqlalchemy as sa

revision = "7b9d4e2f1a33"
down_revision = "5a7e3c1d9b22"
branch_labels = ("shop",)
depends_on = None


def upgrade():
    op.create_table(
        "orders",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("total", sa.Numeric(12, 2), nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.text("now()")),
        sa.CheckConstraint("total >= 0", name="ck_orders_total"),
    )
    op.create_foreign_key("fk_orders_user_id", "orders", "users", ["user_id"], ["id"],
                          ondelete="CASCADE")
    op.create_index("ix_orders_user_id", "orders", ["user_id"])


def downgrade():
    op.drop_index("ix_orders_user_id", table_name="orders")
    op.drop_constraint("fk_orders_user_id", "orders", type_="foreignkey")
    op.drop_table("orders")
