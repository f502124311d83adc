"""The Arrow reader's child process (issue 17): SQLite selects through ADBC, results as Arrow IPC streams.

Run as `python -m smarketing.store.arrow_child` by store/arrow_reads.py. It imports only pyarrow and
the ADBC SQLite driver (not its DB-API module, which pulls in pandas), so it starts fast; its SQLite
library and file locks are its own, apart from the parent's sqlite3 (see arrow_reads).

Protocol, one request at a time until stdin closes: the parent writes one JSON line
`{"path": FILE, "statements": [[SQL, [PARAM, ...]], ...], "batch_rows": N}`; the child runs the
statements in one read transaction, one after another, and answers each in turn (a thread writes the
answers, so the next statement runs while the parent has not yet taken the last): one JSON line,
`{"error": TEXT}` (the request ends there) or `{"ok": true}` followed by its rows in batches of N,
each an 8-byte little-endian length and an Arrow IPC stream of that many bytes, and a zero length
after the last batch. So the parent turns one statement's rows into frames while the next runs.
"""

import concurrent.futures
import json
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

import adbc_driver_manager
import adbc_driver_sqlite
import pyarrow as pa
import pyarrow.ipc

BUSY_TIMEOUT_MS = 30_000
# One batch per result, so that every column's type is inferred from all of its rows (a column
# whose first rows are NULL would otherwise be typed from those alone).
BATCH_ROWS = str(2**30)
END = bytes(8)  # the length that ends a statement's batches


def main(requests: BinaryIO, answers: BinaryIO) -> None:
    """Answer requests until the parent closes stdin."""
    # Answers are written by a thread of their own, in order, so that the next statement runs while
    # the parent has not yet taken the last answer (the answers wait here, not in the parent).
    with concurrent.futures.ThreadPoolExecutor(1) as writer:
        for line in requests:
            request = json.loads(line)
            written: list[concurrent.futures.Future] = []
            try:
                for table in read_snapshot(request["path"], request["statements"]):
                    written.append(writer.submit(answered, write_answer, answers, table, request["batch_rows"]))
                    del table
            except Exception as exc:  # every failure is the parent's to log; the child lives on
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                error = json.dumps({"error": f"{type(exc).__name__}: {first}"}).encode() + b"\n"
                written.append(writer.submit(answered, write_error, answers, error))
            concurrent.futures.wait(written)


def answered(write: Callable[..., None], *args: Any) -> None:
    """Write an answer; when the parent has closed the pipe (it stopped reading), end the process at
    once, whatever statement is running: nobody waits for its answers."""
    try:
        write(*args)
    except OSError:
        os._exit(0)


def write_answer(answers: BinaryIO, table: pa.Table, batch_rows: int) -> None:
    """One statement's answer: ok, its batches, the zero length."""
    answers.write(b'{"ok": true}\n')
    for batch in table.to_batches(max_chunksize=batch_rows):
        stream = ipc_stream(batch)
        answers.write(stream.size.to_bytes(8, "little"))
        answers.write(memoryview(stream))
    answers.write(END)
    answers.flush()


def write_error(answers: BinaryIO, error: bytes) -> None:
    """A failed statement's answer: the error line, which ends the request."""
    answers.write(error)
    answers.flush()


def read_snapshot(path: str, statements: list[list[Any]]) -> Iterator[pa.Table]:
    """Each statement's rows in turn, all from one read transaction (one consistent snapshot)."""
    with (
        adbc_driver_sqlite.connect(path) as database,
        adbc_driver_manager.AdbcConnection(database) as connection,
    ):
        execute(connection, f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        execute(connection, "BEGIN")
        try:
            for sql, params in statements:
                yield execute(connection, sql, params)
        finally:
            execute(connection, "COMMIT")


def execute(connection: adbc_driver_manager.AdbcConnection, sql: str, params: list[Any] = ()) -> pa.Table:
    """One statement's rows as an Arrow table (positional parameters bound as one row)."""
    with adbc_driver_manager.AdbcStatement(connection) as statement:
        statement.set_options(**{adbc_driver_sqlite.StatementOptions.BATCH_ROWS.value: BATCH_ROWS})
        statement.set_sql_query(sql)
        if params:
            statement.bind(
                pa.record_batch([pa.array([value]) for value in params], names=[str(i) for i in range(len(params))])
            )
        stream, _ = statement.execute_query()
        return pa.RecordBatchReader.from_stream(stream).read_all()


def ipc_stream(batch: pa.RecordBatch) -> pa.Buffer:
    """One batch as an Arrow IPC stream."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    return sink.getvalue()


if __name__ == "__main__":
    main(sys.stdin.buffer, sys.stdout.buffer)
