"""The paraphrase and RAFT builders' logic without a database or model: rule-based rewordings in
English and Spanish, the LLM hook (with a fake generator that implements the real interface), the
held-out filter, the seeded no-gold share, citations, and the estimate's length warning. Also the
trainer's memory-saving loss (logits only where tokens are scored), on a tiny random Llama."""

from __future__ import annotations

import pytest

from backend.errors import InputError
from backend.finetune.builders_raft import cite, no_gold_questions, word_overlap
from backend.finetune.estimate import length_warnings
from backend.finetune.overlap import HeldOut, find_leaks, normalise
from backend.finetune.paraphrase import choose_paraphraser, paraphrase_pairs, parse_variants
from backend.finetune.paraphrase_rules import (RULES_LABEL, candidates, facts, paraphrase_answer,
                                               paraphrase_question, swap_synonyms)
from backend.finetune.question_io import QuestionRow
from backend.models.generation import Generation

ENGLISH = ["How long is the Acme warranty?", "What does the Zorblat widget weigh?",
           "Who founded Acme Lamps?", "Can I return a used tent?", "How do I clean the tent?",
           "Which river runs past the Acme factory?", "Is there a discount for students?",
           "What does COVID-19 stand for?"]
SPANISH = ["¿Cuánto dura la garantía de una tienda?", "¿Qué combustible usa el hornillo?",
           "¿Puedo devolver lo que compré y recuperar el dinero?", "¿En qué año se fundó Nortera?",
           "¿Cuándo salen los pedidos del almacén?"]


# --- rule-based paraphrases ---------------------------------------------------------------------------
@pytest.mark.parametrize("language, questions", [("en", ENGLISH), ("es", SPANISH)])
def test_rule_variants_differ_keep_the_facts_and_are_deterministic(language, questions):
    for question in questions:
        variants = paraphrase_question(question, language, 3, seed=7)
        assert len(variants) == 3, question
        keys = {normalise(v) for v, _ in variants}
        assert len(keys) == 3 and normalise(question) not in keys
        for text, _ in variants:  # every number and name of the question survives
            assert facts(question) <= facts(text) | {question.split()[0].strip("¿")}, (question, text)
        assert paraphrase_question(question, language, 3, seed=7) == variants
    # another seed may choose other wordings, but from the same candidates
    pool = {t for q in questions for t, _ in candidates(q, language)}
    assert all(t in pool for q in questions for t, _ in paraphrase_question(q, language, 3, seed=1))


def test_english_shapes_are_grammatical_statements():
    rewrites = {t for t, _ in candidates("How long is the Acme warranty?", "en")}
    assert "Could you tell me how long the Acme warranty is?" in rewrites
    assert "The Acme warranty: how long is it?" in rewrites
    assert "How long is the Acme guarantee?" in rewrites
    weigh = {t for t, _ in candidates("What does the Zorblat widget weigh?", "en")}
    assert "I would like to know what the Zorblat widget weighs." in weigh
    assert "The Zorblat widget: what does it weigh?" in weigh
    assert "Do you know whether I can return a used tent?" in {
        t for t, _ in candidates("Can I return a used tent?", "en")}
    # a shape that cannot be parsed safely gets no statement form, only wrappers
    spread = candidates("How does the virus spread in the community?", "en")
    assert {rule for _, rule in spread} == {"wrapper"}


def test_spanish_shapes():
    rewrites = {t for t, _ in candidates("¿Qué combustible usa el hornillo?", "es")}
    assert "El hornillo, ¿qué combustible usa?" in rewrites
    assert "¿Podrías decirme qué combustible usa el hornillo?" in rewrites
    yes_no = {t for t, _ in candidates("¿Puedo devolver lo que compré?", "es")}
    assert "Quisiera saber si puedo devolver lo que compré." in yes_no


