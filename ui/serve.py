"""Run the dashboard: Streamlit's command line with the legacy "pages folder" mode switched off.

Streamlit decides once per process whether the app uses the old multipage mode, by the mere presence
of a ``pages/`` folder beside ``app.py``. Until ``st.navigation`` has run once, the first session of
a fresh server then runs under that legacy mode and drops its first interaction. Our pages are
routed by ``st.navigation`` only, so we say so before the server starts.

While the server starts, a background thread imports what the pages need (plotly, pandas, the
backend's heavier modules and the pages' helpers), so that a visitor's first page does not pay for
those imports: measured by ``bench/pages_bench.py``, the first visit after a start took 1.6-7.5 s
per page without it.
"""

import importlib
import logging
import threading
import time

from streamlit.runtime.pages_manager import PagesManager

PagesManager.uses_pages_directory = False

#: modules the pages import, heaviest first
PRELOAD = ("transformers", "plotly.graph_objects", "pandas", "backend.evaluate.results",
           "backend.finetune.estimate", "backend.report.build", "ui.evaluate_results",
           "ui.evaluate_detail", "ui.evaluate_runs", "ui.finetune_form", "ui.finetune_data",
           "ui.finetune_models", "ui.finetune_runs", "ui.finetune_sets", "ui.documents",
           "ui.corpus_index", "ui.answers", "ui.report", "ui.demo")


def preload(names=PRELOAD, delay: float = 1.0) -> None:
    """Import ``names`` one by one after ``delay`` seconds (the server starts first); a module
    that fails to import is only logged: the page that needs it will show the error."""
    time.sleep(delay)
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - never stop the dashboard for a warm-up
            logging.getLogger(__name__).warning("could not preload %s", name, exc_info=True)


if __name__ == "__main__":
    from streamlit.web.cli import main

    threading.Thread(target=preload, name="preload-imports", daemon=True).start()
    main()
