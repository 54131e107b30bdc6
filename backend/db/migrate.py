"""A tiny forward-only migration runner.

Applies ``sql/NNNN_name.sql`` in order, each in its own transaction, and records what it applied
(with a checksum) in ``schema_migrations``. The procrastinate job-queue schema is applied once, as a
recorded pseudo-migration named after its version. Several processes may call ``migrate`` at once:
an advisory lock serialises them.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path

import psycopg

from backend.errors import DatabaseUnavailable

log = logging.getLogger(__name__)
SQL_DIR = Path(__file__).resolve().parents[2] / "sql"
_LOCK_ID = 7_310_001
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()[:16]


def available(sql_dir: Path = SQL_DIR) -> list[Migration]:
    """The migrations shipped in ``sql/``, in order."""
    found = []
    for path in sorted(sql_dir.glob("*.sql")):
        m = _NAME.match(path.name)
        if not m:
            raise ValueError(f"{path.name}: migration files are named NNNN_lower_snake.sql")
        found.append(Migration(int(m.group(1)), m.group(2), path.read_text(encoding="utf-8")))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise ValueError("two migrations share a number")
    return found


def _procrastinate_migration() -> Migration:
    version = metadata.version("procrastinate")
    schema = (resources.files("procrastinate.sql") / "schema.sql").read_text(encoding="utf-8")
    return Migration(0, f"procrastinate_{version}", schema)


def migrate(url: str, sql_dir: Path = SQL_DIR) -> list[str]:
    """Apply what is missing; return the names applied (empty when up to date)."""
    applied_now: list[str] = []
    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(
            "The database cannot be reached.",
            hint="Check DATABASE_URL (or unset it to use the embedded Postgres) and that the server "
                 "is running.") from exc
    with conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_ID,))
        try:
            conn.execute("""CREATE TABLE IF NOT EXISTS schema_migrations (
                version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now())""")
            conn.execute("""CREATE TABLE IF NOT EXISTS schema_components (
                name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())""")
            done = {r[0] for r in conn.execute("SELECT version FROM schema_migrations")}
            for mig in available(sql_dir):
                if mig.version in done:
                    continue
                with conn.transaction():
                    conn.execute(mig.sql)
                    conn.execute("INSERT INTO schema_migrations (version, name, checksum) "
                                 "VALUES (%s, %s, %s)", (mig.version, mig.name, mig.checksum))
                applied_now.append(f"{mig.version:04d}_{mig.name}")
                log.info("applied migration %04d_%s", mig.version, mig.name)
            proc = _procrastinate_migration()
            has_queue = conn.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL").fetchone()[0]
            if not has_queue:
                with conn.transaction():
                    conn.execute(proc.sql)
                    conn.execute("INSERT INTO schema_components (name) VALUES (%s) "
                                 "ON CONFLICT DO NOTHING", (proc.name,))
                applied_now.append(proc.name)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_ID,))
    return applied_now


def applied(url: str) -> list[tuple[int, str]]:
    with psycopg.connect(url) as conn:
        return list(conn.execute("SELECT version, name FROM schema_migrations ORDER BY version"))
