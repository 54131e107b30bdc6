"""Load the browser code of charts and tables while the visitor reads the first page.

Streamlit's frontend fetches the code of an element kind the first time a page shows one: the
first plotly chart of a browser tab waits for plotly.js (4.7 MB, one 0.7-0.8 s task to evaluate
it on this 2-core machine) and the first table for its grid. That made the Evaluate page, the
first with charts, take 1.6 s on its first click, and 0.3-0.4 s once the code was there
(``bench/pages_bench.py``). So the first script run of each session adds a small script that,
once the browser is idle (after the page has been drawn), imports those same modules: when a
page needs them, they are already evaluated and the page draws at once. Nothing changes when
Streamlit's bundle has no such files (another Streamlit version): the import is skipped.
``LAB_UI_WARM=0`` turns it off (the page benchmark's ``--no-warm``, to measure without it).
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

import streamlit as st

#: Streamlit frontend modules worth having before they are needed, in the order they are loaded
CHUNKS = ("PlotlyChart", "DataFrame")
_DONE = "_warm_chunks_sent"

_SCRIPT = """<script>
(() => {
  if (window.__labWarm) return;
  const index = [...document.scripts].map(s => s.src)
    .find(s => /\\/static\\/js\\/index\\.[^/]+\\.js$/.test(s));
  if (!index) return;
  window.__labWarm = true;
  const names = %s;
  const idle = window.requestIdleCallback || ((f) => setTimeout(f, 1500));
  const next = () => {
    const name = names.shift();
    if (name) import(new URL(name, index).href)
      .then(() => { (window.__labWarmed = window.__labWarmed || []).push(name); }, () => {})
      .finally(() => idle(next, {timeout: 4000}));
  };
  idle(next, {timeout: 4000});
})();
</script>"""


@functools.cache
def chunk_files() -> tuple[str, ...]:
    """File names of ``CHUNKS`` in the installed Streamlit's frontend bundle (those found)."""
    folder = Path(st.__file__).parent / "static" / "static" / "js"
    found = []
    for name in CHUNKS:
        matches = sorted(p.name for p in folder.glob(f"{name}.*.js"))
        if len(matches) == 1:  # an ambiguous match is left alone
            found.append(matches[0])
    return tuple(found)


def warm_chunks() -> None:
    """On a session's first script run, have the browser load ``CHUNKS`` when it is idle."""
    if st.session_state.get(_DONE) or os.environ.get("LAB_UI_WARM") == "0" or not chunk_files():
        return
    st.session_state[_DONE] = True
    with st.sidebar:
        st.html(_SCRIPT % json.dumps(list(chunk_files())), unsafe_allow_javascript=True)
