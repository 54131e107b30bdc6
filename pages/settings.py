"""Settings: every setting of ``backend.config`` in one form, grouped, with its help text.

Only values that differ from what applies now are saved (so untouched fields keep following the
environment and the defaults); secrets are never displayed, only replaced or reset.
"""

import os

import streamlit as st

from backend import config
from backend.db import settings_store
from ui.errors import guard, show_error
from ui.i18n import t
from ui.state import SETTINGS_FLASH_KEY, SETTINGS_WIDGET_PREFIX, lab_or_none, refresh_lab
from ui.settings_form import changed_values, field_widget, fields_by_group

with guard():
    st.title(t("settings.title"))
    st.caption(t("settings.intro"))
    flash = st.session_state.pop(SETTINGS_FLASH_KEY, None)
    if flash:
        st.success(flash, icon=":material/check_circle:")
    lab = lab_or_none()
    current = lab.settings if lab is not None else config.build()

    st.subheader(t("settings.where"))
    database = current.masked()["database_url"] or t("settings.embedded")
    st.markdown(f"**{t('settings.data_folder')}:** `{current.data_path}`  \n"
                f"**{t('settings.database')}:** `{database}`")

    if lab is not None:
        saved = settings_store.load_saved(lab.db)
        env_values = config.from_env(os.environ)
        resets: dict[str, bool] = {}
        with st.form("settings_form", border=False):
            for group, items in fields_by_group():
                st.subheader(t(f"settings.group.{group}"))
                for item in items:
                    resets[item["name"]] = field_widget(item, current, saved, env_values)
            save = st.form_submit_button(t("settings.save"), type="primary", key="settings.save",
                                         icon=":material/save:")

        reset_names = [name for name, clicked in resets.items() if clicked]
        if save or reset_names:
            try:
                if reset_names:
                    settings_store.save(lab.db, {name: None for name in reset_names})
                    message = t("settings.reset_done", name=", ".join(
                        t(f"settings.field.{n}") for n in reset_names))
                else:
                    changes = changed_values(current)
                    settings_store.save(lab.db, changes)
                    message = (t("settings.saved", names=", ".join(
                        t(f"settings.field.{n}") for n in changes)) if changes
                        else t("settings.nothing_changed"))
            except Exception as exc:  # noqa: BLE001 - a validation error is shown, the form stays
                show_error(exc)
            else:
                refresh_lab()
                for key in [k for k in st.session_state if str(k).startswith(SETTINGS_WIDGET_PREFIX)]:
                    del st.session_state[key]  # widgets re-read the values that now apply
                st.session_state[SETTINGS_FLASH_KEY] = message
                st.rerun()
