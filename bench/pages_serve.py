"""The dashboard exactly as ``ui.serve`` runs it, plus a line per script run (for the page benchmark).

    python bench/pages_serve.py run app.py --server.port ...     (LAB_BENCH_RUN_LOG=<file>)

Each run of the app's script appends ``{"start", "seconds", "page", "fragment"}`` (wall-clock start,
seconds in the script, the page named in the request, whether it was a fragment's rerun) to the
file ``LAB_BENCH_RUN_LOG``: the server's own share of a page's first render, measured in the real
server under the same load as the browser.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import ui.serve  # noqa: E402,F401  (switches the legacy pages-folder mode off, as the app runs)
from streamlit.runtime.scriptrunner.script_runner import ScriptRunner  # noqa: E402

_LOG = os.environ.get("LAB_BENCH_RUN_LOG")
_lock = threading.Lock()
_original = ScriptRunner._run_script


def _timed_run(self, rerun_data):
    start, began = time.time(), time.perf_counter()
    try:
        return _original(self, rerun_data)
    finally:
        line = {"start": start, "seconds": time.perf_counter() - began,
                "page": rerun_data.page_name or "", "fragment": bool(rerun_data.fragment_id_queue)}
        with _lock, open(_LOG, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(line) + "\n")


if _LOG:
    ScriptRunner._run_script = _timed_run

if __name__ == "__main__":
    from streamlit.web.cli import main

    from ui import preload

    preload.start()  # as ui.serve does
    sys.argv[0] = "streamlit"
    main()
