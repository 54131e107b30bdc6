"""The decision report: a one-page memo from an evaluation run's measured results and the user's
stated priorities.

- ``phrases``    the memo's words in English and Spanish, and number / duration / money formats;
- ``recommend``  the decision, pure logic on a small dataclass of measured results + priorities;
- ``build``      reads a run (scores, comparisons, corpus, models, freshness) and composes the memo;
- ``render``     the memo as Markdown and as one self-contained HTML file (inline SVG chart).

Nothing here imports Streamlit; the Report page shows the same HTML the download holds.
"""
