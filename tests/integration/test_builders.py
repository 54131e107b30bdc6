"""The paraphrase and RAFT builders on a tiny real corpus (real Postgres + pgvector index, real
MiniLM embeddings, the bundled model's tokenizer): stored with their parameters and previewable;
paraphrases differ from their source and keep the answer; RAFT examples hold the gold chunk in
(1 - share) of the cases, k distractors, the RAG prompt's form and a citation of the gold; no
held-out question reaches either dataset; the sensitive-data guard scans them; the pre-launch
estimate counts the RAFT examples' real token length."""

from __future__ import annotations

import re

import pytest

from backend.corpus import store
from backend.corpus.ingest import ingest
from backend.errors import InputError
from backend.finetune import datasets, questions
from backend.finetune.config import FinetuneConfig
from backend.finetune.estimate import estimate_run
from backend.finetune.guard import apply_guard
from backend.finetune.jobs import prepare_examples
from backend.finetune.overlap import normalise
from backend.finetune.paraphrase_rules import RULES_LABEL
from backend.finetune.question_io import QuestionRow
from backend.rag.prompts import DEFAULT_TEMPLATE

pytestmark = pytest.mark.usefixtures("one_thread")  # one torch thread

DOCS = {
    "warranty.txt": "The Acme warranty lasts 27 months from the day of purchase. It covers broken "
                    "bulbs and faulty switches.",
    "founder.txt": "Ingrid Halvorsen founded Acme Lamps in 1987 in Tromsø. She still chairs the board.",
    "widget.txt": "The Zorblat widget is bright purple and weighs 412 grams. It ships with two "
                  "spare fuses.",
    "river.txt": "The Glomma river runs past the Acme factory, which uses its water for cooling.",
    "returns.txt": "Unused lamps can be returned within 30 days for a full refund; used lamps "
                   "cannot be returned.",
    "shipping.txt": "Orders leave the Oslo warehouse within two business days and arrive within a week.",
    "care.txt": "Clean lamp shades with a dry cloth; never use water on the electrical parts.",
    "billing.txt": "Questions about invoices go to the billing team (billing@acme-lamps.no) in Oslo.",
    # holds a held-out question word for word: RAFT must not show it as a distractor
    "faq.txt": "Customers often ask: what colour are the Acme lamp shades? The shades come in "
               "white, grey and a bright purple.",
}
TRAIN = [  # question, reference, reference contexts
    ("How long is the Acme warranty?", "The Acme warranty lasts 27 months.",
     ["The Acme warranty lasts 27 months from the day of purchase."]),
    ("Who founded Acme Lamps?", "Ingrid Halvorsen founded Acme Lamps in 1987.",
     ["Ingrid Halvorsen founded Acme Lamps in 1987 in Tromsø."]),
    ("What colour is the Zorblat widget?", "The Zorblat widget is bright purple.", []),
    ("What does the Zorblat widget weigh?", "It weighs 412 grams.", []),
    ("Which river runs past the Acme factory?", "The Glomma river runs past the factory.", []),
    ("Can I return a used lamp?", "No, only unused lamps can be returned, within 30 days.", []),
    ("When do orders leave the warehouse?", "Within two business days.", []),
    ("How should I clean a lamp shade?", "With a dry cloth, and never with water.",
     ["Clean lamp shades with a dry cloth"]),
    ("Which team handles questions about invoices?", "The billing team in Oslo.", []),
    ("Where does the Acme factory get its cooling water?", "From the Glomma river.", []),
]
HELD_OUT = ["The Acme warranty: how long is it?",  # the rules' topic-first rewording of TRAIN[0]
            "What colour are the Acme lamp shades?"]  # written inside faq.txt
PHONE_QUESTION = ("Who answers calls to +47 22 33 44 55?", "The Acme support desk.")


@pytest.fixture
def acme(lab):
    """(corpus id, question set) of the Acme corpus: indexed, with train and held-out parts."""
    corpus = store.create_corpus(lab, "acme", "en")
    report = ingest(lab, corpus.id, [(name, text.encode()) for name, text in DOCS.items()])
    assert all(f.ok for f in report.files), report.files
    rows = [QuestionRow(q, a, list(ctx), part="train") for q, a, ctx in TRAIN]
    rows += [QuestionRow(q, "", part="held_out") for q in HELD_OUT]
    rows.append(QuestionRow(*PHONE_QUESTION, part="train"))
    qs = questions.create_set(lab, corpus.id, "acme facts", rows)
    assert len(qs.part("held_out")) == 2
    return corpus.id, qs


