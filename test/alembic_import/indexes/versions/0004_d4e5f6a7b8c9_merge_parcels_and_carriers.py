"""merge parcels and carriers; rebuild carriers in batch mode

Its parents and dependencies are sets.  batch_alter_table(recreate="always")
copies the table with all its constraints and indexes.

Revision ID: d4e5f6a7b8c9
Revises: b2c3d4e5f6a7, c3d4e5f6a7b8
Create Date: 2024-05-05 10:00:00

"""
from alembic import op
import sqlalchemy as sa

revision = "d4e5f6a7b8c9"
down_revision = {"b2c3d4e5f6a7", "c3d4e5f6a7b8"}
branch_labels = None
depends_on = {"fleet", "a1b2c3d4e5f6"}


def carriers(meta):
    return sa.Table(
        "carriers", meta,
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


def upgrade():
    with op.batch_alter_table("carriers", recreate="always",
                              copy_from=carriers(sa.MetaData())) as batch:
        batch.add_column(sa.Column("website", sa.Text))
        batch.create_index("ix_carriers_website", ["website"])


def downgrade():
    op.drop_index("ix_carriers_website", table_name="carriers")
    op.drop_column("carriers", "website")
