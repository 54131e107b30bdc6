"""Strategy Lab, the frame: page config, the shared sidebar, navigation. No logic here.

Run with ``streamlit run app.py``. To add a screen, add one line to ``PAGES``: its file, the
catalogue key of its title (in ui/strings_*.py) and a Material icon.
"""

import streamlit as st

from ui import preload

PAGES = [
    ("pages/home.py", "nav.home", ":material/home:"),
    ("pages/corpora.py", "nav.corpora", ":material/folder_open:"),
    ("pages/ask.py", "nav.ask", ":material/chat:"),
    ("pages/finetune.py", "nav.finetune", ":material/model_training:"),
    ("pages/evaluate.py", "nav.evaluate", ":material/analytics:"),
    ("pages/report.py", "nav.report", ":material/description:"),
    ("pages/settings.py", "nav.settings", ":material/settings:"),
]

# While the dashboard's start-up imports run, a script run takes turns with them (ui/preload.py):
# everything below, the page included, imports modules those imports may be halfway through.
with preload.settled():
    from ui import i18n, state
    from ui.i18n import t
    from ui.status import sidebar_status
    from ui.warm import warm_chunks

    # the language comes first, so every string of this run is in the chosen one
    i18n.language_switch(default=state.default_language())
    st.set_page_config(page_title=t("app.title"), page_icon="🔬", layout="wide")
    page = st.navigation([st.Page(path, title=t(key), icon=icon, default=(index == 0))
                          for index, (path, key, icon) in enumerate(PAGES)])
    sidebar_status()
    warm_chunks()  # chart and table code loads in the browser while the first page is read
    page.run()
