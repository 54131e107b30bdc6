"""The Streamlit side of the lab: words (i18n), colours (palette), errors, cached state, shared
widgets. Together with ``pages/`` and ``app.py`` the only code that imports Streamlit."""
