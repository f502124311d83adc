"""Fixtures shared by every test: database URLs for a real SQLite file and a real PostgreSQL.

PostgreSQL comes from, in order: the server on 127.0.0.1:5432 when it lets user postgres
(or the current user) in without a password; Debian's cluster, after installing the
`postgresql` package when it is missing and starting it with pg_ctlcluster; a private
throw-away cluster (initdb, trust auth) on a free local port in a temporary folder. Each
test session (each xdist worker) gets a fresh, uniquely named database, dropped at the end,
and every test starts with its tables empty. With CI=true a PostgreSQL that cannot be had
fails the tests instead of skipping them.
"""

from __future__ import annotations

import getpass
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

HOST = "127.0.0.1"
DEFAULT_PORT = 5432
FOLDER_MARKERS = ("unit", "integration", "app", "browser")
TEST_DB_PREFIX = "smarketing_test_"
TESTS = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test with the folder it lives in (unit, integration, app, browser)."""
    for item in items:
        try:
            folder = item.path.resolve().relative_to(TESTS).parts[0]
        except ValueError:
            continue
        if folder in FOLDER_MARKERS:
            item.add_marker(folder)


# -- database URLs -----------------------------------------------------------------------


@pytest.fixture(autouse=True, scope="session")
def _a_database_of_the_tests_own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A test that names no database (no --db, no SMARKETING_DB) gets a throw-away one, never the
    working tree's data/smarketing.db, which `make run` seeds and serves."""
    patch = pytest.MonkeyPatch()
    if "SMARKETING_DB" not in os.environ:
        patch.setenv("SMARKETING_DB", f"sqlite:///{tmp_path_factory.mktemp('default-db') / 'smarketing.db'}")
    yield
    patch.undo()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite database file of its own for this test."""
    return f"sqlite:///{tmp_path / 'smarketing.db'}"


@pytest.fixture
def postgres_url(_postgres_database: tuple[str, str]) -> str:
    """The session's PostgreSQL test database, with every table emptied for this test."""
    url, conninfo = _postgres_database
    _empty_tables(conninfo)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """Runs the test once on SQLite and once on PostgreSQL."""
    return request.getfixturevalue(f"{'sqlite' if request.param == 'sqlite' else 'postgres'}_url")


@pytest.fixture
def db_engine(db_url: str) -> Iterator:
    """smarketing.store.storage's engine for db_url (tables created)."""
    from smarketing.store.storage import make_engine

    engine = make_engine(db_url)
    yield engine
    engine.dispose()


# -- the PostgreSQL server ---------------------------------------------------------------


@dataclass(frozen=True)
class PgServer:
    """A PostgreSQL server that trusts `user` on a local port."""

    port: int
    user: str
    maintenance_db: str

    def conninfo(self, dbname: str | None = None) -> str:
        return make_conninfo(host=HOST, port=self.port, user=self.user, dbname=dbname or self.maintenance_db)

    def url(self, dbname: str) -> str:
        return f"postgresql+psycopg://{self.user}@{HOST}:{self.port}/{dbname}"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PgServer]:
    """A running PostgreSQL server (found, installed and started, or private)."""
    reasons: list[str] = []
    server, stop = _find_or_start_postgres(reasons)
    if server is None:
        message = "no PostgreSQL server could be used or started: " + "; ".join(reasons)
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    yield server
    stop()


