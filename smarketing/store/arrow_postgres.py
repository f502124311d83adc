"""Arrow-native reads of PostgreSQL in this process (issue 17).

The ADBC PostgreSQL driver reads a select's rows straight into Arrow columns (PostgreSQL's binary
COPY), many times faster than rows through psycopg and pandas. Unlike SQLite's it needs no child
process: a second PostgreSQL client library holds no file locks of this process's connections.

Connecting costs tens of milliseconds, so connections stay open between reads: an idle one is taken
for each read and given back afterwards, so concurrent reads each have their own; one that fails is
closed, and an idle one the server has closed meanwhile is replaced at once.
"""

import atexit
import importlib.util
import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from smarketing.store.arrow_reads import ArrowReadError

AVAILABLE = importlib.util.find_spec("adbc_driver_postgresql") is not None  # else reads take psycopg's path
IDLE_CONNECTIONS = 4  # per database
# One snapshot for every statement of a read, as the SQLite reader's single read transaction.
BEGIN = "BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"
# For this transaction only: enough memory to hash `lead_id IN (the month's leads)`. Under the default
# 4 MB, a list of 600,000 ids (a month at 10M leads) is matched row by row against every deal: the
# month's deal read ran for minutes instead of a second.
WORK_MEM = "SET LOCAL work_mem = '256MB'"


@dataclass
class _Connection:
    """One ADBC connection and the process that opened it."""

    adbc: Any
    parent: int = field(default_factory=os.getpid)

    def close(self) -> None:
        """Close it (not in a fork's child: that would end the parent's session on the shared socket)."""
        if self.parent != os.getpid():
            return
        try:
            self.adbc.close()
        except Exception:  # already broken: nothing more to release
            pass


_IDLE: dict[str, list[_Connection]] = {}
_IDLE_LOCK = threading.Lock()


def read_batches(conninfo: str, statements: Sequence[tuple[str, Sequence[Any]]]) -> Iterator[Iterator[pa.RecordBatch]]:
    """The rows of each (SQL with $n placeholders, positional parameters) statement, in Arrow batches,
    all from one read-only REPEATABLE READ transaction of the database `conninfo` names (libpq
    key=value text), in order; raises ArrowReadError. Each statement's batches are read before the next
    statement runs."""
    connection = _begun(conninfo)
    done = False
    try:
        for sql, params in statements:
            with connection.adbc.cursor() as cursor:  # a cursor each: no earlier statement's bound parameters
                cursor.execute(sql, list(params) or None)
                batches = _checked(cursor.fetch_record_batch())
                yield batches
                for _ in batches:  # what the caller left unread, so that the connection can run the next
                    pass
        _run(connection, "COMMIT")
        done = True
    except ArrowReadError:
        raise
    except Exception as exc:  # the driver's errors (adbc_driver_manager.Error), Arrow's, the socket's
        raise ArrowReadError(f"{type(exc).__name__}: {exc}") from None
    finally:
        if done:
            _give_back(conninfo, connection)
        else:
            connection.close()


def _checked(reader: pa.RecordBatchReader) -> Iterator[pa.RecordBatch]:
    """The reader's batches, its failures as ArrowReadError."""
    try:
        yield from reader
    except Exception as exc:
        raise ArrowReadError(f"{type(exc).__name__}: {exc}") from None


def _run(connection: _Connection, sql: str) -> None:
    """Run a statement that answers no rows."""
    with connection.adbc.cursor() as cursor:
        cursor.adbc_statement.set_sql_query(sql)
        cursor.adbc_statement.execute_update()


def _begin(connection: _Connection) -> None:
    """Begin the read's transaction."""
    _run(connection, BEGIN)
    _run(connection, WORK_MEM)


def _begun(conninfo: str) -> _Connection:
    """A connection to the database with the read's transaction begun: an idle one, else a new one."""
    while (connection := _take(conninfo)) is not None:
        try:
            _begin(connection)
            return connection
        except Exception:  # closed by the server while idle (restart, timeout): try the next
            connection.close()
    try:
        import adbc_driver_postgresql.dbapi  # here: its driver library loads only when a read needs it

        connection = _Connection(adbc_driver_postgresql.dbapi.connect(conninfo, autocommit=True))
    except Exception as exc:
        raise ArrowReadError(f"cannot connect: {type(exc).__name__}: {exc}") from None
    try:
        _begin(connection)
    except Exception as exc:
        connection.close()
        raise ArrowReadError(f"{type(exc).__name__}: {exc}") from None
    return connection


def _take(conninfo: str) -> _Connection | None:
    """An idle connection of this process to the database, if any."""
    with _IDLE_LOCK:
        idle = _IDLE.get(conninfo, [])
        while idle:
            connection = idle.pop()
            if connection.parent == os.getpid():
                return connection
    return None


def _give_back(conninfo: str, connection: _Connection) -> None:
    """Keep the connection for the next read (up to IDLE_CONNECTIONS per database), else close it."""
    with _IDLE_LOCK:
        idle = _IDLE.setdefault(conninfo, [])
        if len(idle) < IDLE_CONNECTIONS:
            idle.append(connection)
            return
    connection.close()


@atexit.register
def close_idle() -> None:
    """Close every idle connection (when the process ends, or a test wants none left)."""
    with _IDLE_LOCK:
        connections = [c for idle in _IDLE.values() for c in idle]
        _IDLE.clear()
    for connection in connections:
        connection.close()
