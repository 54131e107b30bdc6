"""The chart and table code loaded ahead (ui/warm.py): found in the installed Streamlit, sent
once per session, and not at all when turned off. The browser journey checks that the browser
really imports it (tests/e2e/test_journey.py, step_home)."""

from __future__ import annotations

from ui import warm


def _warm_scripts(at) -> list[str]:
    return [e.proto.body for e in at.get("html") if "__labWarm" in e.proto.body]


def test_the_installed_streamlit_has_the_chart_and_table_modules():
    names = warm.chunk_files()
    assert [n.split(".")[0] for n in names] == list(warm.CHUNKS)
    assert all(n.endswith(".js") for n in names)


def test_the_first_run_of_a_session_sends_the_script_and_later_runs_do_not(app_env, new_app):
    at = new_app().run()
    assert not at.exception, [e.value for e in at.exception]
    scripts = _warm_scripts(at.sidebar)
    assert len(scripts) == 1
    assert all(name in scripts[0] for name in warm.chunk_files())
    assert at.sidebar.get("html")[0].proto.unsafe_allow_javascript
    at.run()
    assert _warm_scripts(at) == []


def test_turned_off_it_sends_nothing(app_env, new_app, monkeypatch):
    monkeypatch.setenv("LAB_UI_WARM", "0")
    at = new_app().run()
    assert not at.exception
    assert _warm_scripts(at) == []
