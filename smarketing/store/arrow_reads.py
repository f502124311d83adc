"""Arrow-native reads of a SQLite file in a child process (issue 17).

The ADBC SQLite driver reads columns straight into Arrow, about ten times faster than rows through
Python's sqlite3. It runs in a child process (store/arrow_child.py) because it brings a SQLite
library of its own: SQLite's file locks are POSIX locks, held per process, and closing any
descriptor of the file releases all of the process's locks on it, so a second library in this
process (which cannot see sqlite3's open descriptors) dropped the locks of sqlite3's connections
("disk I/O error"). A child's locks are its own: SQLite's ordinary multi-process case.

Children stay alive between reads (starting one costs about a tenth of a second, for pyarrow):
idle ones are taken for each read and given back afterwards, so concurrent reads each have
their own; a child that fails is stopped and replaced by a new one at the next read. A read of
several statements takes two, which run at once on two cores (the first statement, the biggest, in
one; the rest in the other), and is read again by one child when a commit may have come between
their two snapshots.
"""

import atexit
import importlib.util
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.ipc

CHILD = Path(__file__).with_name("arrow_child.py")
IDLE_CHILDREN = 4  # a read takes two; the dashboard reads in a few threads at once
AVAILABLE = importlib.util.find_spec("adbc_driver_sqlite") is not None  # else reads take sqlite3's path


class ArrowReadError(Exception):
    """The child could not answer; the caller reads another way."""


class _Reported(ArrowReadError):
    """The child answered with an error of its own: the request ended there, the child can read again."""


