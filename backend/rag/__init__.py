"""The RAG arm's query side: ``retrieval`` (vector, full-text, hybrid search over a corpus index)
and ``answer`` (a prompt with numbered sources -> an LLM -> an answer whose [n] citations map back
to the chunks), with the prompt templates in ``prompts``.

This package file imports nothing so that importing one module stays cheap.
"""