def _user(example: dict) -> str:
    return [m["content"] for m in example["messages"] if m["role"] == "user"][-1]


def test_paraphrase_dataset_rewords_keeps_answers_and_never_leaks(lab, acme):
    corpus_id, qs = acme
    ds = datasets.build_dataset(lab, "paraphrase", corpus_id, question_set_id=qs.id, n_variants=3)
    assert ds.builder == "paraphrase" and ds.params["n_variants"] == 3
    assert ds.params["paraphraser"] == "rules" and ds.params["label"] == RULES_LABEL
    assert ds.params["dropped_held_out"] == 1  # the held-out rewording was not kept
    n_train = len(TRAIN) + 1
    assert ds.n_examples == n_train * 4 - 1 == len(datasets.dataset_examples(lab, ds.id))
    assert len(datasets.dataset_examples(lab, ds.id, limit=5)) == 5  # the preview

    examples, sources = datasets.dataset_examples(lab, ds.id), datasets.dataset_sources(lab, ds.id)
    train = [r for r in qs.rows if r.part == "train"]
    by_position = {i: r for i, r in enumerate(qs.rows)}
    for example, source in zip(examples, sources):
        row = by_position[source["question_position"]]
        question, answer = _user(example), example["messages"][-1]["content"]
        assert answer == row.reference  # the answer is kept
        if source["variant"] == 0:
            assert question == row.question and source["paraphraser"] == "original"
        else:
            assert normalise(question) != normalise(row.question) and source["paraphraser"] == "rules"
    assert {s["question_position"] for s in sources} == {i for i, r in enumerate(qs.rows)
                                                         if r.part == "train"} and len(train) == n_train
    held = {normalise(q) for q in HELD_OUT}
    assert not any(normalise(_user(e)) in held for e in examples)
    assert datasets.dataset_leaks(lab, ds.id) == []

    # the guard scans every reworded question: the phone number is in all 4 of its examples
    with pytest.raises(InputError) as refused:
        prepare_examples(lab, {"dataset_id": ds.id})
    assert refused.value.details["guard"]["kinds"] == {"phone": 4}
    _, redacted, record = prepare_examples(lab, {"dataset_id": ds.id, "sensitive": "redact"})
    assert record["decision"] == "redact" and record["examples"] == 4
    assert sum("[PHONE]" in _user(e) for e in redacted) == 4


