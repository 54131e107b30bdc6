"""Connection pools: one per database URL per process, pgvector registered on every connection."""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from typing import Iterator

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from backend.errors import DatabaseUnavailable

log = logging.getLogger(__name__)
_pools: dict[str, ConnectionPool] = {}
_lock = threading.Lock()


def _configure(conn: psycopg.Connection) -> None:
    """Register pgvector's types once per pooled connection (STYLE habit 5)."""
    from pgvector.psycopg import register_vector

    try:
        register_vector(conn)
    except psycopg.ProgrammingError:
        # the extension is created by the first migration; before that there is nothing to register
        conn.rollback()
    conn.commit()


def get_pool(url: str, *, max_size: int = 8, connect_timeout: float = 5) -> ConnectionPool:
    """The process-wide pool for ``url`` (opened on first use)."""
    with _lock:
        pool = _pools.get(url)
        if pool is None or pool.closed:
            pool = ConnectionPool(url, min_size=1, max_size=max_size, open=False,
                                  configure=_configure, kwargs={"row_factory": dict_row},
                                  check=ConnectionPool.check_connection,
                                  timeout=10, name="lab", reconnect_timeout=30)
            try:
                pool.open(wait=True, timeout=connect_timeout)
            except Exception as exc:
                pool.close()
                raise DatabaseUnavailable(
                    "The database cannot be reached.",
                    hint="Check DATABASE_URL (or unset it to use the embedded Postgres) and that "
                         "the server is running.") from exc
            _pools[url] = pool
        return pool


@contextmanager
def connection(url: str) -> Iterator[psycopg.Connection]:
    """A pooled connection in a transaction: committed on success, rolled back on error."""
    pool = get_pool(url)
    try:
        cm = pool.connection()
        conn = cm.__enter__()
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable("The database connection was lost.",
                                  hint="It is being retried; check that Postgres is running.") from exc
    try:
        yield conn
    except BaseException as exc:
        cm.__exit__(type(exc), exc, exc.__traceback__)
        raise
    else:
        cm.__exit__(None, None, None)


def close_all() -> None:
    with _lock:
        for pool in _pools.values():
            pool.close()
        _pools.clear()
