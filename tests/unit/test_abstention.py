"""Declining answers in English and Spanish, and look-alikes that are real answers."""

from __future__ import annotations

import pytest

from backend.errors import InputError
from backend.evaluate.abstention import abstention_rate, is_abstention

DECLINES_EN = [
    "I don't know.",
    "I do not know the answer to that.",
    "I don’t know.",  # typographic apostrophe
    "Sorry, I cannot answer that question based on the provided context.",
    "I'm unable to determine the return fee from the documents.",
    "The context does not contain information about the logo colour.",
    "The provided documents don't mention a loyalty programme.",
    "That is not mentioned in the context.",
    "There is no information about opening hours.",
    "I do not have enough information to answer.",
    "Not enough information to say.",
]

DECLINES_ES = [
    "No lo sé.",
    "No lo se",  # accents are optional
    "No sé.",
    "no se la respuesta",
    "No tengo información sobre eso.",
    "No tengo suficiente informacion para responder.",
    "El contexto no menciona el color del logotipo.",
    "El texto proporcionado no contiene esa información.",
    "No puedo responder a esa pregunta con los documentos disponibles.",
    "No se menciona en el contexto.",
    "No hay información sobre el horario.",
    "Lo siento, desconozco la respuesta.",
]

ANSWERS_EN = [
    "I know that the return window is 30 days.",
    "The return window is 30 days.",
    "You cannot return opened software.",
    "If you don't know your order number, check the confirmation email.",
    "The warranty does not cover water damage.",
    "Returns are not accepted after 30 days.",
    "The context of the policy is EU law: 14 days.",
    "No fee is charged for returns.",
]

ANSWERS_ES = [
    "Sé que el plazo de devolución es de 30 días.",
    "No se permiten devoluciones después de 30 días.",
    "No se cobra ninguna comisión.",
    "La garantía no cubre daños por agua.",
    "El contexto legal es la normativa europea: 14 días.",
    "No hay gastos de envío en pedidos superiores a 50 euros.",
    "No puede devolver productos usados.",
    "No tengo que pagar nada: la devolución es gratuita.",
]


@pytest.mark.parametrize("answer", DECLINES_EN)
def test_english_declines(answer):
    assert is_abstention(answer, "en")


@pytest.mark.parametrize("answer", DECLINES_ES)
def test_spanish_declines(answer):
    assert is_abstention(answer, "es")


@pytest.mark.parametrize("answer", ANSWERS_EN)
def test_english_answers_are_not_declines(answer):
    assert not is_abstention(answer, "en")


@pytest.mark.parametrize("answer", ANSWERS_ES)
def test_spanish_answers_are_not_declines(answer):
    assert not is_abstention(answer, "es")


def test_a_model_declining_in_english_to_a_spanish_question_counts():
    assert is_abstention("I don't know.", "es")


def test_empty_answer_asserts_nothing():
    assert is_abstention("   ", "en")


def test_rate():
    answers = ["No lo sé.", "El plazo es de 30 días.", "I don't know.", "30 days."]
    assert abstention_rate(answers, ["es", "es", "en", "en"]) == pytest.approx(0.5)
    assert abstention_rate(answers, "en") == pytest.approx(0.5)
    assert abstention_rate([], "en") is None
    with pytest.raises(InputError):
        abstention_rate(answers, ["en"])
    with pytest.raises(InputError):
        is_abstention("I don't know", "fr")