@pytest.fixture(scope="session")
def _postgres_database(postgres_server: PgServer) -> Iterator[tuple[str, str]]:
    """A fresh database for this test session, dropped afterwards."""
    name = f"{TEST_DB_PREFIX}{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_server.conninfo(), autocommit=True) as conn:
        _drop_stale_databases(conn)
        conn.execute(f'CREATE DATABASE "{name}"')
    yield postgres_server.url(name), postgres_server.conninfo(name)
    with psycopg.connect(postgres_server.conninfo(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def fresh_postgres_url(postgres_server: PgServer) -> Iterator[str]:
    """An empty PostgreSQL database of this test's own (no tables at all), dropped afterwards."""
    name = f"{TEST_DB_PREFIX}{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_server.conninfo(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield postgres_server.url(name)
    with psycopg.connect(postgres_server.conninfo(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _drop_stale_databases(conn: psycopg.Connection) -> None:
    """Drop test databases left by sessions that were killed (their process is gone)."""
    names = [
        row[0] for row in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (f"{TEST_DB_PREFIX}%",))
    ]
    for name in names:
        pid = name[len(TEST_DB_PREFIX) :].split("_", 1)[0]
        if pid.isdigit() and not _process_alive(int(pid)):
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _process_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _empty_tables(conninfo: str) -> None:
    """Truncate every table of the database (the schema stays, so cached engines stay valid)."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SET lock_timeout = '20s'")
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        tables = [row[0] for row in rows if row[0] != "alembic_version"]  # the schema's revision stays
        if tables:
            names = ", ".join(f'"{t}"' for t in tables)
            conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


def _find_or_start_postgres(reasons: list[str]) -> tuple[PgServer | None, Callable[[], None]]:
    """The first PostgreSQL that works, and how to stop it when this session started it."""
    server = _trusting_server(DEFAULT_PORT)
    if server is not None:
        return server, lambda: None
    if _port_open(DEFAULT_PORT):
        reasons.append(f"the server on port {DEFAULT_PORT} does not trust users postgres or {_me()}")
    if _pg_bin("initdb") is None:
        _install_postgres(reasons)
    if not _port_open(DEFAULT_PORT):
        server = _start_debian_cluster(reasons)
        if server is not None:
            return server, lambda: None
    return _private_cluster(reasons)


def _me() -> str:
    """The current OS user's name."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "postgres"


def _port_open(port: int) -> bool:
    """Whether something listens on the local port."""
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((HOST, port)) == 0


def _trusting_server(port: int) -> PgServer | None:
    """A server on the port that lets postgres or the current user in without a password."""
    if not _port_open(port):
        return None
    for user in dict.fromkeys(("postgres", _me())):
        for dbname in dict.fromkeys(("postgres", "test", user)):
            try:
                with psycopg.connect(make_conninfo(host=HOST, port=port, user=user, dbname=dbname), connect_timeout=5):
                    return PgServer(port, user, dbname)
            except psycopg.Error:
                continue
    return None


def _pg_bin(name: str) -> str | None:
    """A PostgreSQL server program, newest installed version first."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(Path(p).parts[4]), reverse=True)
    return found[0] if found else shutil.which(name)


def _run(command: list[str], reasons: list[str], timeout: float = 900) -> bool:
    """Run a setup command; note its failure in reasons."""
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        reasons.append(f"{' '.join(command[:3])} failed: {exc}")
        return False
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        reasons.append(f"{' '.join(command[:3])} exited with {done.returncode}: {tail[0]}")
        return False
    return True


def _install_postgres(reasons: list[str]) -> None:
    """Install Debian's postgresql package (needs root and apt-get)."""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        reasons.append("PostgreSQL is not installed and apt-get cannot be used here (not root or no apt-get)")
        return
    if _run(["apt-get", "update", "-qq"], reasons):
        _run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "postgresql"], reasons)


def _start_debian_cluster(reasons: list[str]) -> PgServer | None:
    """Start Debian's cluster on the default port; keep it only when it trusts us."""
    if shutil.which("pg_lsclusters") is None or shutil.which("pg_ctlcluster") is None:
        reasons.append("pg_ctlcluster is not available")
        return None
    listing = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True).stdout
    for line in listing.splitlines():
        fields = line.split()
        if len(fields) < 3 or fields[2] != str(DEFAULT_PORT):
            continue
        command = ["pg_ctlcluster", "--skip-systemctl-redirect", fields[0], fields[1]]
        if not _run([*command, "start"], reasons, timeout=120):
            continue
        server = _wait_for(lambda: _trusting_server(DEFAULT_PORT), 15)
        if server is not None:
            return server
        reasons.append(f"Debian's cluster {fields[0]}/{fields[1]} started but does not trust users postgres or {_me()}")
        _run([*command, "stop"], reasons, timeout=120)
    return None


def _wait_for(probe: Callable[[], PgServer | None], seconds: float) -> PgServer | None:
    """Poll until the probe gives a server or time runs out."""
    deadline = time.monotonic() + seconds
    while True:
        server = probe()
        if server is not None or time.monotonic() > deadline:
            return server
        time.sleep(0.3)


def _free_port() -> int:
    """A local TCP port nobody listens on."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _private_cluster(reasons: list[str]) -> tuple[PgServer | None, Callable[[], None]]:
    """initdb a throw-away trust-auth cluster in a temp folder and start it on a free port."""
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if initdb is None or pg_ctl is None:
        reasons.append("initdb and pg_ctl were not found")
        return None, lambda: None
    as_user: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="smarketing-pg-"))
    if os.geteuid() == 0:  # initdb refuses to run as root
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            reasons.append("running as root and there is no postgres user to run initdb as")
            return None, lambda: None
        os.chown(folder, account.pw_uid, account.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = folder / "data", _free_port()
    options = f"-p {port} -k {folder} -c listen_addresses={HOST} -c fsync=off -c full_page_writes=off"

    def stop() -> None:
        subprocess.run([*as_user, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)

    ok = _run([*as_user, initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"], reasons)
    ok = ok and _run(
        [*as_user, pg_ctl, "-D", str(data), "-l", str(folder / "log"), "-w", "-t", "60", "-o", options, "start"],
        reasons,
        timeout=90,
    )
    server = _wait_for(lambda: _trusting_server(port), 15) if ok else None
    if server is None:
        reasons.append("the private cluster did not start")
        stop()
        return None, lambda: None
    return server, stop
