"""Cached resources and session-state keys shared by every page.

The lab (settings + database pool) is a process-wide ``st.cache_resource``; nothing holding a
connection or a model ever goes into ``session_state`` (STYLE: cache deliberately). Session keys are
the named constants below, so two pages never collide on a key by accident.
"""

from __future__ import annotations

import logging
import os
import time
from typing import TYPE_CHECKING

import streamlit as st

from backend.config import mask_url
from backend.errors import DatabaseUnavailable, LabError

if TYPE_CHECKING:
    from backend.lab import Lab

log = logging.getLogger(__name__)

# --- session-state keys (one place, so pages never reuse a key by accident) ---------------------
LANG_KEY = "lab.language"                 #: the interface language ("en" / "es"), the sidebar switch
SETTINGS_FLASH_KEY = "settings.flash"     #: a confirmation shown once after a save on Settings
SETTINGS_WIDGET_PREFIX = "settings.field."  #: + field name: the Settings form's widgets
JOB_CANCEL_PREFIX = "job.cancel."          #: + job id: the Cancel button of a job's progress widget

# libpq waits forever for a silent host by default; a page must fail in seconds, not minutes.
os.environ.setdefault("PGCONNECT_TIMEOUT", "5")

# A failed open is remembered briefly so the sidebar and the page body of one run do not each wait
# for the same unreachable server; keyed by the environment, so fixing it takes effect at once.
_RETRY_AFTER_SECONDS = 3.0
_recent_failures: dict[tuple, tuple[float, LabError]] = {}


def env_key() -> tuple[tuple[str, str], ...]:
    """The part of the environment that decides which lab this process opens."""
    return tuple(sorted((k, v) for k, v in os.environ.items()
                        if k == "DATABASE_URL" or k.startswith("LAB_")))


@st.cache_resource(show_spinner=False)
def _open_lab(env: tuple[tuple[str, str], ...]) -> "Lab":
    from backend.lab import open_lab

    return open_lab(dict(env))


def _as_lab_error(exc: Exception, env: dict[str, str]) -> LabError:
    """Wrap a driver error (e.g. from the migration runner) into one that names what to fix."""
    if isinstance(exc, LabError):
        return exc
    import psycopg

    url = env.get("DATABASE_URL", "")
    if isinstance(exc, psycopg.Error):
        if url:
            return DatabaseUnavailable(
                f"The database at {mask_url(url)} cannot be reached.",
                hint="Check DATABASE_URL (or unset it to use the embedded Postgres) and that the "
                     "server is running and accepts connections.")
        return DatabaseUnavailable(
            "The embedded database cannot be reached.",
            hint="Check that LAB_DATA_DIR is writable, or set DATABASE_URL to an external Postgres.")
    return LabError("The lab could not start.", hint="The log has the details.")


def get_lab() -> "Lab":
    """The process-wide lab (settings + migrated database), opened once and cached.

    Raises a ``LabError`` saying what to fix (for example naming DATABASE_URL when the database is
    unreachable); a failure is not cached, so the next run after a fix succeeds.
    """
    key = env_key()
    failed = _recent_failures.get(key)
    if failed and time.monotonic() - failed[0] < _RETRY_AFTER_SECONDS:
        raise failed[1]
    try:
        lab = _open_lab(key)
    except Exception as exc:  # noqa: BLE001 - translated into one actionable LabError
        error = _as_lab_error(exc, dict(key))
        if error is not exc:
            log.error("opening the lab failed", exc_info=exc)
        _recent_failures[key] = (time.monotonic(), error)
        raise error from (None if error is exc else exc)
    _recent_failures.pop(key, None)
    return lab


def lab_or_none(*, show: bool = True) -> "Lab | None":
    """The lab, or ``None`` after showing (when ``show``) why it cannot be opened."""
    try:
        return get_lab()
    except LabError as exc:
        if show:
            from ui.errors import show_error

            show_error(exc)
        return None


def refresh_lab() -> None:
    """Forget the cached lab and status reads (after settings were saved), so the next read sees them."""
    _open_lab.clear()
    _recent_failures.clear()
    st.cache_data.clear()


def default_language() -> str:
    """The saved ``language`` setting, or English when the lab cannot be opened."""
    try:
        return get_lab().settings.language
    except LabError:
        return "en"
