"""Import what the pages need in the background while the dashboard starts, never at the same
time as a page's own imports.

A visitor's first page after a start would otherwise pay for importing plotly, pandas,
transformers and the pages' helpers: 1.6-7.5 s per page, measured by ``bench/pages_bench.py``.
But two threads importing the same package at once can each find the other's half-initialised
module: a page opened while the preload ran failed with "partially initialized module
'psycopg.types.json'". So the preload imports one module at a time under a lock, and a script
run that starts before the preload has finished holds the same lock for its whole run
(``settled()``, around ``app.py``): imports never interleave, and once the preload is done the lock
is no longer taken.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from contextlib import contextmanager
from typing import Iterator

#: modules the pages import, heaviest first
MODULES = ("transformers", "plotly.graph_objects", "pandas", "backend.evaluate.results",
           "backend.finetune.estimate", "backend.report.build", "ui.evaluate_results",
           "ui.evaluate_detail", "ui.evaluate_runs", "ui.finetune_form", "ui.finetune_data",
           "ui.finetune_models", "ui.finetune_runs", "ui.finetune_sets", "ui.documents",
           "ui.corpus_index", "ui.answers", "ui.report", "ui.demo")

_importing = threading.Lock()
_finished = threading.Event()
_finished.set()  # nothing to wait for unless start() is called


def start(names: tuple[str, ...] = MODULES, delay: float = 1.0) -> threading.Thread:
    """Import ``names`` in a background thread, one at a time, after ``delay`` seconds (the
    server starts first). A module that fails to import is only logged: the page that needs it
    shows the error."""
    _finished.clear()
    thread = threading.Thread(target=_run, args=(names, delay), name="preload-imports", daemon=True)
    thread.start()
    return thread


def _run(names: tuple[str, ...], delay: float) -> None:
    try:
        time.sleep(delay)
        for name in names:
            with _importing:
                try:
                    importlib.import_module(name)
                except Exception:  # noqa: BLE001 - never stop the dashboard for a warm-up
                    logging.getLogger(__name__).warning("could not preload %s", name,
                                                        exc_info=True)
    finally:
        _finished.set()


@contextmanager
def settled() -> Iterator[None]:
    """Hold around a script run: while the preload runs, the run and the preload take turns."""
    if _finished.is_set():
        yield
        return
    with _importing:
        yield


def finished() -> bool:
    """Whether no preload is running."""
    return _finished.is_set()
