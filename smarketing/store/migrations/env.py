"""Alembic environment: runs on the connection smarketing hands over (see store/migrate.py), or, from
the `alembic` command line, on SMARKETING_DB (default: the project's SQLite file)."""

from alembic import context

from smarketing.store import tables
from smarketing.store.tables import metadata

config = context.config


def run_on(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run_on(connection)
else:  # the alembic command line, for writing a new revision
    from smarketing.store import storage

    engine = storage.open_unmigrated_engine(storage.default_db_url())
    with engine.connect() as conn:
        run_on(conn)
        conn.commit()

__all__ = ["tables"]
