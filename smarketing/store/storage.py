"""The storage shell (DESIGN sections 1, 2 and 6): SQLModel tables, engines from a URL, upserts.

The only module that speaks SQL. SQLite (the embedded default) and PostgreSQL
(`postgresql+psycopg://`, for teams) are supported. Data tables hold exactly the columns
of `frames.SCHEMAS`; instants are `DateTime(timezone=True)`, stored in UTC (on SQLite as
`YYYY-MM-DD HH:MM:SS.ffffff` text, on PostgreSQL as timestamptz), at microsecond precision
(finer parts are dropped when saving). Frames go in and come out through the canonical
`frames.normalize`.

Decisions worth knowing:
- `save_data` writes only the rows that are new or differ from the stored ones, so
  re-saving the same data touches nothing and the counts are exact: the rows are
  bulk-loaded (5,000 per batch: executemany on SQLite, COPY on PostgreSQL) into a
  temporary table, compared with the stored rows in SQL, and upserted with the dialect's
  INSERT ... SELECT ... ON CONFLICT DO UPDATE. An empty table is loaded directly, in time
  order (SQLite builds its secondary indexes once, afterwards), which keeps a month's rows
  together on disk and makes month loads fast.
- `delete_all_data` also forgets the sync cursors: a cursor describes rows that are gone.
- Loads from a SQLite file (load_data, load_recent_data) read every table in one snapshot through
  the Arrow reader in a child process (store/arrow_reads.py: ADBC, columns straight into Arrow,
  instants parsed by Arrow; in a child because a second SQLite library in this process would drop
  sqlite3's file locks), converted to exactly the frames of the cursor path below. Loads from
  PostgreSQL do the same in this process (store/arrow_postgres.py: ADBC's binary COPY, one read-only
  REPEATABLE READ transaction; the same rows as psycopg's, in an order neither path fixes). The
  cursor path (memory databases, inside a write, without the ADBC drivers, or when the Arrow reader
  fails: one warning) reads SQLite rows from the driver's cursor in batches, each typed and
  normalised before the next is fetched, bypassing pandas.read_sql (PostgreSQL's go through it).
  The history behind consequences reads only the columns and follow-up touches commitment-only
  scorecards use.
- Snapshot times (`closed_at`, `as_of`) come back as ISO 8601 strings with offset, like the
  rest of a scorecard's JSON.
- `make_engine` brings the database to the newest schema revision (store/migrate.py) before use.
"""

import collections
import contextlib
import functools
import gc
import json
import logging
import os
import re
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from smarketing.core import bounds, frames
from smarketing.core.errors import UserError
from smarketing.core.exclusions import check_commitment, check_decidable
from smarketing.core.frames import (
    ALL_TABLES,
    AMOUNT,
    COMMITMENTS,
    DEAL_STATUSES,
    DECISIONS,
    DIRECTIONS,
    FLAG,
    ID_COLUMN,
    INSTANT,
    NO_SEGMENT,
    QUALIFYING_KINDS,
    REQUIRED,
    SCHEMAS,
    TABLES,
    TEXT,
    TOUCH_KINDS,
    CrmData,
)
from smarketing.core.marketing import PRIOR_MONTHS
from smarketing.core.months import add_months, month_bounds, month_of, parse_month
from smarketing.core.redact import register_secret, scrub
from smarketing.core.terms import TermsError, TermsVersion, parse_terms_toml
from smarketing.store import arrow_postgres, arrow_reads, migrate
from smarketing.store.tables import DATA_TABLES, EXCLUSIONS, LOADS, NOTES, SNAPSHOTS, SYNC, TERMS

log = logging.getLogger(__name__)

CHUNK_ROWS = 5_000
FETCH_ROWS = 100_000
STORED_INSTANT = "YYYY-MM-DD HH:MM:SS.ffffff"  # how SQLAlchemy stores an instant on SQLite (UTC)
URL_HINT = "use sqlite:///PATH or postgresql+psycopg://USER@HOST:PORT/DATABASE"
# Rows are written in this order so that one month's rows sit together on disk (fast month loads).
TIME_ORDER = {"leads": "mql_at", "touches": "occurred_at", "deals": "closed_at"}


def database_errors() -> tuple[type[BaseException], ...]:
    """Errors from SQLAlchemy or, for the driver-level bulk paths (executemany, COPY), the drivers:
    psycopg's only once it is imported (by a PostgreSQL engine; a SQLite process never pays for it)."""
    psycopg = sys.modules.get("psycopg")
    return (sa.exc.DBAPIError, sqlite3.Error, *([psycopg.Error] if psycopg is not None else []))


ALLOWED_VALUES: dict[str, dict[str, tuple[str, ...]]] = {
    "touches": {"kind": TOUCH_KINDS, "direction": DIRECTIONS},
    "deals": {"status": DEAL_STATUSES},
    "exclusions": {"commitment": COMMITMENTS, "decision": DECISIONS},
}
POSTGRES_CONNECT_ARGS: dict[str, Any] = {"connect_timeout": 10, "options": "-c timezone=UTC"}
# The ADBC PostgreSQL driver's placeholders ($1, $2, ...), with psycopg's casts of the parameters.
POSTGRES_DOLLAR = postgresql.psycopg.dialect(paramstyle="numeric_dollar")
# The tables save_data writes: the four CRM tables and the exclusions beside them.
WRITTEN_TABLES: dict[str, sa.Table] = {**DATA_TABLES, "exclusions": EXCLUSIONS}


# -- engines -----------------------------------------------------------------------------

_ENGINES: dict[str, Engine] = {}
_ENGINES_LOCK = threading.Lock()


def default_db_url() -> str:
    """SMARKETING_DB when set, else the SQLite file data/smarketing.db of the project."""
    configured = os.environ.get("SMARKETING_DB", "").strip()
    if configured:
        return configured
    path = Path(__file__).resolve().parents[2] / "data" / "smarketing.db"
    return f"sqlite:///{path}"


def mask_url(url: str | sa.URL) -> str:
    """The URL with any password (user info or ?password=) replaced by ***, safe to show or log."""
    try:
        parsed = sa.make_url(url)
    except Exception:  # unreadable, so no way to tell its password apart: show only the scheme
        scheme = re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", str(url))
        return f"{scheme.group(0)}…" if scheme else "(the URL, not shown)"
    register_url_secrets(parsed)
    return scrub(parsed.render_as_string(hide_password=True))


def register_url_secrets(url: sa.URL) -> None:
    """Remember the URL's password (user info or query) so no message or log shows it."""
    register_secret(url.password if isinstance(url.password, str) else None)
    for name, value in url.query.items():
        if name.lower() in ("password", "passfile", "sslpassword"):
            for item in (value,) if isinstance(value, str) else value:
                register_secret(item)


def make_engine(url: str | None = None) -> Engine:
    """The engine for a database URL (default: default_db_url()), tables created; cached per URL."""
    url = url or default_db_url()
    with _ENGINES_LOCK:
        engine = _ENGINES.get(url)
        if engine is None:
            engine = _open_engine(url)
            _ENGINES[url] = engine
    return engine


def _open_engine(url: str) -> Engine:
    """Create the engine and bring the schema to the newest revision, explaining a failure in one sentence."""
    engine = open_unmigrated_engine(url)
    try:
        migrate.upgrade(engine)
    except sa.exc.DBAPIError as exc:
        engine.dispose()
        reason = _reason(exc, engine.url.password)
        raise UserError(f"Cannot open the database {mask_url(engine.url)}: {reason}.") from None
    except UserError:
        engine.dispose()
        raise
    return engine


def open_unmigrated_engine(url: str) -> Engine:
    """The engine for a URL with the schema left as it is (for migrations and their tests)."""
    parsed = _parse_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    return sa.create_engine(parsed, pool_pre_ping=True, connect_args=POSTGRES_CONNECT_ARGS)


def _parse_url(url: str) -> sa.URL:
    """Parse and check a database URL; bare postgresql:// means the psycopg driver."""
    try:
        parsed = sa.make_url(url)
    except (sa.exc.ArgumentError, ValueError):
        raise UserError(f"The database URL {mask_url(url)} cannot be read; {URL_HINT}.") from None
    register_url_secrets(parsed)
    backend, _, driver = parsed.drivername.partition("+")
    if backend in ("postgres", "postgresql") and driver in ("", "psycopg"):
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite" and driver in ("", "pysqlite"):
        return parsed
    raise UserError(f"The database URL {mask_url(parsed)} is not supported; {URL_HINT}.")


