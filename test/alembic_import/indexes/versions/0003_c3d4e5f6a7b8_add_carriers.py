"""add carriers, on a branch of its own

Its branch labels are a set, which has no order of its own.

Revision ID: c3d4e5f6a7b8
Revises: a1b2c3d4e5f6
Create Date: 2024-05-04 10:00:00

"""
from alembic import op
import sqlalchemy as sa

revision = "c3d4e5f6a7b8"
down_revision = "a1b2c3d4e5f6"
branch_labels = {"carriers", "logistics", "partners", "fleet", "vendors"}
depends_on = None


def upgrade():
    op.create_table(
        "carriers",
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("country", sa.Text, nullable=False, index=True),
        sa.Column("rating", sa.SmallInteger),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name="ck_carriers_rating"),
        sa.CheckConstraint("code = upper(code)", name="ck_carriers_code_upper"),
        sa.UniqueConstraint("name", name="uq_carriers_name"),
        sa.UniqueConstraint("country", "name", name="uq_carriers_country_name"),
        sa.Index("ix_carriers_rating", "rating", postgresql_where=sa.text("rating IS NOT NULL")),
        sa.Index("ix_carriers_lower_name", sa.text("lower(name)"), unique=True),
    )


def downgrade():
    op.drop_table("carriers")
