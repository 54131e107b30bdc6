"""Settings, rendered with AppTest against the real test database."""

from __future__ import annotations

from backend.db import Database, settings_store
from tests.ui.conftest import tree_text
from ui.settings_form import RESET_PREFIX
from ui.state import SETTINGS_WIDGET_PREFIX

SECRET = "sk-test-Zq9-never-shown-4242"


def _settings_page(new_app):
    at = new_app().run()
    at.switch_page("pages/settings.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_settings_renders_every_group_and_masks_an_env_secret(monkeypatch, app_env, new_app):
    monkeypatch.setenv("LAB_LLM_API_KEY", SECRET)
    at = _settings_page(new_app)
    assert at.title[0].value == "Settings"
    assert not at.error, [e.value for e in at.error]
    headers = {h.value for h in at.subheader}
    assert {"Storage", "Models", "Judge model", "Limits", "Cost", "Interface"} <= headers
    key_input = at.text_input(key=SETTINGS_WIDGET_PREFIX + "llm_api_key")
    assert key_input.value == "" and key_input.proto.type == key_input.proto.PASSWORD
    assert "Set (hidden)" in key_input.placeholder
    assert SECRET not in tree_text(at)
    # env-only fields are shown read-only, with the variable that sets them
    assert "LAB_DATA_DIR" in tree_text(at)
    assert any(ti.disabled and ti.value == app_env["LAB_DATA_DIR"] for ti in at.text_input)


def test_saving_a_value_persists_it_and_reset_removes_it(app_env, new_app):
    db = Database(app_env["DATABASE_URL"])
    at = _settings_page(new_app)
    at.text_input(key=SETTINGS_WIDGET_PREFIX + "judge_model").input("judge-7b")
    at.number_input(key=SETTINGS_WIDGET_PREFIX + "max_upload_mb").set_value(75)
    at.button(key="settings.save").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    # only what changed is stored, so untouched fields keep following the environment
    assert settings_store.load_saved(db) == {"judge_model": "judge-7b", "max_upload_mb": 75}
    assert any("Judge model" in s.value for s in at.success)
    # the form now shows the saved values, and their reset buttons are enabled
    assert at.text_input(key=SETTINGS_WIDGET_PREFIX + "judge_model").value == "judge-7b"
    reset = at.button(key=RESET_PREFIX + "judge_model")
    assert not reset.disabled
    reset.click().run()
    assert not at.exception
    assert settings_store.load_saved(db) == {"max_upload_mb": 75}
    assert at.text_input(key=SETTINGS_WIDGET_PREFIX + "judge_model").value == ""


def test_a_typed_secret_is_saved_but_never_shown(app_env, new_app):
    db = Database(app_env["DATABASE_URL"])
    at = _settings_page(new_app)
    at.text_input(key=SETTINGS_WIDGET_PREFIX + "judge_api_key").input(SECRET)
    at.button(key="settings.save").click().run()
    assert settings_store.load_saved(db) == {"judge_api_key": SECRET}
    assert SECRET not in tree_text(at)
    assert at.text_input(key=SETTINGS_WIDGET_PREFIX + "judge_api_key").value == ""
