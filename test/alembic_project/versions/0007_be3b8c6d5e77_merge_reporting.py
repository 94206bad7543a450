"""merge reporting

Revision ID: be3b8c6d5e77
Revises: 9d1f6a4b3c55, ad2a7b5c4d66
Create Date: 2024-03-07 09:00:00

"""

revision = "be3b8c6d5e77"
down_revision = ("9d1f6a4b3c55", "ad2a7b5c4d66")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