def _sqlite_engine(url: sa.URL) -> Engine:
    """A SQLite engine in WAL mode with explicit BEGINs (IMMEDIATE for writes)."""
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        try:
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"Cannot create the folder of the database {database}: {exc.strerror}.") from None
    engine = sa.create_engine(url, connect_args={"timeout": 30})
    sa.event.listen(engine, "connect", _sqlite_on_connect)
    sa.event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    """Take transaction control from sqlite3 and set the pragmas."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in ("journal_mode=WAL", "foreign_keys=OFF", "busy_timeout=30000", "cache_size=-65536"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    """BEGIN IMMEDIATE for writes so concurrent writers wait instead of failing."""
    writing = conn.get_execution_options().get("smarketing_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")


def _reason(exc: BaseException, secret: str | None = None) -> str:
    """The driver's first line of explanation, without any password."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    register_secret(secret)
    return scrub(text).rstrip(".")


@contextmanager
def _writing(engine: Engine) -> Iterator[Connection]:
    """One write transaction: commits at the end, rolls everything back on any error."""
    with engine.connect() as conn:
        conn.execution_options(smarketing_write=True)
        with conn.begin():
            yield conn


# -- values ------------------------------------------------------------------------------


def _now() -> datetime:
    """The current instant in UTC."""
    return datetime.now(UTC)


def _utc(value: Any) -> pd.Timestamp:
    """An instant (Timestamp, datetime or ISO text; naive means UTC) as a UTC Timestamp."""
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _bind(value: Any) -> datetime:
    """An instant as a UTC datetime to bind (microsecond precision, as stored)."""
    return _utc(value).floor("us").to_pydatetime()


def _iso(value: Any) -> str | None:
    """A stored instant as ISO 8601 text with offset."""
    return None if value is None else _utc(value).isoformat()


def _json_default(value: Any) -> Any:
    """JSON for the values a scorecard may hold besides plain ones."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} cannot be stored in a snapshot")


# -- reading frames ----------------------------------------------------------------------


def _instant_columns(table: sa.Table) -> list[str]:
    """Names of the table's timestamp columns."""
    return [c.name for c in table.columns if isinstance(c.type, sa.DateTime)]


def _read_frame(conn: Connection, stmt: sa.Select, instants: list[str]) -> pd.DataFrame:
    """Run a select with pandas and parse its instant columns to datetime64 UTC."""
    frame = pd.read_sql(stmt, conn)
    for column in instants:
        frame[column] = pd.to_datetime(frame[column], format="ISO8601", utc=True)
    return frame


def _read_columns(
    conn: Connection,
    stmt: sa.Select,
    kinds: Mapping[str, str],
    finish: Callable[[pd.DataFrame], pd.DataFrame] = lambda frame: frame,
) -> pd.DataFrame:
    """A select of data-table columns as a frame, instants parsed to datetime64 UTC and, on SQLite,
    text as pandas strings (`kinds` maps column names to frames.SCHEMAS kinds), then `finish`ed.

    On SQLite the rows come straight from the driver's cursor, FETCH_ROWS at a time, and each
    batch is typed and finished (normalised) before the next is fetched: every value is already
    plain (instants are selected as text, flags as 0/1), so SQLAlchemy's and pandas' per-row work
    is skipped, and only one batch of Python objects and copies is alive at a time (peak memory;
    the Arrow-backed strings of the batches are joined without copying)."""
    if conn.dialect.name != "sqlite":
        frame = pd.read_sql(stmt, conn)
        for column in frame.columns:
            if kinds.get(column) == INSTANT:
                frame[column] = pd.to_datetime(frame[column], format="ISO8601", utc=True)
        return finish(frame)
    result = conn.execute(stmt)
    names = list(result.keys())
    try:
        return _batched_frame(names, kinds, finish, _cursor_batches(result, names, kinds))
    finally:
        result.close()


def _cursor_batches(result: sa.CursorResult, names: list[str], kinds: Mapping[str, str]) -> Iterator[dict]:
    """The result's rows, FETCH_ROWS at a time, as typed columns."""
    while rows := result.cursor.fetchmany(FETCH_ROWS):
        block = np.empty((len(rows), len(names)), dtype=object)
        block[:] = rows
        yield {n: _typed(block[:, i], kinds.get(n)) for i, n in enumerate(names)}


def _batched_frame(
    names: list[str],
    kinds: Mapping[str, str],
    finish: Callable[[pd.DataFrame], pd.DataFrame],
    batches: Iterator[dict[str, pd.Series]],
) -> pd.DataFrame:
    """One frame of the finished batches (each finished before the next is read)."""
    parts = [finish(pd.DataFrame(columns)) for columns in batches]
    if not parts:
        return finish(pd.DataFrame({n: _typed(np.empty(0, dtype=object), kinds.get(n)) for n in names}))
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def _typed(values: np.ndarray, kind: str | None) -> pd.Series:
    """One fetched column: instants as datetime64 UTC, text as pandas strings, the rest as objects for normalize."""
    if kind == INSTANT:
        return pd.Series(pd.to_datetime(values, format="ISO8601", utc=True), copy=False)
    if kind == TEXT:
        return pd.Series(pd.array(values, dtype="string"), copy=False)
    # An explicit object Series: bare object arrays would be searched for dates.
    return pd.Series(values.copy(), dtype=object, copy=False)


def _select(conn: Connection, table: sa.Table, columns: list[str] | None = None) -> sa.Select:
    """SELECT of every column (or the named ones); SQLite instants come as raw text, parsed vectorised later."""
    chosen = [c for c in table.columns if columns is None or c.name in columns]
    if conn.dialect.name != "sqlite":
        return sa.select(*chosen)
    return sa.select(
        *(sa.type_coerce(c, sa.String).label(c.name) if isinstance(c.type, sa.DateTime) else c for c in chosen)
    )


def _read(
    conn: Connection, name: str, where: sa.ColumnElement[bool] | None = None, columns: list[str] | None = None
) -> pd.DataFrame:
    """Rows of a data table as a canonical frame (columns not read are empty)."""
    return _read_columns(conn, *_table_read(conn, name, where, columns))


# A read: the select, the frames.SCHEMAS kinds of its columns, and what finishes its frame.
Read = tuple[sa.Select, Mapping[str, str], Callable[[pd.DataFrame], pd.DataFrame]]


def _table_read(
    conn: Connection, name: str, where: sa.ColumnElement[bool] | None = None, columns: list[str] | None = None
) -> Read:
    """The read of a data table's rows as a canonical frame (columns not read are empty)."""
    stmt = _select(conn, WRITTEN_TABLES[name], columns)
    if where is not None:
        stmt = stmt.where(where)
    return stmt, SCHEMAS[name], functools.partial(frames.normalize, name)


def _read_all(conn: Connection, reads: Mapping[str, Read]) -> dict[str, pd.DataFrame]:
    """Each read's frame: outside a write, from a SQLite file through the Arrow reader's children and from
    PostgreSQL through ADBC in this process, all in one snapshot; otherwise, or when that reader fails
    (one warning), through _read_columns."""
    path, conninfo = _sqlite_file(conn), _postgres_conninfo(conn)
    if path is not None or conninfo is not None:
        dialect = conn.dialect if path is not None else POSTGRES_DOLLAR
        statements = [_statement(dialect, stmt) for stmt, _, _ in reads.values()]
        try:
            if path is not None:
                # Two reader children at once, whose snapshots the commit version shows to be the same.
                batches = arrow_reads.read_batches(
                    path, statements, FETCH_ROWS, commit_version=lambda: _commit_version(conn.engine)
                )
            else:
                batches = arrow_postgres.read_batches(conninfo, statements)
            with contextlib.closing(batches) as results:
                return {
                    name: _arrow_frame(stmt, kinds, finish, batches)
                    for (name, (stmt, kinds, finish)), batches in zip(reads.items(), results, strict=True)
                }
        except arrow_reads.ArrowReadError as exc:
            log.warning(
                "The Arrow reader failed (%s); reading through %s.",
                scrub(str(exc).strip().splitlines()[0]),
                "sqlite3" if path is not None else "psycopg",
            )
    return {name: _read_columns(conn, *read) for name, read in reads.items()}


