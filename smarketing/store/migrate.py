"""Schema migrations (Alembic): every database smarketing opens is first brought to the newest revision.

- A new database is created by running every revision from the first one.
- A version-1 database (tables, no `alembic_version`) is stamped with the first revision, which
  is exactly the version-1 schema, and upgraded from there: nothing is lost.
- A database of a newer smarketing (an unknown revision) is refused in one sentence.
- Two processes opening the same database at once: one migrates while the other waits (a
  PostgreSQL advisory lock; on SQLite the write transaction's lock).
"""

from __future__ import annotations

import functools
import hashlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from smarketing.core.errors import UserError

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BASELINE = "0001"  # the schema of smarketing version 1
VERSION_1_TABLES = {"owners", "leads", "touches", "deals", "terms_versions", "month_snapshots"}
_LOCK_KEY = int.from_bytes(hashlib.sha256(b"smarketing.migrate").digest()[:8], "big", signed=True)


def _config(connection: Connection | None = None) -> Config:
    from alembic.config import Config  # Alembic loads only when a migration runs (CLI start-up time)

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


@functools.cache
def revisions() -> tuple[str, ...]:
    """Every known revision, oldest first: each file in versions/ is named after its revision
    (NNNN_what.py, tested against Alembic's own reading), so opening a database that is already
    at the head imports no Alembic."""
    return tuple(sorted(path.name.partition("_")[0] for path in (MIGRATIONS / "versions").glob("[0-9]*_*.py")))


def head_revision() -> str:
    """The newest revision: the schema this code reads and writes."""
    return revisions()[-1]


def current_revision(conn: Connection) -> str | None:
    """The database's revision (None: no alembic_version table, or an empty one)."""
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Bring the database to the newest revision; returns (revision before, revision after)."""
    head = head_revision()
    with engine.connect() as conn:
        if current_revision(conn) == head:
            return head, head
    with engine.connect() as conn:
        conn.execution_options(smarketing_write=True)
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
            before = current_revision(conn)
            if before == head:
                return before, head
            from alembic import command

            if before is None and set(sa.inspect(conn).get_table_names()) >= VERSION_1_TABLES:
                command.stamp(_config(conn), BASELINE)
                before = BASELINE
            if before is not None and before not in revisions():
                raise UserError(
                    f"This database has schema revision {before}, written by a newer smarketing; "
                    "upgrade smarketing to open it."
                )
            command.upgrade(_config(conn), "head")
    if before is not None and before != head:
        log.warning("Upgraded the database schema from revision %s to %s.", before, head)
    return before, head
