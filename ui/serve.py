"""Run the dashboard: Streamlit's command line with the legacy "pages folder" mode switched off.

Streamlit decides once per process whether the app uses the old multipage mode, by the mere presence
of a ``pages/`` folder beside ``app.py``. Until ``st.navigation`` has run once, the first session of
a fresh server then runs under that legacy mode and drops its first interaction. Our pages are
routed by ``st.navigation`` only, so we say so before the server starts.

While the server starts, ``ui.preload`` imports what the pages need in the background.
"""

from streamlit.runtime.pages_manager import PagesManager

PagesManager.uses_pages_directory = False


if __name__ == "__main__":
    from streamlit.web.cli import main

    from ui import preload

    preload.start()
    main()
