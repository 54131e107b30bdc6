"""User-saved settings (the Settings page), stored in Postgres."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from psycopg.types.json import Jsonb

from backend.errors import ConfigError

if TYPE_CHECKING:
    from backend.config import Settings
    from backend.db import Database


def saved_values(base: "Settings") -> dict[str, Any]:
    """What users saved, read through the database that ``base`` points at."""
    from backend.db import Database, database_url

    return load_saved(Database(database_url(base)))


def load_saved(db: "Database") -> dict[str, Any]:
    rows = db.fetchall("SELECT name, value FROM settings")
    return {r["name"]: r["value"] for r in rows}


def save(db: "Database", values: dict[str, Any]) -> None:
    """Validate and store values; a value equal to ``None`` removes the saved override."""
    from backend.config import validate_value

    checked = {name: (None if raw is None else validate_value(name, raw)) for name, raw in values.items()}
    with db.connect() as conn:
        for name, value in checked.items():
            if value is None:
                conn.execute("DELETE FROM settings WHERE name = %s", (name,))
            else:
                conn.execute(
                    "INSERT INTO settings (name, value, updated_at) VALUES (%s, %s, now()) "
                    "ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, updated_at = now()",
                    (name, Jsonb(value)))


def reset(db: "Database", name: str) -> None:
    if not name:
        raise ConfigError("No setting named.")
    save(db, {name: None})
