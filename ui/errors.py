"""Errors speak to the user once: one friendly message on the page, the traceback in the log.

``show_error(exc)`` is the only way pages report a failure; ``guard()`` wraps a page body so an
unexpected exception becomes that message instead of a traceback.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Iterator

import streamlit as st

from backend.errors import LabError
from backend.messages import as_json
from ui.i18n import backend_text, current_language, has_key, t

log = logging.getLogger("ui")


def error_text(exc: BaseException) -> str:
    """The message a user sees for ``exc`` in the current language.

    A ``LabError`` shows its own message and hint (what to fix). In a language other than English,
    a translated headline for its kind comes first, then the details: translated when the message
    has a key (``backend.messages``), else in English, since they name the exact file, setting or
    variable to fix. Anything else is a generic line.
    """
    if not isinstance(exc, LabError):
        return t("error.generic")
    key = f"error.{exc.code}"
    details = exc.user_message
    if current_language() == "en" or not has_key(key):
        return details
    translated = backend_text(as_json(details), str(details))
    if translated != details:
        return f"{t(key)} {translated}"
    return f"{t(key)} {t('error.details', details=details)}"


def show_error(exc: BaseException) -> None:
    """Show one friendly message for ``exc`` on the page and log its traceback."""
    if isinstance(exc, LabError):
        log.warning("%s: %s", type(exc).__name__, exc.user_message, exc_info=exc)
    else:
        log.error("unexpected error in the interface", exc_info=exc)
    st.error(error_text(exc), icon=":material/error:")


@contextmanager
def guard() -> Iterator[None]:
    """Run a block; any exception is shown with ``show_error`` instead of a traceback.

    ``st.rerun()`` and ``st.stop()`` still work inside it: they are not ``Exception`` subclasses.
    """
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - the point: nothing reaches the user as a traceback
        show_error(exc)
