"""Evaluation: scoring strategies' answers and comparing strategies.

Pure library modules, no database and no Streamlit:

- ``metrics``     offline metrics (Ragas and a few classic QA scores), one ``Score`` per sample;
- ``abstention``  detects answers that decline ("I don't know", "no lo sé");
- ``stats``       seeded bootstrap confidence intervals and paired comparisons;
- ``wording``     sentences (English and Spanish) that say what the numbers mean.

Nothing is imported here on purpose: ``metrics`` pulls in Ragas (seconds to import), and the
statistics must stay cheap to import for pages that only draw results.
"""
