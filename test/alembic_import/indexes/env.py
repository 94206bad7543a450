"""Offline-only environment of the index-order fixture."""
from alembic import context


def run_migrations_offline():
    context.configure(
        url=context.config.get_main_option("sqlalchemy.url"),
        target_metadata=None,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


if not context.is_offline_mode():
    raise SystemExit("this fixture is only ever rendered offline")
run_migrations_offline()
