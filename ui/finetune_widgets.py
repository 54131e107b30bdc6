"""Choices (selectboxes, radios) whose labels are translated and whose value survives a language
switch.

A keyed ``st.selectbox`` or ``st.radio`` sends back its value as the label the browser shows; once
the language changes, that label matches no option, so the old label stays on screen (selectbox)
or the choice falls back to the default (radio). The widget's key therefore carries the language
(a new widget per language), and the chosen value is remembered under a plain session key, from
which the other language's widget starts.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import streamlit as st

from ui.i18n import current_language


def widget_key(key: str) -> str:
    """The widget key of a remembered select in the current language ("finetune.set.en")."""
    return f"{key}.{current_language()}"


def remembered_select(label: str, ids: Sequence[Any], key: str, format_func: Callable[[Any], str],
                      *, default: Any = None, prefer: Any = None, help: str | None = None,
                      widget: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
    """A selectbox (or ``widget=st.radio``) of ``ids`` labelled by ``format_func``; returns the
    chosen id.

    It starts on ``prefer`` when given (e.g. a set just created), else on the choice remembered
    under ``key``, else on ``default`` (the first id when None). ``ids`` must not be empty; other
    keyword arguments go to the widget (e.g. ``captions`` of a radio).
    """
    wkey = widget_key(key)
    current = st.session_state.get(wkey)
    if prefer in ids:
        current = prefer
    elif current not in ids:
        remembered = st.session_state.get(key)
        current = remembered if remembered in ids else (default if default in ids else ids[0])
    st.session_state[wkey] = current
    chosen = (widget or st.selectbox)(label, list(ids), key=wkey, format_func=format_func,
                                      help=help, **kwargs)
    st.session_state[key] = chosen
    return chosen