def test_synonyms_leave_names_and_numbers_alone():
    assert swap_synonyms("The Warranty of Shop 42 covers the shop.", "en") == \
        "The Guarantee of Store 42 covers the store."
    assert swap_synonyms("ACME SHOP", "en") == "ACME SHOP"
    assert swap_synonyms("¿Cuál es el precio del pedido?", "es") == "¿Cuál es el coste del encargo?"


def test_answer_rewording_keeps_every_fact():
    answer = "Ingrid Halvorsen founded Acme Lamps in 1987 and it employs 42 people."
    for variant in range(4):
        reworded = paraphrase_answer(answer, "en", variant)
        assert normalise(reworded) != normalise(answer)
        assert {"Halvorsen", "Acme", "Lamps", "1987", "42"} <= facts(reworded)
    assert paraphrase_answer("La garantía dura dos años.", "es", 0) == \
        "Según los documentos, la garantía dura dos años."


# --- the builder's logic ------------------------------------------------------------------------------
class FakeGenerator:
    """The ``Generator`` interface with canned replies, one per prompt in order."""

    name, model_id = "fake-llm", "fake-llm@test"

    def __init__(self, replies):
        self.replies, self.prompts = list(replies), []

    def generate(self, conversations, config, *, batch_size=8):
        self.prompts += conversations
        return [Generation(self.replies.pop(0), 10, 10, 0.01) for _ in conversations]


def _rows(*pairs, part="train"):
    return [(i, QuestionRow(q, a, part=part)) for i, (q, a) in enumerate(pairs)]


def test_pairs_by_rules_keep_the_answer_and_label_every_example():
    rows = _rows(("How long is the Acme warranty?", "27 months."),
                 ("Who founded Acme Lamps?", "Ingrid Halvorsen in 1987."))
    examples, counts = paraphrase_pairs(rows, n_variants=3)
    assert len(examples) == 2 * 4 and counts["variants"] == 6 and counts["by_rules"] == 6
    for example, source in examples:
        question, answer = (m["content"] for m in example["messages"])
        original = rows[source["question_position"]][1]
        assert answer == original.reference  # the answer is kept word for word
        assert (normalise(question) == normalise(original.question)) == (source["variant"] == 0)
        assert source["paraphraser"] == ("original" if source["variant"] == 0 else "rules")
    only_variants, _ = paraphrase_pairs(rows, n_variants=2, include_original=False,
                                        paraphrase_answers=True)
    assert len(only_variants) == 4 and all(s["variant"] > 0 for _, s in only_variants)
    assert all(e["messages"][1]["content"] != rows[s["question_position"]][1].reference
               for e, s in only_variants)
    with pytest.raises(InputError):
        paraphrase_pairs(rows, n_variants=0)


def test_llm_variants_are_used_then_rules_top_up():
    rows = _rows(("How long is the Acme warranty?", "27 months."),
                 ("Who founded Acme Lamps?", "Ingrid Halvorsen."))
    fake = FakeGenerator(["1. For how long does the Acme warranty last?\n2. What is the length of "
                          "the Acme warranty?\n3. How long is the Acme warranty?",
                          "Sorry, I cannot help with that"])
    examples, counts = paraphrase_pairs(rows, n_variants=2, generator=fake)
    assert len(fake.prompts) == 2 and "Acme warranty" in fake.prompts[0][0]["content"]
    by = [(s["question_position"], s["paraphraser"]) for _, s in examples]
    # a refusal is not a paraphrase: the second question's variants all come from the rules
    assert by == [(0, "original"), (0, "llm"), (0, "llm"), (1, "original"), (1, "rules"),
                  (1, "rules")]
    assert examples[1][0]["messages"][0]["content"] == "For how long does the Acme warranty last?"
    assert counts["by_llm"] == 2 and counts["by_rules"] == 2 and counts["llm_short_replies"] == 1


def test_parse_variants_cleans_the_reply():
    reply = '- "What is the Acme warranty period?"\n\n2) How long does Acme guarantee lamps?\nHere:\n' \
            "How long is the Acme warranty?\nHow long is the warranty?\nThe Acme warranty is long."
    # list marks and quotes go; the question itself, a lost name and a statement are not usable
    assert parse_variants(reply, "How long is the Acme warranty?", 5) == [
        "What is the Acme warranty period?", "How long does Acme guarantee lamps?"]


