"""AppTest helpers: point the app at this test's database and flatten a rendered page to text."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app.py"


@pytest.fixture(autouse=True)
def _navigation_only(monkeypatch):
    """Run app.py as a live server does after its first run: st.navigation decides the page.

    Streamlit still has a legacy mode for apps with a ``pages/`` folder: until ``st.navigation``
    has been called once in the process, a rerun that targets a page runs that page's file alone
    (no app.py, so no sidebar or language switch). A live server leaves that mode on the first
    run; AppTest resets it before every run (streamlit 1.67), so every rerun after the first
    would skip app.py. This pins the live server's behaviour.
    """
    from streamlit.runtime.pages_manager import PagesManager

    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)


def _clear_caches() -> None:
    import streamlit as st

    from ui import state

    st.cache_resource.clear()
    st.cache_data.clear()
    state._recent_failures.clear()


@pytest.fixture
def app_env(lab_env, monkeypatch):
    """The test database's environment, with Streamlit's caches cleared before and after."""
    for name, value in lab_env.items():
        monkeypatch.setenv(name, value)
    _clear_caches()
    yield lab_env
    _clear_caches()


@pytest.fixture
def new_app():
    """A factory: an ``AppTest`` of app.py with a timeout roomy enough for a first DB connect."""
    from streamlit.testing.v1 import AppTest

    def make() -> "AppTest":
        return AppTest.from_file(str(APP), default_timeout=60)

    return make


def open_page(new_app, page: str, *, strict: bool = False):
    """An ``AppTest`` that has run Home, then moved to ``page`` (a file under pages/) as a click
    does; fails on an exception, and with ``strict`` on an error message too."""
    at = new_app()
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    if strict:
        assert not at.error, [e.value for e in at.error]
    return at


def tree_text(at) -> str:
    """Everything the page rendered (every element's protobuf as UTF-8 text), for searching."""
    from google.protobuf import text_format

    parts: list[str] = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(text_format.MessageToString(proto, as_utf8=True))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(parts)
