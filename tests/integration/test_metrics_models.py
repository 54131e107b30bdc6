"""Semantic similarity with the real bundled embedding models (MiniLM for English, the
multilingual Universal Sentence Encoder for Spanish).

Ragas' SemanticSimilarity (0.4.3) is the plain cosine of the two embeddings when no threshold is
set (the lab sets none), so the score must equal the cosine computed here from the same model.
"""

from __future__ import annotations

import numpy as np
import pytest

from backend.evaluate.metrics import Sample, score_samples

CASES = {
    "en": ("bundled:all-minilm-l6-v2",
           "Customers can return items within 30 days of delivery.",
           "You have thirty days after delivery to send products back.",
           "The office cafeteria serves lunch from noon."),
    "es": ("bundled:use-multilingual",
           "Los clientes pueden devolver los artículos en un plazo de 30 días desde la entrega.",
           "Tienes treinta días desde que recibes el pedido para devolver los productos.",
           "La cafetería de la oficina sirve el almuerzo a partir del mediodía."),
}


@pytest.fixture(scope="module")
def settings(lab_home):
    import torch

    from backend import config

    torch.set_num_threads(1)
    return config.build({"LAB_DATA_DIR": str(lab_home), "LAB_WORKER_THREADS": "1"})


def cosine(a, b) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


@pytest.mark.parametrize("language", ["en", "es"])
def test_paraphrase_beats_unrelated_and_value_is_the_cosine(settings, language):
    from backend.models.embeddings import get_embedding

    spec, reference, paraphrase, unrelated = CASES[language]
    embedding = get_embedding(settings, spec, language=language)
    samples = [Sample("q", paraphrase, reference, language=language),
               Sample("q", unrelated, reference, language=language)]
    close, far = (r["semantic_similarity"] for r in
                  score_samples(samples, ["semantic_similarity", "rouge_l"], embedding=embedding))
    assert close.status == far.status == "ok"
    assert close.value > far.value + 0.2, (close, far)
    # the score is Ragas' definition: cosine of the two embeddings, not thresholded to 0/1
    ref_vec = embedding.get_text_embedding(reference)
    assert close.value == pytest.approx(cosine(ref_vec, embedding.get_text_embedding(paraphrase)), abs=1e-4)
    assert far.value == pytest.approx(cosine(ref_vec, embedding.get_text_embedding(unrelated)), abs=1e-4)
    assert 0 < close.value < 1