def test_variants_that_are_held_out_questions_are_dropped():
    rows = _rows(("How long is the Acme warranty?", "27 months."))
    held = [HeldOut(1, "facts", 1, 9, "The Acme warranty: how long is it?")]
    examples, counts = paraphrase_pairs(rows, n_variants=4, held_out=held)
    assert counts["dropped_held_out"] == 1 and len(examples) == 4
    assert find_leaks(held, [e for e, _ in examples]) == []


def test_auto_paraphraser_uses_a_model_only_behind_an_endpoint():
    assert choose_paraphraser("auto", "bundled:smollm2-135m-instruct") == "rules"
    assert choose_paraphraser("auto", "openai:llama3") == "llm"
    assert choose_paraphraser("llm", "bundled:smollm2-135m-instruct") == "llm"
    with pytest.raises(InputError):
        choose_paraphraser("magic", "openai:llama3")
    assert "no model" in RULES_LABEL.lower()


# --- RAFT helpers -------------------------------------------------------------------------------------
def test_no_gold_share_is_exact_seeded_and_order_free():
    questions = [f"Question number {i} about lamps?" for i in range(50)]
    chosen = no_gold_questions(questions, 0.2, seed=3)
    assert len(chosen) == 10
    assert no_gold_questions(list(reversed(questions)), 0.2, seed=3) == chosen
    assert no_gold_questions(questions, 0.2, seed=4) != chosen
    assert no_gold_questions(questions, 0.0, seed=3) == set()


def test_cite_and_word_overlap():
    assert cite("The warranty lasts 27 months.", 2) == "The warranty lasts 27 months [2]."
    assert cite("27 months", 1) == "27 months [1]"
    chunk = "Acme Lamps. The Acme warranty lasts 27 months. Lamps are made in Tromsø."
    assert word_overlap("The Acme warranty lasts 27 months.", chunk) == 1.0
    assert word_overlap("Sleeping bags are rated to minus five.", chunk) < 0.3


def test_length_warning_names_the_max_length_that_keeps_examples_whole():
    assert length_warnings([100, 200], 256, 0) == []
    [warning] = length_warnings([100, 700, 1000], 256, 1)
    assert "2 of 3" in warning and "1000" in warning and "1024" in warning and "1 of them" in warning


# --- the trainer's loss on scored positions only ----------------------------------------------------
def test_scored_only_loss_equals_the_models_own_loss():
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from backend.finetune.batches import Encoded, collate
    from backend.finetune.config import FinetuneConfig
    from backend.finetune.methods import get_method
    from backend.finetune.trainer import causal_lm_loss

    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=64,
                                         num_hidden_layers=2, num_attention_heads=4,
                                         num_key_value_heads=4, tie_word_embeddings=True)).eval()
    items = [Encoded(list(range(1, 9)), [-100] * 5 + [6, 7, 8]),  # a prompt, then the answer
             Encoded(list(range(10, 14)), [-100, 11, 12, 13])]
    batch = collate(items, 0)  # the second row is padded: its padding is never scored
    expected = model(**batch).loss
    ours = causal_lm_loss(model, batch)
    assert torch.allclose(ours, expected, atol=1e-6)
    ours.backward()  # and it trains: gradients reach the weights
    assert model.get_input_embeddings().weight.grad.abs().sum() > 0
    lora = get_method("adapter").prepare(model, FinetuneConfig(target_modules=("q_proj",),
                                                               lora_dropout=0.0)).eval()
    assert torch.allclose(causal_lm_loss(lora, batch), lora(**batch).loss, atol=1e-6)

    class Other(torch.nn.Module):  # an unknown architecture: its own loss is used
        def forward(self, **batch):
            return type("Out", (), {"loss": torch.tensor(1.25)})()
    assert causal_lm_loss(Other(), batch).item() == 1.25