def _postgres_conninfo(conn: Connection) -> str | None:
    """The libpq connection text of the PostgreSQL database conn reads outside a write (None for
    SQLite, inside a write, or without the ADBC PostgreSQL driver); holds any password: never show it."""
    url = conn.engine.url
    if url.get_backend_name() != "postgresql" or conn.get_execution_options().get("smarketing_write"):
        return None
    # An option given several times (hosts to try in turn) is left to psycopg's own reading of the URL.
    if not arrow_postgres.AVAILABLE or any(not isinstance(v, str) for v in url.query.values()):
        return None
    parts = {"host": url.host, "port": url.port, "dbname": url.database, "user": url.username}
    # The query's libpq options (sslmode, ...), then the engine's connect_args, as psycopg gets them.
    options = {**url.query, **POSTGRES_CONNECT_ARGS}
    import psycopg.conninfo  # here: only a PostgreSQL engine needs psycopg

    return psycopg.conninfo.make_conninfo(
        **{k: v for k, v in parts.items() if v is not None}, **_password(url), **options
    )


def _password(url: sa.URL) -> dict[str, str]:
    """The URL's password as a libpq option, if it has one."""
    return {"password": url.password} if isinstance(url.password, str) else {}


def _sqlite_file(conn: Connection) -> str | None:
    """The path of the SQLite database file, if that is what conn reads outside a write (None for
    PostgreSQL, memory and URI databases, a missing file, or inside a write)."""
    if conn.get_execution_options().get("smarketing_write") or not arrow_reads.AVAILABLE:
        return None
    path = _sqlite_path(conn.engine.url)
    return str(path) if path is not None and path.is_file() else None


def _sqlite_path(url: sa.URL) -> Path | None:
    """The resolved path of a SQLite database file's URL (None for PostgreSQL, memory and URI databases)."""
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database).expanduser().resolve()


def _statement(dialect: sa.Dialect, stmt: sa.Select) -> tuple[str, list[Any]]:
    """A select as SQL text and positional parameters (IN lists expanded), bound as SQLAlchemy binds
    them for the dialect's driver (on SQLite, instants as the stored text)."""
    compiled = stmt.compile(dialect=dialect)
    state = compiled.construct_expanded_state()
    origin = {item: name for name, items in state.parameter_expansion.items() for item in items}
    values = []
    for name in state.positiontup or []:
        bind_type = compiled.binds[origin.get(name, name)].type
        process = bind_type.dialect_impl(dialect).bind_processor(dialect)
        values.append(process(state.parameters[name]) if process else state.parameters[name])
    return state.statement, values


def _arrow_frame(
    stmt: sa.Select, kinds: Mapping[str, str], finish: Callable, batches: Iterator[pa.RecordBatch]
) -> pd.DataFrame:
    """Arrow batches of a select's rows as the frame _read_columns gives for the same rows."""
    names = list(stmt.selected_columns.keys())

    def typed(batch: pa.RecordBatch) -> dict[str, pd.Series]:
        if batch.num_columns != len(names):
            raise arrow_reads.ArrowReadError(f"{batch.num_columns} columns read, {len(names)} selected")
        return {n: _arrow_typed(batch.column(i), kinds.get(n)) for i, n in enumerate(names)}

    return _batched_frame(names, kinds, finish, map(typed, batches))


def _arrow_typed(column: pa.Array, kind: str | None) -> pd.Series:
    """One Arrow column as _typed gives it (values of a type not foreseen here go through _typed)."""
    if column.null_count == len(column):  # no rows or only NULLs: the driver cannot tell the type
        return _typed(np.full(len(column), None, dtype=object), kind)
    if kind == INSTANT and column.type == pa.string() and (stamps := _stored_instants(column)) is not None:
        return stamps.to_pandas().dt.tz_convert("UTC")  # the cursor path's UTC (Arrow gives ZoneInfo("UTC"))
    if kind == INSTANT and pa.types.is_timestamp(column.type) and column.type.tz is not None:  # PostgreSQL's
        return column.to_pandas().dt.tz_convert("UTC")
    if kind == TEXT and column.type == pa.string():
        # Copied out (as pandas' large_string), so that the frame does not keep the batch's whole
        # answer alive (normalize keeps text without empty strings as it is).
        text = pa.concat_arrays([column.cast(pa.large_string()), pa.array([], pa.large_string())])
        return text.to_pandas(types_mapper={pa.large_string(): pd.StringDtype()}.get)
    if kind == FLAG and column.type == pa.int64() and _within(column, 0, 1):
        return column.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
    if kind == FLAG and column.type == pa.bool_():  # PostgreSQL's booleans (SQLite's are the 0/1 above)
        return column.to_pandas(types_mapper={pa.bool_(): pd.BooleanDtype()}.get)
    if kind == AMOUNT and column.type == pa.float64():
        return column.to_pandas().copy()  # not a view of the batch's answer
    values = np.empty(len(column), dtype=object)
    values[:] = column.to_pylist()
    return _typed(values, kind)


def _stored_instants(column: pa.Array) -> pa.Array | None:
    """Text instants as UTC timestamps (us, as pandas parses them) when every one is in the stored
    form, naive UTC 'YYYY-MM-DD HH:MM:SS.ffffff' (None otherwise: _typed parses the rest)."""
    if not _within(pc.utf8_length(column), len(STORED_INSTANT), len(STORED_INSTANT)):
        return None
    try:
        return column.cast(pa.timestamp("us")).cast(pa.timestamp("us", "UTC"))
    except pa.ArrowInvalid:
        return None


def _within(column: pa.Array, low: int, high: int) -> bool:
    """Whether every non-NULL value lies in [low, high]."""
    bounds_ = pc.min_max(column)
    return low <= bounds_["min"].as_py() and bounds_["max"].as_py() <= high


# -- saving data -------------------------------------------------------------------------


