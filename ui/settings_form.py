"""The Settings form, generated from ``backend.config.describe()``: one widget per field.

Kept out of the page so the page stays a view: fields are grouped as declared (storage, models,
judge, limits, cost, interface); env-only fields are read-only with their variable's name; secrets
are password inputs that start empty and never show what is saved.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import streamlit as st

from backend import config
from ui.i18n import t
from ui.state import SETTINGS_WIDGET_PREFIX

if TYPE_CHECKING:
    from backend.config import Settings

RESET_PREFIX = "settings.reset."


def fields_by_group() -> list[tuple[str, list[dict[str, Any]]]]:
    """The settings grouped by their ``group``, groups and fields in declaration order."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for item in config.describe():
        groups.setdefault(item["group"], []).append(item)
    return list(groups.items())


def _help(item: dict[str, Any]) -> str:
    return f"{t('settings.help.' + item['name'])}\n\n{t('settings.env_var', env=item['env'])}"


def _value_widget(item: dict[str, Any], value: Any) -> None:
    name, key, minimum = item["name"], SETTINGS_WIDGET_PREFIX + item["name"], item["minimum"]
    label, help_text = t(f"settings.field.{name}"), _help(item)
    if item["secret"]:
        st.text_input(label, value="", type="password", key=key, help=help_text,
                      autocomplete="new-password",
                      placeholder=t("settings.secret_set") if value else t("settings.secret_unset"))
    elif item["choices"]:
        choices = list(item["choices"])
        naming = (lambda code: t(f"language.{code}")) if name == "language" else str
        st.selectbox(label, choices, index=choices.index(value), key=key, help=help_text,
                     format_func=naming)
    elif item["type"] == "int":
        st.number_input(label, value=int(value), step=1, key=key, help=help_text,
                        min_value=None if minimum is None else int(minimum))
    elif item["type"] == "float":
        st.number_input(label, value=float(value), step=0.01, format="%g", key=key, help=help_text,
                        min_value=None if minimum is None else float(minimum))
    else:
        st.text_input(label, value=str(value), key=key, help=help_text)


def field_widget(item: dict[str, Any], current: "Settings", saved: dict[str, Any],
                 env_values: dict[str, Any]) -> bool:
    """Draw one field inside the settings form; returns True when its "Reset to default" was used."""
    name = item["name"]
    if item["env_only"]:
        shown = current.masked()[name]
        if name == "database_url" and not shown:
            shown = t("settings.embedded")
        st.text_input(t(f"settings.field.{name}"), value=str(shown), disabled=True,
                      help=_help(item))
        st.caption(t("settings.env_only", env=item["env"]))
        return False
    widget, reset = st.columns([6, 1], vertical_alignment="bottom")
    with widget:
        _value_widget(item, getattr(current, name))
    with reset:
        clicked = st.form_submit_button(
            t("settings.reset"), key=RESET_PREFIX + name, help=t("settings.reset_help"),
            disabled=name not in saved, type="tertiary", icon=":material/undo:")
    if name in saved:
        st.caption(t("settings.source.saved"))
    elif name in env_values:
        st.caption(t("settings.source.env", env=item["env"]))
    return clicked


def changed_values(current: "Settings") -> dict[str, Any]:
    """The form's values that differ from what applies now (typed secrets always count)."""
    changes: dict[str, Any] = {}
    for item in config.describe():
        key = SETTINGS_WIDGET_PREFIX + item["name"]
        if item["env_only"] or key not in st.session_state:
            continue
        new = st.session_state[key]
        if isinstance(new, str):
            new = new.strip()
        if item["secret"]:
            if new:
                changes[item["name"]] = new
        elif new != getattr(current, item["name"]):
            changes[item["name"]] = new
    return changes
