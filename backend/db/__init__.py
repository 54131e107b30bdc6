"""Database access: URL resolution (embedded or external), the pooled ``Database`` handle."""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Iterator, Sequence

import psycopg
from psycopg.conninfo import conninfo_to_dict

from backend.db import pool as _pool
from backend.errors import ConfigError

if TYPE_CHECKING:
    from backend.config import Settings


def database_url(settings: "Settings") -> str:
    """The URL this process should use: ``DATABASE_URL`` if set, else the embedded server's."""
    if settings.database_url:
        url = settings.database_url
        if not url.startswith(("postgresql://", "postgres://")) and "=" not in url:
            raise ConfigError(
                "DATABASE_URL is not a Postgres connection URL.",
                hint="Use the form postgresql://user:password@host:5432/dbname, or unset it to use "
                     "the embedded Postgres.")
        try:
            conninfo_to_dict(url)
        except psycopg.ProgrammingError as exc:
            raise ConfigError(f"DATABASE_URL is malformed ({exc}).",
                              hint="Use the form postgresql://user:password@host:5432/dbname.") from exc
        return url
    from backend.db import embedded

    return embedded.ensure_running(settings.pgdata_path)


class Database:
    """A handle on one database: pooled connections and small query helpers."""

    def __init__(self, url: str) -> None:
        self.url = url

    @contextmanager
    def connect(self) -> Iterator[psycopg.Connection]:
        with _pool.connection(self.url) as conn:
            yield conn

    def fetchall(self, sql: str, params: Sequence[Any] | dict | None = None) -> list[dict]:
        with self.connect() as conn:
            return conn.execute(sql, params).fetchall()

    def fetchone(self, sql: str, params: Sequence[Any] | dict | None = None) -> dict | None:
        with self.connect() as conn:
            return conn.execute(sql, params).fetchone()

    def execute(self, sql: str, params: Sequence[Any] | dict | None = None) -> int:
        with self.connect() as conn:
            return conn.execute(sql, params).rowcount

    def __repr__(self) -> str:
        from backend.config import mask_url

        return f"Database({mask_url(self.url)})"
