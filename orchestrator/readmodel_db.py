"""Where the read model lives: an embedded sqlite file (one replica), or PostgreSQL shared
by every replica (the scaled profile, compose, Kubernetes).

Both take the same SQL, written for sqlite with `?` placeholders; the few functions that
differ come from the `Dialect`. Each `run` is one transaction, serialised per process.
A PostgreSQL connection that breaks (the server restarted) is opened again on the next
call: until then calls raise, the subscription answers RETRY and nothing is lost.
"""

import logging
import sqlite3
import threading
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Dialect:
    greatest: str
    least: str
    json_text: str  # a template with {column} and {key}


SQLITE = Dialect("MAX", "MIN", "json_extract({column}, '$.{key}')")
POSTGRES = Dialect("GREATEST", "LEAST", "({column}::json ->> '{key}')")


class Cursor(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> "Result": ...


@dataclass(frozen=True)
class Result:
    rows: list[tuple[Any, ...]]
    rowcount: int


class Database(Protocol):
    dialect: Dialect

    def run(self, work: Callable[[Cursor], T]) -> T:
        """Runs `work` in one transaction: committed when it returns, rolled back if it raises."""

    def lead(self, name: str) -> bool:
        """Whether this process holds the fleet-wide lease `name` (taking it if free)."""


class _SqliteCursor:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Result:
        cursor = self._db.execute(sql, tuple(params))
        return Result(cursor.fetchall() if cursor.description else [], cursor.rowcount)


class SqliteDatabase:
    dialect = SQLITE

    def __init__(self, path: Path, schema: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # A projection: WAL with NORMAL survives a crash of the app (not of the host) without
        # an fsync per applied event.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(schema)
        self._lock = threading.Lock()

    def run(self, work: Callable[[Cursor], T]) -> T:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                result = work(_SqliteCursor(self._db))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            return result

    def lead(self, name: str) -> bool:
        return True  # one process owns the file


class _PostgresCursor:
    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Result:
        self._cursor.execute(sql.replace("?", "%s"), tuple(params))
        rows = self._cursor.fetchall() if self._cursor.description else []
        return Result(rows, self._cursor.rowcount)


def lease_key(name: str) -> int:
    """A stable 32-bit key for PostgreSQL's advisory locks."""
    return zlib.crc32(f"order-fleet:{name}".encode()) - 2**31


class PostgresDatabase:
    dialect = POSTGRES

    def __init__(self, url: str, schema: str) -> None:
        self._url = url
        self._schema = schema
        self._lock = threading.Lock()
        self._conn: Any = None
        # The lease has its own session: advisory locks live as long as their session.
        self._lease_conn: Any = None
        self._leases: set[str] = set()

    def _connect(self) -> Any:
        import psycopg

        conn = psycopg.connect(self._url, connect_timeout=5)
        with conn.transaction():
            # Replicas start together: one at a time creates the tables.
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (lease_key("schema"),))
            for statement in filter(str.strip, self._schema.split(";")):
                conn.execute(statement)
        return conn

    def run(self, work: Callable[[Cursor], T]) -> T:
        import psycopg

        with self._lock:
            if self._conn is None or self._conn.closed:
                self._conn = self._connect()
            try:
                with self._conn.transaction(), self._conn.cursor() as cursor:
                    return work(_PostgresCursor(cursor))
            except psycopg.OperationalError:
                # The server went away: reconnect on the next call.
                self._conn.close()
                self._conn = None
                raise

    def lead(self, name: str) -> bool:
        import psycopg

        with self._lock:
            try:
                if self._lease_conn is None or self._lease_conn.closed:
                    self._leases.clear()
                    self._lease_conn = psycopg.connect(
                        self._url, connect_timeout=5, autocommit=True
                    )
                if name in self._leases:
                    self._lease_conn.execute("SELECT 1")  # still the same session?
                    return True
                row = self._lease_conn.execute(
                    "SELECT pg_try_advisory_lock(%s)", (lease_key(name),)
                ).fetchone()
            except psycopg.OperationalError:
                if self._lease_conn is not None:
                    self._lease_conn.close()
                self._lease_conn = None
                self._leases.clear()
                return False
            if row and row[0]:
                self._leases.add(name)
                logger.info("this replica now holds the %s lease", name)
                return True
            return False


def is_postgres(location: str) -> bool:
    """A `postgresql://` URL or a libpq keyword string (`host=... dbname=...`)."""
    return location.startswith(("postgresql://", "postgres://")) or "dbname=" in location


def open_database(location: str, schema: str) -> Database:
    """PostgreSQL for a connection string (is_postgres); otherwise a sqlite file path."""
    if is_postgres(location):
        return PostgresDatabase(location, schema)
    return SqliteDatabase(Path(location), schema)
