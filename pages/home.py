"""Home: what the lab is for, the three strategies side by side, and whether the install is healthy."""

import streamlit as st

from ui.demo import load_demo_panel
from ui.errors import guard
from ui.i18n import t
from ui.palette import color_for
from ui.state import lab_or_none
from ui.status import live_status_strip

STRATEGIES = ("rag", "finetuned", "hybrid")


def strategy_card(kind: str) -> None:
    """One card: the strategy's name in its palette colour, what it is, strengths, risks."""
    colour = color_for(kind)
    with st.container(border=True):
        st.markdown(
            f"<div style='border-top: 6px solid {colour}; padding-top: 0.5rem; font-weight: 600; "
            f"font-size: 1.15rem; color: {colour}'>{t(f'home.card.{kind}.title')}</div>",
            unsafe_allow_html=True)
        for part in ("what", "strengths", "risks"):
            st.markdown(f"**{t(f'home.card.{part}')}.** {t(f'home.card.{kind}.{part}')}")


with guard():
    st.title(t("home.headline"))
    st.write(t("home.intro"))
    for column, kind in zip(st.columns(len(STRATEGIES)), STRATEGIES):
        with column:
            strategy_card(kind)
    load_demo_panel()
    st.info(t("home.models_note"), icon=":material/info:")
    st.page_link("pages/settings.py", label=t("home.open_settings"), icon=":material/settings:")
    lab = lab_or_none()
    if lab is not None:
        live_status_strip(lab)
