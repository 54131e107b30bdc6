"""The interface's words in English and Spanish, behind one function: ``t(key, **fmt)``.

Each language is one dict of stable keys (``ui/strings_en.py``, ``ui/strings_es.py``, plus one
pair ``ui/strings_<area>_en.py`` / ``ui/strings_<area>_es.py`` per screen that wants its own). Pages never
hold literal user-facing text; they call ``t("page.thing")``. A unit test fails when a key exists in
one language only, or when any ``t("...")`` call in app.py, pages/ or ui/ names a key that neither
catalogue has.
"""

from __future__ import annotations

import logging
import string
from typing import Any

from ui.state import LANG_KEY

log = logging.getLogger(__name__)

DEFAULT_LANGUAGE = "en"


def _load_catalogue(lang: str) -> dict[str, str]:
    """``ui/strings_<lang>.py`` merged with every area module ``ui/strings_<area>_<lang>.py``.

    Each screen may keep its words in its own pair of modules; a key defined twice is an error.
    """
    import importlib
    import pkgutil

    import ui

    merged: dict[str, str] = {}
    names = sorted(m.name for m in pkgutil.iter_modules(ui.__path__)
                   if m.name == f"strings_{lang}"
                   or (m.name.startswith("strings_") and m.name.endswith(f"_{lang}")))
    for name in names:
        strings = importlib.import_module(f"ui.{name}").STRINGS
        twice = merged.keys() & strings.keys()
        if twice:
            raise ValueError(f"ui/{name}.py redefines interface strings: {sorted(twice)}")
        merged.update(strings)
    return merged


CATALOGUES: dict[str, dict[str, str]] = {lang: _load_catalogue(lang) for lang in ("en", "es")}
LANGUAGES: tuple[str, ...] = tuple(CATALOGUES)


def translate(lang: str, key: str, **fmt: Any) -> str:
    """``key`` in ``lang``; falls back to English, then to the key itself (and logs it)."""
    text = CATALOGUES.get(lang, {}).get(key)
    if text is None:
        text = CATALOGUES[DEFAULT_LANGUAGE].get(key)
        if text is None:
            log.warning("missing interface string %r", key)
            return key
    if not fmt:
        return text
    try:
        return text.format(**fmt)
    except (KeyError, IndexError, ValueError):
        log.warning("interface string %r (%s) does not fit its arguments %s", key, lang, sorted(fmt))
        return text


def has_key(key: str, lang: str | None = None) -> bool:
    """Whether ``key`` has a text in ``lang`` (default: the current language)."""
    return key in CATALOGUES.get(lang or current_language(), {})


def current_language() -> str:
    """The language chosen in this browser session ("en" outside a Streamlit run)."""
    try:
        import streamlit as st

        lang = st.session_state.get(LANG_KEY)
    except Exception:  # noqa: BLE001 - no script run (unit tests, CLI): use the default
        return DEFAULT_LANGUAGE
    return lang if lang in CATALOGUES else DEFAULT_LANGUAGE


def t(key: str, **fmt: Any) -> str:
    """The text for ``key`` in the current language, formatted with ``fmt``."""
    return translate(current_language(), key, **fmt)


def language_switch(default: str | None = None) -> str:
    """The English / Español switch in the sidebar; returns the chosen language code.

    Call it before any other ``t()`` of a run, so the whole page renders in the new language.
    ``default`` (e.g. the saved ``language`` setting) applies until the user picks one.
    """
    import streamlit as st

    if st.session_state.get(LANG_KEY) not in CATALOGUES:
        st.session_state[LANG_KEY] = default if default in CATALOGUES else DEFAULT_LANGUAGE
    # the label is the same in every language (a changed label would reset the widget's choice,
    # and a reader who cannot read the current language still finds it)
    return st.sidebar.radio(
        translate(DEFAULT_LANGUAGE, "sidebar.language"), LANGUAGES,
        format_func=lambda code: translate(code, f"language.{code}"), key=LANG_KEY, horizontal=True)


def backend_text(data: Any, stored: str) -> str:
    """A message the backend stored (``backend.messages``): ``stored`` is its English text,
    ``data`` its key and values. In the reader's language when the catalogue has every key
    (``backend.<key>``) and the key still describes the text (a writer that set only the text
    leaves an older key behind); otherwise the stored text as it is."""
    if data is None or _backend_text(data, DEFAULT_LANGUAGE) != stored:
        return stored
    return _backend_text(data, current_language()) or stored


def _backend_text(data: Any, lang: str) -> str | None:
    """``{"key", "args"}`` (values may nest) as ``backend.<key>`` text in ``lang``; None if a key
    is unknown or the data malformed."""
    if not isinstance(data, dict) or not isinstance(data.get("key"), str):
        return None
    key = f"backend.{data['key']}"
    if key not in CATALOGUES.get(lang, {}):
        return None
    args = {}
    for name, value in (data.get("args") or {}).items():
        if isinstance(value, dict):
            value = _backend_text(value, lang)
            if value is None:
                return None
        args[name] = value
    return translate(lang, key, **args)


def missing_keys() -> dict[str, set[str]]:
    """For each language, the keys another language has and it lacks (empty sets when complete)."""
    every = set().union(*(set(c) for c in CATALOGUES.values()))
    return {lang: every - set(cat) for lang, cat in CATALOGUES.items()}


def placeholders(text: str) -> set[str]:
    """The ``{name}`` fields of a catalogue text (both languages must use the same ones)."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}