def test_raft_examples_hold_gold_and_distractors_in_the_rag_prompt(lab, acme):
    corpus_id, qs = acme
    ds = datasets.build_dataset(lab, "raft", corpus_id, question_set_id=qs.id, k_distractors=3,
                                no_gold_share=0.2, seed=1)
    p = ds.params
    answerable = len(TRAIN) + 1
    assert (p["k_distractors"], p["no_gold_share"], p["label"].startswith("RAFT")) == (3, 0.2, True)
    assert p["without_gold"] == round(0.2 * answerable) and p["with_gold"] == answerable - 2
    assert p["gold_by_reference_contexts"] == 3 and ds.n_examples == answerable
    examples, sources = datasets.dataset_examples(lab, ds.id), datasets.dataset_sources(lab, ds.id)
    chunks = {c.chunk_id: c for c in store_chunks(lab, corpus_id)}
    by_position = {i: r for i, r in enumerate(qs.rows)}
    for example, source in zip(examples, sources):
        row = by_position[source["question_position"]]
        messages = example["messages"]
        system = DEFAULT_TEMPLATE.system["en"].format(dont_know="I don't know: the documents do not say.")
        assert [m["role"] for m in messages] == ["system", "user", "assistant", "user", "assistant"]
        assert messages[0]["content"] == system and example["question"] == row.question
        user = messages[3]["content"]
        assert user.startswith("Sources:\n[1] (") and user.endswith(f"Question: {row.question}")
        gold = chunks[source["gold_chunk_id"]]
        n_sources = len(re.findall(r"^\[\d+\] \(", user, re.MULTILINE))
        distractors = source["distractor_chunk_ids"]
        assert len(distractors) == 3 and source["gold_chunk_id"] not in distractors
        assert all(chunks[d].document_name != "faq.txt" for d in distractors)  # holds a held-out question
        if source["gold_included"]:
            assert n_sources == 4 and " ".join(gold.text.split()) in user
            assert messages[4]["content"] == _cited(row.reference, source["gold_number"])
            assert f"[{source['gold_number']}] ({gold.document_name})" in user
        else:
            assert n_sources == 3 and " ".join(gold.text.split()) not in user
            assert messages[4]["content"] == row.reference  # from memory: nothing to cite
    golds = {by_position[s["question_position"]].question: chunks[s["gold_chunk_id"]].document_name
             for s in sources}
    assert golds["How long is the Acme warranty?"] == "warranty.txt"
    assert golds["How should I clean a lamp shade?"] == "care.txt"
    assert golds["Which river runs past the Acme factory?"] == "river.txt"  # found by retrieval
    assert datasets.dataset_leaks(lab, ds.id) == []
    # the same corpus as plain text does leak the faq's held-out question: the check is live
    cpt = datasets.build_dataset(lab, "continued_pretraining", corpus_id)
    assert [x.question for x in datasets.dataset_leaks(lab, cpt.id)] == [HELD_OUT[1]]

    # the guard scans the chunks: the billing team's e-mail address is in its gold example
    sources_with_billing = [s for s in sources if s["gold_document"] == "billing.txt"
                            and s["gold_included"]]
    report_examples, record = apply_guard(examples, sources, "redact")
    assert record["kinds"].get("email", 0) >= len(sources_with_billing) >= 1
    assert not any("billing@acme-lamps.no" in _user(e) for e in report_examples)
    with pytest.raises(InputError, match="sensitive"):
        apply_guard(examples, sources, "refuse")


def test_raft_estimate_counts_the_long_examples(lab, acme):
    corpus_id, qs = acme
    raft = datasets.build_dataset(lab, "raft", corpus_id, question_set_id=qs.id, k_distractors=3)
    pairs = datasets.build_dataset(lab, "qa_pairs", corpus_id, question_set_id=qs.id)
    longest = raft.params["longest_tokens"]
    assert raft.params["suggested_max_length"] >= longest > 200
    cut = estimate_run(lab, raft.id, FinetuneConfig(max_length=128, val_fraction=0.0))
    assert cut.longest_tokens == longest and cut.truncated + cut.dropped == raft.n_examples
    assert cut.warnings and str(raft.params["suggested_max_length"]) in cut.warnings[0]
    whole = estimate_run(lab, raft.id, FinetuneConfig(
        max_length=raft.params["suggested_max_length"], val_fraction=0.0))
    assert whole.warnings == [] and whole.truncated == whole.dropped == 0
    tokens = [s["tokens"] for s in datasets.dataset_sources(lab, raft.id)]
    assert whole.tokens_per_epoch == sum(tokens)  # every token of every example is counted
    small = estimate_run(lab, pairs.id, FinetuneConfig(max_length=512, val_fraction=0.0))
    assert whole.tokens_per_epoch > 4 * small.tokens_per_epoch
    assert whole.seconds_per_epoch > 4 * small.seconds_per_epoch


def test_raft_needs_an_index_and_valid_parameters(lab):
    corpus = store.create_corpus(lab, "empty", "en")
    qs = questions.create_set(lab, corpus.id, "q", [QuestionRow("What is it?", "A lamp.", part="train")])
    store.set_index_status(lab, store.active_index(lab, corpus.id).id, "building")
    with pytest.raises(InputError, match="index"):
        datasets.build_dataset(lab, "raft", corpus.id, question_set_id=qs.id)
    for bad in ({"k_distractors": 0}, {"no_gold_share": 1.5}, {"mode": "magic"}):
        with pytest.raises(InputError):
            datasets.build_dataset(lab, "raft", corpus.id, question_set_id=qs.id, **bad)


def _cited(reference: str, number: int) -> str:
    reference = reference.strip()
    return f"{reference[:-1]} [{number}]." if reference.endswith(".") else f"{reference} [{number}]"


def store_chunks(lab, corpus_id):
    from backend.rag.retrieval import browse_chunks

    return browse_chunks(lab, corpus_id, limit=1000)
