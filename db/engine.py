"""Engines: SQLite (the embedded default) and PostgreSQL, each set up for the core's guarantees."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

SQLITE_BUSY_TIMEOUT_MS = 30_000


def make_engine(url: str, *, pool_size: int = 10, max_overflow: int = 10) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        _configure_sqlite(engine)
        return engine
    # No pre-ping: it costs a round trip on every checkout. A connection the server dropped
    # fails its statement, SQLAlchemy invalidates the whole pool, and the next use reconnects.
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_recycle=1800,
    )


def _configure_sqlite(engine: AsyncEngine) -> None:
    """Foreign keys on, WAL, a busy timeout, and ``BEGIN IMMEDIATE`` for every transaction.

    The driver's own implicit BEGIN is switched off (SQLAlchemy's documented recipe for
    pysqlite/aiosqlite), so SQLAlchemy emits ``BEGIN IMMEDIATE`` itself: writers take the
    database lock when the transaction starts, which serialises them, makes a read-then-write
    inside one transaction safe, and keeps SAVEPOINT working.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