@dataclass
class _Child:
    """One child process and the parent process that started it."""

    process: subprocess.Popen = field(
        default_factory=lambda: subprocess.Popen(
            # -P: not the script's folder on sys.path, so none of the package's modules can shadow a library.
            [sys.executable, "-P", str(CHILD)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
    )
    parent: int = field(default_factory=os.getpid)

    def alive(self) -> bool:
        """Whether the child still runs and belongs to this process (not to a fork's parent)."""
        return self.parent == os.getpid() and self.process.poll() is None

    def stop(self) -> None:
        """Close its pipes (it exits at once, even mid-answer) and reap it."""
        if self.parent != os.getpid():
            return
        try:
            self.process.stdin.close()
            self.process.stdout.close()
            self.process.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()


_IDLE: list[_Child] = []
_IDLE_LOCK = threading.Lock()


def read_batches(
    path: str,
    statements: Sequence[tuple[str, Sequence[Any]]],
    batch_rows: int,
    commit_version: Callable[[], object] | None = None,
) -> Iterator[Iterator[pa.RecordBatch]]:
    """The rows of each (SQL, positional parameters) statement, in Arrow batches of `batch_rows`,
    all from one snapshot of the SQLite file at `path`, in order; raises ArrowReadError.

    Each statement's answer is taken whole off the pipe before it is handed on, so that the reader
    runs the next statement while the caller turns this one into a frame (put the biggest first).
    With `commit_version` (a value that changes whenever any connection commits to the file), the
    first statement is read by one child and the others by a second, at once on two cores; each
    child holds its answers until they are taken (so this process holds no more than one reader
    does). If a commit came between the two children's transactions (the value moved), their
    snapshots may differ, and everything is read again by one child in one transaction."""
    before = commit_version() if commit_version is not None and len(statements) > 1 else None
    if before is None:
        yield from _one_snapshot(path, statements, batch_rows)
        return
    children = [_take(), _take()]
    done = False
    try:
        _ask(children[0], path, statements[:1], batch_rows)
        _ask(children[1], path, statements[1:], batch_rows)
        biggest, rest = _answers(children[0], 1), _answers(children[1], len(statements) - 1)
        # Each child's transaction has begun once it has answered its first statement: the same
        # snapshot for both unless something committed since `before`.
        answered = [next(biggest), next(rest)]
        if commit_version() != before:
            answered.clear()
            for child in children:
                child.stop()
            yield from _one_snapshot(path, statements, batch_rows)
            done = True
            return
        for _ in range(2):  # handed on, not kept here: the caller frees each answer with its frame
            yield iter(answered.pop(0))
        for batches in rest:
            yield iter(batches)
        done = True
    finally:  # after a failure the other child may be mid-answer: both are stopped
        for child in children:
            if done:
                _give_back(child)
            else:
                child.stop()


def _one_snapshot(
    path: str, statements: Sequence[tuple[str, Sequence[Any]]], batch_rows: int
) -> Iterator[Iterator[pa.RecordBatch]]:
    """Every statement's batches from one child, in one read transaction."""
    child = _take()
    done = False
    try:
        for batches in _one_child(child, path, statements, batch_rows):
            yield iter(batches)
        done = True
    except _Reported:
        done = True
        raise
    finally:
        if done:
            _give_back(child)
        else:
            child.stop()


def _one_child(
    child: _Child, path: str, statements: Sequence[tuple[str, Sequence[Any]]], batch_rows: int
) -> Iterator[list[pa.RecordBatch]]:
    """One request to a child and each statement's batches in turn."""
    _ask(child, path, statements, batch_rows)
    yield from _answers(child, len(statements))


def _ask(child: _Child, path: str, statements: Sequence[tuple[str, Sequence[Any]]], batch_rows: int) -> None:
    """Send a child one request: the statements to run in one read transaction."""
    try:
        request = {"path": path, "statements": [[sql, list(params)] for sql, params in statements]}
        child.process.stdin.write(json.dumps({**request, "batch_rows": batch_rows}).encode() + b"\n")
        child.process.stdin.flush()
    except (OSError, ValueError, TypeError) as exc:  # TypeError: a parameter JSON cannot carry
        raise ArrowReadError(f"{type(exc).__name__}: {exc}") from None


def _answers(child: _Child, count: int) -> Iterator[list[pa.RecordBatch]]:
    """The batches of each of the child's `count` answers, each taken whole off the pipe. A child that
    answered with an error it reported can read again; any other failure leaves it unfit."""
    try:
        for _ in range(count):
            answer = json.loads(child.process.stdout.readline() or b'{"error": "the reader process ended"}')
            if answer != {"ok": True}:
                if isinstance(answer, dict) and "error" in answer:
                    raise _Reported(str(answer["error"]))
                raise ArrowReadError(str(answer))
            yield list(_statement_batches(child.process.stdout))
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise ArrowReadError(f"{type(exc).__name__}: {exc}") from None


def _statement_batches(answers: BinaryIO) -> Iterator[pa.RecordBatch]:
    """One statement's batches, read from the child's answer up to the zero length that ends them."""
    try:
        while size := int.from_bytes(_exactly(answers, 8), "little"):
            yield pa.ipc.open_stream(pa.py_buffer(_exactly(answers, size))).read_next_batch()
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise ArrowReadError(f"{type(exc).__name__}: {exc}") from None


def _exactly(answers: BinaryIO, size: int) -> bytes:
    """The next `size` bytes of the answer."""
    data = answers.read(size)
    if len(data) != size:
        raise ArrowReadError("the reader process ended mid-answer")
    return data


def _take() -> _Child:
    """An idle child of this process, or a new one."""
    with _IDLE_LOCK:
        while _IDLE:
            child = _IDLE.pop()
            if child.alive():
                return child
            child.stop()
    try:
        return _Child()
    except OSError as exc:
        raise ArrowReadError(f"cannot start the reader process: {exc.strerror}") from None


def _give_back(child: _Child) -> None:
    """Keep a healthy child for the next read (up to IDLE_CHILDREN), else stop it."""
    with _IDLE_LOCK:
        if child.alive() and len(_IDLE) < IDLE_CHILDREN:
            _IDLE.append(child)
            return
    child.stop()


@atexit.register
def _stop_all() -> None:
    """Stop the idle children when the process ends."""
    with _IDLE_LOCK:
        children = list(_IDLE)
        _IDLE.clear()
    for child in children:
        child.stop()