def save_data(
    engine: Engine,
    data: CrmData,
    *,
    source: str,
    detail: str = "",
    sync_cursors: dict[str, str] | None = None,
    columns: Mapping[str, Sequence[str]] | None = None,
    error: str | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> dict[str, dict[str, int]]:
    """Upsert the four tables (and exclusions, when there are any) by id, the sync cursors and a data_loads row in one transaction.

    `columns` names, per table, the columns its source carries (default: all): a stored row
    keeps every other column, so a file with only lead_id and segment erases no dates. With
    `error` the load is recorded as failed (a sync that stopped still saves what it read). `progress(fraction,
    label)` hears each table saved (the commit comes after the last)."""
    started = _now()
    names = [*TABLES, *(["exclusions"] if len(data.exclusions) else [])]
    try:
        prepared = {name: _prepare(name, data.frame(name)) for name in names}
        carried = {name: _carried(name, (columns or {}).get(name)) for name in names}
        with _writing(engine) as conn:
            counts = {}
            for number, name in enumerate(names):
                if progress is not None:
                    progress(number / len(names), f"Saving {name}: {len(prepared[name]):,} rows")
                counts[name] = _upsert_frame(conn, name, prepared[name], carried[name])
            _write_cursors(conn, sync_cursors or {})
            _record_load(conn, source, detail, started, counts, error)
    except database_errors() as exc:
        message = f"Saving to the database failed and nothing was saved: {_reason(exc)}."
        _record_failed_load(engine, source, detail, started, message)
        raise UserError(message) from exc
    except Exception as exc:
        _record_failed_load(engine, source, detail, started, str(exc) or type(exc).__name__)
        raise
    return counts


def _carried(name: str, columns: Sequence[str] | None) -> tuple[str, ...]:
    """The table's columns a source carries, in schema order, its id always among them."""
    if columns is None:
        return tuple(SCHEMAS[name])
    wanted = set(columns) | {ID_COLUMN[name]}
    return tuple(c for c in SCHEMAS[name] if c in wanted)


def _prepare(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """The frame in canonical form at microsecond precision, validated."""
    template = frames.empty_frame(name)
    same_shape = list(frame.columns) == list(template.columns) and bool((frame.dtypes == template.dtypes).all())
    canonical = frame if same_shape else frames.normalize(name, frame)
    instants = [c for c, kind in SCHEMAS[name].items() if kind == INSTANT]
    canonical = canonical.assign(**{c: canonical[c].dt.floor("us") for c in instants}).reset_index(drop=True)
    _validate(name, canonical)
    return canonical


def _validate(name: str, frame: pd.DataFrame) -> None:
    """Refuse missing required values, repeated ids and unknown codes, naming the first row."""
    id_column = ID_COLUMN[name]
    for column in REQUIRED[name]:
        missing = frame[column].isna().to_numpy()
        if missing.any():
            raise UserError(f"{name}: {_row(frame, name, missing)} has no {column}; nothing was saved.")
    repeated = frame[id_column].duplicated().to_numpy()
    if repeated.any():
        value = frame[id_column][repeated].iloc[0]
        raise UserError(f"{name}: the {id_column} '{value}' appears more than once; nothing was saved.")
    for column, kind in SCHEMAS[name].items():
        outside = bounds.instants_outside(frame[column]) if kind == INSTANT else None
        outside = bounds.amounts_outside(frame[column]) if kind == AMOUNT else outside
        if outside is not None and outside.any():
            value = frame[column][outside].iloc[0]
            limit = f"outside {bounds.YEARS}" if kind == INSTANT else f"not {bounds.AMOUNTS}"
            raise UserError(
                f"{name}: {_row(frame, name, outside.to_numpy())} has {column} {value}, {limit}; nothing was saved."
            )
    for column, allowed in ALLOWED_VALUES.get(name, {}).items():
        bad = (frame[column].notna() & ~frame[column].isin(allowed)).to_numpy()
        if bad.any():
            value = frame[column][bad].iloc[0]
            raise UserError(
                f"{name}: {_row(frame, name, bad)} has {column} '{value}', which is not one of "
                f"{', '.join(allowed)}; nothing was saved."
            )


def _row(frame: pd.DataFrame, name: str, mask: Any) -> str:
    """'row N (id_column 'x')' for the first row where mask is true."""
    position = int(mask.argmax())
    value = frame[ID_COLUMN[name]].iloc[position]
    who = "" if pd.isna(value) else f" ({ID_COLUMN[name]} '{value}')"
    return f"row {position + 1}{who}"


def _upsert_frame(conn: Connection, name: str, frame: pd.DataFrame, carried: Sequence[str]) -> dict[str, int]:
    """Upsert a frame by id (stored rows change only in the carried columns); count inserted,
    updated and unchanged rows."""
    if frame.empty:
        return {"inserted": 0, "updated": 0, "unchanged": 0}
    table = WRITTEN_TABLES[name]
    if conn.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first() is None:
        _insert_into_empty(conn, table, name, frame)
        return {"inserted": len(frame), "updated": 0, "unchanged": 0}
    return _merge(conn, table, name, frame, carried)


def _insert_into_empty(conn: Connection, table: sa.Table, name: str, frame: pd.DataFrame) -> None:
    """Bulk-load an empty table in time order; on SQLite its secondary indexes are built once, afterwards."""
    indexes = list(table.indexes) if conn.dialect.name == "sqlite" else []
    for index in indexes:
        conn.execute(sa.schema.DropIndex(index))
    if name in TIME_ORDER:
        frame = frame.sort_values(TIME_ORDER[name], kind="stable", na_position="first")
    _load_rows(conn, table.name, name, frame)
    for index in indexes:
        conn.execute(sa.schema.CreateIndex(index))


def _merge(conn: Connection, table: sa.Table, name: str, frame: pd.DataFrame, carried: Sequence[str]) -> dict[str, int]:
    """Stage the frame in a temporary table, compare it with the stored rows in SQL (null-safe,
    carried column by carried column) and upsert only new or changed rows with INSERT ... ON
    CONFLICT DO UPDATE of the carried columns."""
    key = ID_COLUMN[name]
    stage = _create_stage(conn, table)
    _load_rows(conn, stage.name, name, frame)
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"ANALYZE {stage.name}")  # temp tables get no statistics otherwise
    joined = stage.outerjoin(table, stage.c[key] == table.c[key])
    is_new = table.c[key].is_(None)
    compared = [c for c in table.columns if c.name != key and c.name in carried]
    differs = sa.or_(sa.false(), *(stage.c[c.name].is_distinct_from(c) for c in compared))
    count = sa.select(
        sa.func.count(),
        sa.func.coalesce(sa.func.sum(sa.case((is_new, 1), else_=0)), 0),
        sa.func.coalesce(sa.func.sum(sa.case((sa.and_(table.c[key].is_not(None), differs), 1), else_=0)), 0),
    ).select_from(joined)
    total, inserted, updated = (int(v) for v in conn.execute(count).one())
    if inserted or updated:
        changed_rows = sa.select(*stage.columns).select_from(joined).where(sa.or_(is_new, differs))
        if name in TIME_ORDER:
            changed_rows = changed_rows.order_by(stage.c[TIME_ORDER[name]])
        conn.execute(_upsert_statement(conn, table, [key], changed_rows, carried))
    conn.execute(sa.schema.DropTable(stage))
    return {"inserted": inserted, "updated": updated, "unchanged": total - inserted - updated}


def _create_stage(conn: Connection, table: sa.Table) -> sa.Table:
    """An empty temporary table with the table's columns and no constraints."""
    columns = (sa.Column(c.name, c.type) for c in table.columns)
    stage = sa.Table(f"stage_{table.name}", sa.MetaData(), *columns, prefixes=["TEMPORARY"])
    conn.execute(sa.schema.DropTable(stage, if_exists=True))
    conn.execute(sa.schema.CreateTable(stage))
    return stage


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No garbage collection while rows are built: their millions of tuples make no cycles, yet
    trigger collections that scan the heap (a third of the preparation of a million leads' touches)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _load_rows(conn: Connection, target: str, name: str, frame: pd.DataFrame) -> None:
    """Append a frame's rows to a table, CHUNK_ROWS at a time: executemany on SQLite, COPY on PostgreSQL."""
    dialect, columns = conn.dialect.name, ", ".join(SCHEMAS[name])
    with _collector_paused():
        for start in range(0, len(frame), CHUNK_ROWS):
            chunk = frame.iloc[start : start + CHUNK_ROWS]
            rows = list(zip(*(_db_values(chunk[c], kind, dialect) for c, kind in SCHEMAS[name].items())))
            if dialect == "sqlite":
                marks = ", ".join("?" * len(SCHEMAS[name]))
                conn.exec_driver_sql(f"INSERT INTO {target} ({columns}) VALUES ({marks})", rows)
                continue
            with conn.connection.driver_connection.cursor() as cursor:  # type: ignore[union-attr]
                with cursor.copy(f"COPY {target} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)


def _db_values(values: pd.Series, kind: str, dialect: str) -> list[Any]:
    """One column as plain Python values for the driver (None where missing).

    Instants become UTC text in SQLAlchemy's SQLite storage form (with a +00 offset for
    PostgreSQL), formatted vectorised; flags become 0/1 on SQLite.
    """
    if kind == INSTANT:
        naive = values.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[us]")
        text = np.datetime_as_string(naive, unit="us")
        characters = text.view(np.uint32).reshape(len(text), text.dtype.itemsize // 4)
        if characters.shape[1] > 10:  # the T between date and time becomes a space, in place (np.char is slow)
            characters[:, 10] = ord(" ")
        if dialect != "sqlite":
            text = np.char.add(text, "+00")
        out = text.astype(object)
        out[values.isna().to_numpy()] = None
        return out.tolist()
    if kind == FLAG:
        return values.astype(int).tolist() if dialect == "sqlite" else values.astype(bool).tolist()
    return values.to_numpy(dtype=object, na_value=None).tolist()


def _upsert_statement(
    conn: Connection,
    table: sa.Table,
    keys: list[str],
    rows: sa.Select | None = None,
    updated: Sequence[str] | None = None,
) -> Any:
    """INSERT ... ON CONFLICT (keys) DO UPDATE of the other columns (or only of `updated`), in the
    connection's dialect.

    With `rows`, the statement inserts that SELECT's result; else it takes executemany parameters.
    """
    insert = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}[conn.dialect.name]
    stmt = insert(table)
    if rows is not None:
        stmt = stmt.from_select([c.name for c in table.columns], rows)
    kept = set(updated) if updated is not None else {c.name for c in table.columns}
    update = {c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys and c.name in kept}
    if not update:
        return stmt.on_conflict_do_nothing(index_elements=keys)
    return stmt.on_conflict_do_update(index_elements=keys, set_=update)


def _write_cursors(conn: Connection, cursors: Mapping[str, str]) -> None:
    """Store sync cursors (inside the caller's transaction)."""
    if cursors:
        now = _now()
        rows = [{"object_type": k, "cursor": str(v), "updated_at": now} for k, v in cursors.items()]
        conn.execute(_upsert_statement(conn, SYNC, ["object_type"]), rows)


def _record_load(
    conn: Connection, source: str, detail: str, started: datetime, counts: dict, error: str | None
) -> None:
    """Append a data_loads row."""
    row = {
        "source": source,
        "detail": detail or "",
        "started_at": started,
        "finished_at": _now(),
        "status": "failed" if error else "ok",
        "counts": json.dumps(counts),
        "error": error,
    }
    conn.execute(sa.insert(LOADS).values(**row))


def _record_failed_load(engine: Engine, source: str, detail: str, started: datetime, error: str) -> None:
    """Log a failed load in its own transaction (best effort: the original error matters more)."""
    try:
        with _writing(engine) as conn:
            _record_load(conn, source, detail, started, {}, error)
    except Exception:
        log.warning("could not record the failed %s load", source, exc_info=True)


def delete_all_data(engine: Engine) -> None:
    """Empty owners, leads, touches, deals, exclusions and the sync cursors; terms, snapshots, notes stay."""
    with _writing(engine) as conn:
        for table in (*WRITTEN_TABLES.values(), SYNC):
            conn.execute(sa.delete(table))


def existing_ids(engine: Engine, table: str, ids: Sequence[str]) -> set[str]:
    """Which of these ids the table holds (asked in chunks, so a long list stays one cheap query each)."""
    column = DATA_TABLES[table].c[ID_COLUMN[table]]
    found: set[str] = set()
    with engine.connect() as conn:
        for start in range(0, len(ids), CHUNK_ROWS):
            chunk = list(ids[start : start + CHUNK_ROWS])
            found |= set(conn.execute(sa.select(column).where(column.in_(chunk))).scalars())
    return found


def read_rows(engine: Engine, table: str, ids: Sequence[str], columns: list[str]) -> pd.DataFrame:
    """The stored rows of these ids (absent ids give no row) as a canonical frame in which only
    the id and `columns` are read (asked in chunks, like existing_ids)."""
    column = DATA_TABLES[table].c[ID_COLUMN[table]]
    wanted = list(dict.fromkeys(str(i) for i in ids))
    parts = [frames.empty_frame(table)]
    with engine.connect() as conn:
        for start in range(0, len(wanted), CHUNK_ROWS):
            chunk = wanted[start : start + CHUNK_ROWS]
            parts.append(_read(conn, table, column.in_(chunk), [ID_COLUMN[table], *columns]))
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def load_lead_touches(engine: Engine, lead_id: str, as_of: pd.Timestamp) -> pd.DataFrame:
    """Every touch of one lead up to as_of, every column (what the Lead ledger shows of a lead)."""
    touches = DATA_TABLES["touches"]
    with engine.connect() as conn:
        return _read(conn, "touches", sa.and_(touches.c.lead_id == lead_id, touches.c.occurred_at <= _bind(as_of)))


def data_counts(engine: Engine) -> dict[str, int]:
    """Rows per data table. On a SQLite file they are counted again only after a commit since the
    last count: a count of millions of rows is a scan (0.3 s at 1M), asked every few seconds for
    the dashboard's data token."""
    watched = _commit_version(engine)  # before counting: a commit meanwhile makes the next call count
    cached = _COUNTS.get(watched[0]) if watched else None
    if watched is not None and cached is not None and cached[0] == watched[1]:
        return dict(cached[1])
    with engine.connect() as conn:
        counts = {
            name: int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())
            for name, table in DATA_TABLES.items()
        }
    if watched is not None:
        _COUNTS[watched[0]] = (watched[1], counts)
    return dict(counts)


# Per database file (process, path, device, inode: a file replaced at the same path is another).
WatchedFile = tuple[int, str, int, int]
_COUNTS: dict[WatchedFile, tuple[int, dict[str, int]]] = {}
_WATCHERS: collections.OrderedDict[WatchedFile, tuple[sqlite3.Connection, threading.Lock]] = collections.OrderedDict()
_WATCHERS_LOCK = threading.Lock()
MAX_WATCHERS = 8  # files watched at once, the least recently asked closed first (a test run opens hundreds)


def _commit_version(engine: Engine) -> tuple[WatchedFile, int] | None:
    """The SQLite database file and its `PRAGMA data_version`, read on a connection of its own that
    never writes: it changes whenever any other connection, of any process, has committed (None for
    PostgreSQL, memory and URI databases, or a missing file)."""
    path = _sqlite_path(engine.url)
    if path is None:
        return None
    try:
        stat = path.stat()
    except OSError:
        return None
    key = (os.getpid(), str(path), stat.st_dev, stat.st_ino)  # never a connection across a fork
    with _WATCHERS_LOCK:
        if key not in _WATCHERS:
            try:
                watcher = sqlite3.connect(path, check_same_thread=False)
            except sqlite3.Error:
                return None
            _WATCHERS[key] = (watcher, threading.Lock())
            while len(_WATCHERS) > MAX_WATCHERS:
                stale, (oldest, oldest_lock) = _WATCHERS.popitem(last=False)
                _COUNTS.pop(stale, None)
                with oldest_lock:
                    oldest.close()
        _WATCHERS.move_to_end(key)
        watcher, lock = _WATCHERS[key]
    with lock:
        try:
            return key, int(watcher.execute("PRAGMA data_version").fetchone()[0])
        except sqlite3.Error:
            return None


# -- loading data ------------------------------------------------------------------------


def load_data(
    engine: Engine,
    *,
    months: list[str] | None = None,
    tz: str = "UTC",
    as_of: pd.Timestamp | None = None,
    commitments_only: bool = False,
    follow_ups_only: bool = False,
    with_touches: bool = True,
    columns: Mapping[str, list[str]] | None = None,
) -> CrmData:
    """The data the given local months need (None: everything), as known at as_of.

    With months: the leads whose mql_at is in [start of the first month, end of the last)
    and not after as_of, all their touches up to as_of (also after the month ends), the
    deals of those leads or closed in that range (and those deals' leads), and every owner. Without months: every
    row, except, when as_of is given, touches after it and leads that became MQLs after it.
    With `follow_ups_only`, only the touches that can count as follow-up (sales.is_follow_up's kind,
    automated and direction; FOLLOW_UP_COLUMNS), with months, when as_of is near their end, those
    from the first month's start on, of any lead (the ledger drops the others): all a scorecard
    reads of touches, not what the ledger page shows of a lead. `commitments_only` adds to that only
    what commitment-only scorecards read of leads and deals (build_scorecards' `commitments_only`,
    for the history behind consequences: the COMMITMENT_COLUMNS).
    Without `with_touches` no touch is read (recalculation reads none: the bulk of a load).
    `columns` names the only columns to read of some tables (e.g. RECALC_COLUMNS; the rest are empty).
    """
    cutoff = _bind(as_of) if as_of is not None else None
    leads, touches, deals = DATA_TABLES["leads"], DATA_TABLES["touches"], DATA_TABLES["deals"]
    lead_scope = _lead_scope(months, tz, cutoff)
    touch_scope = [] if cutoff is None else [touches.c.occurred_at <= cutoff]
    follow_ups = follow_ups_only or commitments_only
    if follow_ups:
        touch_scope += _follow_up_scope()
    deal_scope: sa.ColumnElement[bool] | None = None
    if months is not None:
        start, end = _months_range(months, tz)
        in_scope = sa.select(leads.c.lead_id).where(lead_scope)
        if follow_ups and _span_holds_mostly_theirs(start, end, cutoff):
            # Follow-ups count from the lead's MQL on, so none before the first month's start can; a scan
            # of that span is many times faster than matching each touch against the leads (the ledger
            # keeps its own leads' touches and drops the others).
            touch_scope.append(touches.c.occurred_at >= start)
        else:
            touch_scope.append(touches.c.lead_id.in_(in_scope))
        # The deals of those leads or closed in the range, as one IN over a UNION rather than an OR of
        # the two: PostgreSQL cannot turn an IN under an OR into a join, and at 10M leads it matched
        # every deal against the month's 600,000 lead ids one by one (minutes instead of a second).
        deal_scope = deals.c.deal_id.in_(
            sa.union(
                sa.select(deals.c.deal_id).where(deals.c.lead_id.in_(in_scope)),
                sa.select(deals.c.deal_id).where(deals.c.closed_at >= start, deals.c.closed_at < end),
            )
        )
    lead_rows = lead_scope
    if months is not None:
        # The leads of deals closed in the range too (often MQLs of earlier months): revenue
        # from MQL leads and per-segment deal sizes need them. Their touches are not loaded.
        closed_in_range = sa.select(deals.c.lead_id).where(
            deals.c.closed_at >= start,
            deals.c.closed_at < end,
            deals.c.lead_id.is_not(None),
            *([] if cutoff is None else [deals.c.closed_at <= cutoff]),
        )
        lead_rows = sa.or_(lead_scope, leads.c.lead_id.in_(closed_in_range))
    wanted = {**(COMMITMENT_COLUMNS if commitments_only else (columns or {}))}
    if follow_ups:
        wanted["touches"] = FOLLOW_UP_COLUMNS
    with engine.connect() as conn:
        reads = {  # the biggest first: the Arrow reader runs the others while it becomes a frame
            "touches": _table_read(conn, "touches", sa.and_(sa.true(), *touch_scope), wanted.get("touches")),
            "owners": _table_read(conn, "owners"),
            "leads": _table_read(conn, "leads", lead_rows, wanted.get("leads")),
            "deals": _table_read(conn, "deals", deal_scope, wanted.get("deals")),
            "exclusions": _table_read(conn, "exclusions"),
        }
        if not with_touches:
            del reads["touches"]
        if months is not None or follow_ups:  # a slice, or only some touches: whether the source has any
            reads["any_touch"] = (sa.select(sa.exists().select_from(touches).label("any_touch")), {}, _as_is)
        if months is not None:
            reads["earlier_mqls"] = _earlier_mqls_read(conn, min(parse_month(m) for m in months), tz, cutoff)
        read = _read_all(conn, reads)
    data = CrmData(**{name: read[name] if name in read else frames.empty_frame(name) for name in ALL_TABLES})
    if "any_touch" in read:
        data.source_has_touches = bool(read["any_touch"]["any_touch"].iloc[0])
    if months is not None:
        data.earlier_mqls = _mql_segments(read["earlier_mqls"])
    return data


def _span_holds_mostly_theirs(start: datetime, end: datetime, cutoff: datetime | None) -> bool:
    """Whether the touches from the months' start up to as_of are mostly those of the months' own leads:
    as_of no later after the months end than half their length (many months just closed, not an old
    month seen from today)."""
    return cutoff is not None and cutoff - end <= (end - start) / 2


def _as_is(frame: pd.DataFrame) -> pd.DataFrame:
    """A read's frame unchanged."""
    return frame


def _follow_up_scope() -> list[sa.ColumnElement[bool]]:
    """The touches sales.is_follow_up can count (by a person, of a qualifying kind, not inbound), in SQL."""
    touches = DATA_TABLES["touches"]
    return [
        sa.or_(touches.c.automated.is_(None), touches.c.automated == sa.false()),  # missing reads as False
        touches.c.kind.in_(QUALIFYING_KINDS),
        sa.or_(touches.c.direction.is_(None), touches.c.direction != "inbound"),
    ]


# The touches a follow-up read keeps (_follow_up_scope): not automated and not inbound, which is what a
# column not read becomes (frames.normalize), so those two stay on disk too.
FOLLOW_UP_COLUMNS = ["lead_id", "kind", "occurred_at"]

# What commitment-only scorecards read (the ledger's clocks, deadlines, conversions, acceptance
# and lead quality, the marketing part): the rest stays on disk.
COMMITMENT_COLUMNS: dict[str, list[str]] = {
    "leads": [
        "lead_id",
        "mql_at",
        "assigned_at",
        "sql_at",
        "customer_at",
        "segment",
        "source",
        "owner_id",
        "accepted_at",
        "rejected_at",
        "rejection_reason",
    ],
    "deals": ["deal_id", "lead_id", "created_at", "closed_at", "status"],
}


# What the monthly recalculation reads (core.recalc.recalculate: cohort conversions, won deals).
RECALC_COLUMNS: dict[str, list[str]] = {
    "leads": ["lead_id", "mql_at", "customer_at", "segment"],
    "deals": ["deal_id", "lead_id", "amount", "closed_at", "status"],
}


def _earlier_mqls_read(conn: Connection, first_month: str, tz: str, cutoff: datetime | None) -> Read:
    """The read of lead_id, mql_at, segment of the MQLs of the PRIOR_MONTHS months before `first_month`."""
    start = _bind(month_bounds(add_months(first_month, -PRIOR_MONTHS), tz)[0])
    end = _bind(month_bounds(first_month, tz)[0])
    leads = DATA_TABLES["leads"]
    scope = [leads.c.mql_at >= start, leads.c.mql_at < end, *([] if cutoff is None else [leads.c.mql_at <= cutoff])]
    mql_at = leads.c.mql_at if conn.dialect.name != "sqlite" else sa.type_coerce(leads.c.mql_at, sa.String)
    stmt = sa.select(leads.c.lead_id, mql_at.label("mql_at"), leads.c.segment).where(*scope)
    return stmt, {"lead_id": TEXT, "mql_at": INSTANT, "segment": TEXT}, _as_is


def _mql_segments(frame: pd.DataFrame) -> pd.DataFrame:
    """The earlier MQLs with ids as strings and a missing segment as NO_SEGMENT."""
    segment = frame["segment"].astype("string")
    return frame.assign(
        lead_id=frame["lead_id"].astype("string"), segment=segment.where(segment.str.len() > 0).fillna(NO_SEGMENT)
    )


def load_recent_data(
    engine: Engine, since: pd.Timestamp, as_of: pd.Timestamp, *, assigned_too: bool = False
) -> CrmData:
    """The leads that became MQLs in [since, as_of] (with assigned_too, also earlier MQLs assigned in
    that span), their touches up to as_of, their deals, and every owner."""
    leads, touches, deals = DATA_TABLES["leads"], DATA_TABLES["touches"], DATA_TABLES["deals"]
    scope = sa.and_(leads.c.mql_at >= _bind(since), leads.c.mql_at <= _bind(as_of))
    if assigned_too:
        assigned = sa.and_(leads.c.assigned_at >= _bind(since), leads.c.assigned_at <= _bind(as_of))
        scope = sa.or_(scope, sa.and_(assigned, leads.c.mql_at <= _bind(as_of)))
    in_scope = sa.select(leads.c.lead_id).where(scope)
    touch_scope = sa.and_(touches.c.lead_id.in_(in_scope), touches.c.occurred_at <= _bind(as_of))
    if not assigned_too:  # a touch before the lead's MQL never counts, and every MQL here is after `since`
        touch_scope = sa.and_(touch_scope, touches.c.occurred_at >= _bind(since))
    with engine.connect() as conn:
        read = _read_all(
            conn,
            {
                "touches": _table_read(conn, "touches", touch_scope, RECENT_TOUCH_COLUMNS),  # the biggest first
                "owners": _table_read(conn, "owners"),
                "leads": _table_read(conn, "leads", scope, RECENT_LEAD_COLUMNS),
                "deals": _table_read(conn, "deals", deals.c.lead_id.in_(in_scope), RECENT_DEAL_COLUMNS),
            },
        )
    return CrmData(**read)


# What the follow-up ledger reads (sales.lead_ledger): the rest stays on disk.
RECENT_LEAD_COLUMNS = ["lead_id", "mql_at", "assigned_at", "sql_at", "customer_at", "segment", "source", "owner_id"]
RECENT_TOUCH_COLUMNS = ["touch_id", "lead_id", "kind", "occurred_at", "automated", "direction"]
RECENT_DEAL_COLUMNS = ["deal_id", "lead_id", "created_at", "status"]


def _months_range(months: list[str], tz: str) -> tuple[datetime, datetime]:
    """[start of the first month, end of the last month) as UTC datetimes to bind."""
    ordered = sorted(parse_month(m) for m in months)
    if not ordered:
        raise UserError("Name at least one month to load.")
    return _bind(month_bounds(ordered[0], tz)[0]), _bind(month_bounds(ordered[-1], tz)[1])


def _lead_scope(months: list[str] | None, tz: str, cutoff: datetime | None) -> sa.ColumnElement[bool]:
    """Which leads load_data reads."""
    mql_at = DATA_TABLES["leads"].c.mql_at
    if months is None:
        return sa.true() if cutoff is None else sa.or_(mql_at.is_(None), mql_at <= cutoff)
    start, end = _months_range(months, tz)
    scope = sa.and_(mql_at >= start, mql_at < end)
    return scope if cutoff is None else sa.and_(scope, mql_at <= cutoff)


def month_span(engine: Engine, tz: str) -> tuple[str, str] | None:
    """The first and last local month with an MQL (None when there is none)."""
    mql_at = DATA_TABLES["leads"].c.mql_at
    with engine.connect() as conn:
        # Two selects: SQLite answers a lone min() or max() from the index, both at once by a scan.
        first = conn.execute(sa.select(sa.func.min(mql_at))).scalar_one()
        last = conn.execute(sa.select(sa.func.max(mql_at))).scalar_one()
    if first is None:
        return None
    return month_of(_utc(first), tz), month_of(_utc(last), tz)


def latest_mql_month(engine: Engine, tz: str, as_of: pd.Timestamp, before: str | None = None) -> str | None:
    """The local month of the latest MQL at or before as_of (and before the month `before`), or None."""
    mql_at = DATA_TABLES["leads"].c.mql_at
    scope = [mql_at <= _bind(as_of)]
    if before is not None:
        scope.append(mql_at < _bind(month_bounds(before, tz)[0]))
    with engine.connect() as conn:
        latest = conn.execute(sa.select(sa.func.max(mql_at)).where(*scope)).scalar_one()
    return None if latest is None else month_of(_utc(latest), tz)


# -- exclusions (disputes) ---------------------------------------------------------------


def add_exclusion(
    engine: Engine, lead_id: str, commitment: str, reason: str, *, requested_by: str, at: Any = None
) -> dict[str, Any]:
    """Record a pending request to leave a lead out of a commitment; returns the stored row."""
    check_commitment(commitment)
    if not str(reason or "").strip():
        raise UserError("An exclusion needs a reason; say why the lead should not count.")
    leads = DATA_TABLES["leads"]
    with _writing(engine) as conn:
        if conn.execute(sa.select(leads.c.lead_id).where(leads.c.lead_id == str(lead_id))).first() is None:
            raise UserError(f"There is no lead '{lead_id}'; nothing was recorded.")
        row = {
            "exclusion_id": _next_exclusion_id(conn),
            "lead_id": str(lead_id),
            "commitment": commitment,
            "reason": str(reason).strip(),
            "requested_by": requested_by,
            "requested_at": _bind(at) if at is not None else _now(),
            "decision": "pending",
            "decided_by": None,
            "decided_at": None,
            "decision_note": None,
        }
        conn.execute(sa.insert(EXCLUSIONS).values(**row))
    return _exclusion_record(row)


def known_lead_ids(engine: Engine, lead_ids: Any) -> set[str]:
    """Which of the given lead ids are stored."""
    wanted = sorted({str(i) for i in lead_ids})
    leads = DATA_TABLES["leads"]
    found: set[str] = set()
    with engine.connect() as conn:
        for start in range(0, len(wanted), 1000):
            chunk = wanted[start : start + 1000]
            found |= set(conn.execute(sa.select(leads.c.lead_id).where(leads.c.lead_id.in_(chunk))).scalars())
    return found


def _next_exclusion_id(conn: Connection) -> str:
    """One more than the largest numeric exclusion id (imported ids may be any text)."""
    ids = conn.execute(sa.select(EXCLUSIONS.c.exclusion_id)).scalars()
    numbers = [int(i) for i in ids if str(i).isdigit()]
    return str(max(numbers, default=0) + 1)


def decide_exclusion(
    engine: Engine,
    exclusion_id: str,
    *,
    approve: bool,
    decided_by: str,
    note: str | None = None,
    at: Any = None,
    forbid_self: bool = False,
) -> dict[str, Any]:
    """Approve or deny a pending request (once); with forbid_self, not by the person who asked."""
    with _writing(engine) as conn:
        found = conn.execute(sa.select(EXCLUSIONS).where(EXCLUSIONS.c.exclusion_id == str(exclusion_id)))
        request = found.mappings().first()
        if request is None:
            raise UserError(f"There is no exclusion request '{exclusion_id}'.")
        check_decidable(request, decided_by, forbid_self=forbid_self)
        values = {
            "decision": "approved" if approve else "denied",
            "decided_by": decided_by,
            "decided_at": _bind(at) if at is not None else _now(),
            "decision_note": (note or "").strip() or None,
        }
        conn.execute(sa.update(EXCLUSIONS).where(EXCLUSIONS.c.exclusion_id == str(exclusion_id)).values(**values))
    return _exclusion_record({**dict(request), **values})


def load_exclusions(
    engine: Engine, *, lead_id: str | None = None, month: str | None = None, tz: str = "UTC"
) -> pd.DataFrame:
    """Exclusion requests (of one lead, or of the leads whose MQL is in a local month), oldest first."""
    where: list[sa.ColumnElement[bool]] = []
    if lead_id is not None:
        where.append(EXCLUSIONS.c.lead_id == str(lead_id))
    if month is not None:
        start, end = _months_range([month], tz)
        leads = DATA_TABLES["leads"]
        in_month = sa.select(leads.c.lead_id).where(leads.c.mql_at >= start, leads.c.mql_at < end)
        where.append(EXCLUSIONS.c.lead_id.in_(in_month))
    with engine.connect() as conn:
        frame = _read(conn, "exclusions", sa.and_(sa.true(), *where))
    key = frame["exclusion_id"].map(lambda i: (0, int(i), "") if str(i).isdigit() else (1, 0, str(i)))
    return frame.iloc[key.argsort(kind="stable").to_numpy()].reset_index(drop=True)


def exclusions_fingerprint(engine: Engine) -> str:
    """Requests and decisions so far, as a short text that changes with each of them."""
    decided = sa.func.count(EXCLUSIONS.c.decided_at)
    with engine.connect() as conn:
        total, done = conn.execute(sa.select(sa.func.count(), decided).select_from(EXCLUSIONS)).one()
    return f"{total}/{done}"


def _exclusion_record(row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored exclusion as plain values, instants ISO 8601 in UTC."""
    out = dict(row)
    for column in ("requested_at", "decided_at"):
        out[column] = _iso(out.get(column))
    return out


# -- terms -------------------------------------------------------------------------------


def save_terms_version(engine: Engine, toml_text: str, effective_from: str, note: str | None = None) -> int:
    """Validate and store a new terms version effective from a month; returns its id.

    Refused when the version would change the terms of a closed month (reopen it first)."""
    parse_terms_toml(toml_text)
    refuse_closed_terms(engine, effective_from)
    row = {"effective_from": parse_month(effective_from), "toml": toml_text, "created_at": _now(), "note": note}
    with _writing(engine) as conn:
        return int(conn.execute(sa.insert(TERMS).values(**row)).inserted_primary_key[0])


def closed_months_governed(engine: Engine, effective_from: str) -> list[str]:
    """Closed months whose terms a new version effective from that month would change.

    A version governs its month up to the next later version; before the first version,
    months use the first one, so a version earlier than all governs the months before it too."""
    effective_from = parse_month(effective_from)
    starts = sorted(v.effective_from for v in load_terms_versions(engine))
    later = [s for s in starts if s > effective_from]
    end = later[0] if later else None
    low = effective_from if starts and starts[0] <= effective_from else None
    return [m for m in closed_months(engine) if (low is None or m >= low) and (end is None or m < end)]


def refuse_closed_terms(engine: Engine, effective_from: str) -> None:
    """UserError when a terms version from that month would change a closed month."""
    governed = closed_months_governed(engine, effective_from)
    if governed:
        month = governed[-1]
        raise UserError(
            f"{month} is closed and keeps the terms it was measured with, so a terms version from "
            f"{parse_month(effective_from)} is refused; start it after {month}, or reopen "
            f"{'the closed months' if len(governed) > 1 else month} first (reopen --month {month})."
        )


def load_terms_versions(engine: Engine) -> list[TermsVersion]:
    """Every stored terms version, parsed, by effective month then id."""
    stmt = sa.select(TERMS.c.id, TERMS.c.effective_from, TERMS.c.toml).order_by(TERMS.c.effective_from, TERMS.c.id)
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return [TermsVersion(row.effective_from, _parse_stored_terms(row.id, row.toml), row.id) for row in rows]


def _parse_stored_terms(version_id: int, text: str) -> Any:
    """Parse a stored version, naming it when it no longer validates."""
    try:
        return parse_terms_toml(text)[0]
    except TermsError as exc:
        raise UserError(f"Stored terms version {version_id} is not valid any more: {exc}") from None


def load_terms_toml(engine: Engine, version_id: int) -> str:
    """The TOML text of one stored terms version."""
    with engine.connect() as conn:
        text = conn.execute(sa.select(TERMS.c.toml).where(TERMS.c.id == version_id)).scalar_one_or_none()
    if text is None:
        raise UserError(f"There is no terms version {version_id}.")
    return text


def terms_version_note(engine: Engine, version_id: int) -> dict[str, Any]:
    """A stored terms version's note and when it was saved ({} when there is no such version)."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(TERMS.c.note, TERMS.c.created_at).where(TERMS.c.id == version_id)).first()
    return {"note": row.note, "created_at": row.created_at} if row is not None else {}


# -- month snapshots ---------------------------------------------------------------------


def save_snapshot(
    engine: Engine,
    month: str,
    payload: dict,
    *,
    as_of: Any,
    closed_by: str,
    terms_version_id: int | None,
    force: bool = False,
    notes: str | None = None,
) -> int:
    """Freeze a month's scorecard; a closed month needs force, which keeps the old snapshot."""
    month = parse_month(month)
    text = json.dumps(payload, default=_json_default)
    current = sa.and_(SNAPSHOTS.c.month == month, SNAPSHOTS.c.superseded.is_(False))
    with _writing(engine) as conn:
        found = sa.select(SNAPSHOTS.c.id, SNAPSHOTS.c.closed_by, SNAPSHOTS.c.closed_at).where(current)
        existing = conn.execute(found).first()
        if existing is not None and not force:
            raise UserError(
                f"{month} was already closed by {existing.closed_by} on {_utc(existing.closed_at):%Y-%m-%d}; "
                "close it again with force to replace its snapshot (the old one is kept in the history)."
            )
        if existing is not None:
            conn.execute(sa.update(SNAPSHOTS).where(SNAPSHOTS.c.id == existing.id).values(superseded=True))
        row = {
            "month": month,
            "as_of": _bind(as_of),
            "closed_at": _now(),
            "closed_by": closed_by,
            "terms_version_id": terms_version_id,
            "payload": text,
            "superseded": False,
            "notes": notes,
        }
        return int(conn.execute(sa.insert(SNAPSHOTS).values(**row)).inserted_primary_key[0])


def reopen_month(engine: Engine, month: str, *, by: str, reason: str) -> int:
    """Reopen a closed month: its snapshot is kept in the history, marked reopened by whom and why."""
    month = parse_month(month)
    if not str(reason or "").strip():
        raise UserError(f"Say why {month} is reopened (--reason); the reason is kept with its snapshot.")
    current = sa.and_(SNAPSHOTS.c.month == month, SNAPSHOTS.c.superseded.is_(False))
    with _writing(engine) as conn:
        existing = conn.execute(sa.select(SNAPSHOTS.c.id, SNAPSHOTS.c.notes).where(current)).first()
        if existing is None:
            raise UserError(f"{month} is not closed, so there is nothing to reopen.")
        record = f"Reopened on {_now():%Y-%m-%d %H:%M} UTC by {by}: {reason.strip()}"
        notes = "\n".join(n for n in (existing.notes, record) if n)
        conn.execute(sa.update(SNAPSHOTS).where(SNAPSHOTS.c.id == existing.id).values(superseded=True, notes=notes))
    return int(existing.id)


def load_snapshot(engine: Engine, month: str) -> dict | None:
    """The month's current snapshot: its payload plus closed_at, closed_by, as_of, terms_version_id, snapshot_id."""
    stmt = sa.select(SNAPSHOTS).where(SNAPSHOTS.c.month == parse_month(month), SNAPSHOTS.c.superseded.is_(False))
    with engine.connect() as conn:
        row = conn.execute(stmt).first()
    if row is None:
        return None
    meta = _snapshot_meta(row)
    keys = ("closed_at", "closed_by", "as_of", "terms_version_id", "snapshot_id")
    return {**json.loads(row.payload), **{k: meta[k] for k in keys}}


def snapshot_history(engine: Engine, month: str) -> list[dict]:
    """Every snapshot of the month, newest first: metadata, superseded, notes and the payload."""
    stmt = sa.select(SNAPSHOTS).where(SNAPSHOTS.c.month == parse_month(month)).order_by(SNAPSHOTS.c.id.desc())
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return [{**_snapshot_meta(row), "payload": json.loads(row.payload)} for row in rows]


def _snapshot_meta(row: Any) -> dict[str, Any]:
    """A snapshot row's metadata with ISO 8601 instants."""
    return {
        "snapshot_id": row.id,
        "month": row.month,
        "closed_at": _iso(row.closed_at),
        "closed_by": row.closed_by,
        "as_of": _iso(row.as_of),
        "terms_version_id": row.terms_version_id,
        "superseded": bool(row.superseded),
        "notes": row.notes,
    }


def closed_months(engine: Engine) -> list[str]:
    """Months that have a current snapshot, in order."""
    current = SNAPSHOTS.c.superseded.is_(False)
    stmt = sa.select(SNAPSHOTS.c.month).where(current).distinct().order_by(SNAPSHOTS.c.month)
    with engine.connect() as conn:
        return list(conn.execute(stmt).scalars())


# -- month notes -------------------------------------------------------------------------


def save_month_notes(engine: Engine, month: str, notes: str, by: str) -> None:
    """Replace a month's notes."""
    row = {"month": parse_month(month), "notes": notes or "", "updated_at": _now(), "updated_by": by}
    with _writing(engine) as conn:
        conn.execute(_upsert_statement(conn, NOTES, ["month"]), [row])


def load_month_notes(engine: Engine, month: str) -> str:
    """A month's notes ("" when there are none)."""
    with engine.connect() as conn:
        notes = conn.execute(sa.select(NOTES.c.notes).where(NOTES.c.month == parse_month(month))).scalar_one_or_none()
    return notes or ""


def month_notes_record(engine: Engine, month: str) -> dict[str, Any]:
    """A month's notes with who saved them and when (notes "" and None when there are none)."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(NOTES).where(NOTES.c.month == parse_month(month))).mappings().first()
    if row is None:
        return {"notes": "", "updated_by": None, "updated_at": None}
    return {"notes": row["notes"] or "", "updated_by": row["updated_by"], "updated_at": row["updated_at"]}


# -- sync state and load history ---------------------------------------------------------


def get_cursor(engine: Engine, object_type: str) -> str | None:
    """The stored sync cursor of an object type (written only by save_data)."""
    with engine.connect() as conn:
        return conn.execute(sa.select(SYNC.c.cursor).where(SYNC.c.object_type == object_type)).scalar_one_or_none()


def all_cursors(engine: Engine) -> dict[str, str]:
    """Every stored sync cursor by object type."""
    with engine.connect() as conn:
        return {row.object_type: row.cursor for row in conn.execute(sa.select(SYNC.c.object_type, SYNC.c.cursor))}


def data_loads(engine: Engine, limit: int = 20) -> pd.DataFrame:
    """The latest data loads, newest first, with counts as dicts and instants in UTC."""
    with engine.connect() as conn:
        stmt = _select(conn, LOADS).order_by(LOADS.c.id.desc()).limit(int(limit))
        frame = _read_frame(conn, stmt, _instant_columns(LOADS))
    frame["counts"] = frame["counts"].map(json.loads)
    return frame


__all__ = [
    "add_exclusion",
    "all_cursors",
    "closed_months",
    "closed_months_governed",
    "data_counts",
    "data_loads",
    "decide_exclusion",
    "default_db_url",
    "delete_all_data",
    "exclusions_fingerprint",
    "existing_ids",
    "get_cursor",
    "load_data",
    "load_exclusions",
    "load_lead_touches",
    "load_month_notes",
    "load_snapshot",
    "load_terms_toml",
    "load_terms_versions",
    "make_engine",
    "mask_url",
    "month_span",
    "refuse_closed_terms",
    "reopen_month",
    "save_data",
    "save_month_notes",
    "save_snapshot",
    "save_terms_version",
    "snapshot_history",
]
