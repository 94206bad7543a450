"""add audit log

The second head above 5a7e3c1d9b22: an enum type, a table and a trigger
written with op.execute.

Revision ID: 8c0e5f3a2b44
Revises: 5a7e3c1d9b22
Create Date: 2024-03-04 09:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "8c0e5f3a2b44"
down_revision = "5a7e3c1d9b22"
branch_labels = None
depends_on = None

audit_action = postgresql.ENUM("insert", "update", "delete", name="audit_action")


def upgrade():
    # create_table emits CREATE TYPE audit_action first (through the bind)
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("action", audit_action, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
        sa.Column("detail", postgresql.JSONB),
    )
    op.execute("""
        CREATE FUNCTION audit_users() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO audit_log (user_id, action)
            VALUES (COALESCE(NEW.id, OLD.id), lower(TG_OP)::audit_action);
            RETURN NULL;
        END
        $$
    """)
    # a body that holds the import's first dollar-quote tag: the importer
    # must pick another one
    op.execute("COMMENT ON FUNCTION audit_users() IS 'quoted as $pgm_1$...$pgm_1$ by an import'")
    op.execute("CREATE TRIGGER users_audit AFTER INSERT OR UPDATE OR DELETE ON users "
               "FOR EACH ROW EXECUTE FUNCTION audit_users()")


def downgrade():
    op.execute("DROP TRIGGER users_audit ON users")
    op.execute("DROP FUNCTION audit_users()")
    op.drop_table("audit_log")
    audit_action.drop(op.get_bind(), checkfirst=False)
