"""add parcels: add_column() with several constraints and indexes

Revision ID: b2c3d4e5f6a7
Revises: a1b2c3d4e5f6
Create Date: 2024-05-03 10:00:00

"""
from alembic import op
import sqlalchemy as sa

revision = "b2c3d4e5f6a7"
down_revision = "a1b2c3d4e5f6"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "parcels",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("label", sa.Text, nullable=False),
    )
    # one column, several constraints: add_column() emits one ALTER TABLE ...
    # ADD CONSTRAINT per table constraint (the foreign key, the unique one)
    op.add_column(
        "parcels",
        sa.Column("shipment_id", sa.BigInteger,
                  sa.ForeignKey("shipments.id", name="fk_parcels_shipment"),
                  sa.CheckConstraint("shipment_id > 0", name="ck_parcels_shipment_pos"),
                  unique=True),
    )
    # and one with index=True: a CREATE INDEX after the ALTER TABLE
    op.add_column("parcels", sa.Column("weight_g", sa.Integer, index=True))


def downgrade():
    op.drop_column("parcels", "weight_g")
    op.drop_column("parcels", "shipment_id")
    op.drop_table("parcels")
