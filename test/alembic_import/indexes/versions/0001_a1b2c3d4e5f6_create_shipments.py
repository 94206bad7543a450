"""create shipments, with many indexes

Revision ID: a1b2c3d4e5f6
Revises:
Create Date: 2024-05-02 10:00:00

"""
from alembic import op
import sqlalchemy as sa

revision = "a1b2c3d4e5f6"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "shipments",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("carrier", sa.Text, nullable=False, index=True),
        sa.Column("tracking_no", sa.Text, nullable=False, index=True, unique=True),
        sa.Column("origin", sa.Text, index=True),
        sa.Column("destination", sa.Text, index=True),
        sa.Column("weight_g", sa.Integer, sa.CheckConstraint("weight_g > 0", name="ck_weight_pos"),
                  sa.CheckConstraint("weight_g < 1000000", name="ck_weight_max")),
        sa.Column("shipped_at", sa.DateTime(timezone=True), index=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True)),
        sa.Column("status", sa.Text, nullable=False, server_default="new"),
        sa.Index("ix_shipments_route", "origin", "destination"),
        sa.Index("ix_shipments_open", "status", postgresql_where=sa.text("delivered_at IS NULL")),
        sa.Index("ix_shipments_carrier_time", "carrier", sa.text("shipped_at DESC")),
        sa.Index("uq_shipments_carrier_tracking", "carrier", "tracking_no", unique=True),
        sa.Index("ix_shipments_lower_dest", sa.text("lower(destination)")),
    )


def downgrade():
    op.drop_table("shipments")
