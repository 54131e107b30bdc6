"""Fine-tuning logic without a database or model: configuration, splits, batching, the leak check,
question files, the extractive generator and the sensitive-data guard."""

from __future__ import annotations

import json

import pytest

from backend.errors import InputError
from backend.finetune import batches, overlap
from backend.finetune.config import DEFAULT_LR, FinetuneConfig, describe
from backend.finetune.corpus_text import Chunk, split_paragraphs
from backend.finetune.guard import apply_guard
from backend.finetune.question_gen import extractive_rows, parse_pair, split_sentences
from backend.finetune.question_io import QuestionRow, export_rows, parse_upload, rows_from_records
from backend.finetune.questions import assign_split


# --- configuration ----------------------------------------------------------------------------------
def test_config_defaults_validation_and_roundtrip():
    cfg = FinetuneConfig()
    assert cfg.method == "adapter" and cfg.learning_rate == DEFAULT_LR["adapter"]
    assert FinetuneConfig(method="full").learning_rate == DEFAULT_LR["full"]
    assert FinetuneConfig(learning_rate=1e-3).learning_rate == 1e-3
    again = FinetuneConfig.from_dict(json.loads(json.dumps(cfg.as_dict())))
    assert again == cfg
    assert FinetuneConfig(target_modules="q_proj, v_proj").target_modules == ("q_proj", "v_proj")
    assert FinetuneConfig(epochs=3.0).epochs == 3 and isinstance(FinetuneConfig(epochs=3.0).epochs, int)
    for bad in ({"method": "deep"}, {"batch_size": 0}, {"epochs": 1.5}, {"lora_dropout": 2.0},
                {"train_head": "yes"}, {"target_modules": ""}, {"precision": "fp8"}):
        with pytest.raises(InputError):
            FinetuneConfig(**bad)
    with pytest.raises(InputError, match="Unknown"):
        FinetuneConfig.from_dict({"nope": 1})


def test_describe_gives_help_for_every_field_and_relevant_filters_by_method():
    fields = describe()
    assert all(f["help"] and f["group"] for f in fields)
    assert {f["name"] for f in fields} >= {"method", "top_n_layers", "train_head", "lora_r",
                                          "learning_rate", "checkpoint_every", "seed"}
    head = next(f for f in fields if f["name"] == "train_head")
    assert "tie" in head["help"] and head["methods"] == ("partial",)
    assert "lora_r" not in FinetuneConfig(method="full").relevant()
    assert "top_n_layers" in FinetuneConfig(method="partial").relevant()


# --- batching ---------------------------------------------------------------------------------------
def test_epoch_batches_are_reproducible_grouped_and_complete():
    lengths = [5, 50, 7, 48, 6, 52, 8, 47, 9, 51, 4, 49]
    a = batches.epoch_batches(lengths, 2, seed=1, epoch=0)
    assert a == batches.epoch_batches(lengths, 2, seed=1, epoch=0)
    assert a != batches.epoch_batches(lengths, 2, seed=1, epoch=1)
    assert sorted(i for b in a for i in b) == list(range(len(lengths)))
    # grouped by length: each batch pairs two short or two long examples
    assert all(len({lengths[i] > 20 for i in b}) == 1 for b in a)


def test_collate_pads_dynamically_and_masks_padding():
    items = [batches.Encoded([1, 2, 3], [-100, 2, 3]), batches.Encoded([4, 5], [4, 5])]
    out = batches.collate(items, pad_id=0)
    assert out["input_ids"].shape == (2, 3)  # the longest in the batch, not max_length
    assert out["input_ids"][1].tolist() == [4, 5, 0]
    assert out["labels"][1].tolist() == [4, 5, -100]
    assert out["attention_mask"].tolist() == [[1, 1, 1], [1, 1, 0]]


def test_validation_split_is_seeded_and_disjoint():
    train, val = batches.split_validation(20, 0.1, seed=3)
    assert len(val) == 2 and not set(train) & set(val) and len(train) + len(val) == 20
    assert (train, val) == batches.split_validation(20, 0.1, seed=3)
    assert batches.split_validation(4, 0.1, seed=3)[1] == []  # too few to hold any back
    assert len(batches.split_validation(5, 0.01, seed=3)[1]) == 1


# --- the leak check ---------------------------------------------------------------------------------
def test_normalise_ignores_case_punctuation_and_spaces():
    assert overlap.normalise("  What IS the   warranty?! ") == "what is the warranty"
    assert overlap.normalise("¿Cuánto dura la garantía?") == "cuánto dura la garantía"


def test_find_leaks_same_question_and_contained_text():
    held = [overlap.HeldOut(1, "faq", 2, 0, "How long is the warranty period?"),
            overlap.HeldOut(1, "faq", 2, 1, "Who?")]
    examples = [
        {"messages": [{"role": "user", "content": "how long is the WARRANTY period"},
                      {"role": "assistant", "content": "Two years."}]},
        {"text": "FAQ. How long is the warranty period? It is two years."},
        {"text": "Who? Nobody knows."},  # a short question only leaks by equality
        {"messages": [{"role": "user", "content": "Who is the CEO?"},
                      {"role": "assistant", "content": "Ana."}]},
    ]
    leaks = overlap.find_leaks(held, examples)
    assert [(x.example, x.how) for x in leaks] == [(0, "same question"), (1, "contained in the text")]
    with pytest.raises(InputError) as err:
        overlap.refuse_if_leaking(leaks)
    assert "2 held-out question(s)" in err.value.message and "faq v2" in err.value.message
    assert len(err.value.details["leaks"]) == 2
    overlap.refuse_if_leaking([])  # nothing to refuse


def test_near_duplicates_use_the_given_embedding():
    held = [overlap.HeldOut(1, "s", 1, 0, "How long does the warranty last?")]
    examples = [{"messages": [{"role": "user", "content": "For how long does the warranty last?"},
                              {"role": "assistant", "content": "Two years."}]}]
    same = overlap.near_duplicates(held, examples, lambda texts: [[1.0, 0.0]] * len(texts))
    assert len(same) == 1 and same[0].how.startswith("near duplicate")
    apart = overlap.near_duplicates(held, examples, lambda texts: [[1.0, 0.0], [0.0, 1.0]][:len(texts)]
                                    if len(texts) == 1 and texts[0].startswith("How") else [[0.0, 1.0]])
    assert apart == []


# --- question files and the split --------------------------------------------------------------------
def test_csv_upload_with_aliases_lists_and_tags():
    data = ("user_input;answer;contexts;tags;split\n"
            "What is X?;X is a widget.;[\"ctx one\", \"ctx two\"];Unanswerable, easy;\n"
            "What is Y?;Y.;a || b;;test\n").encode()
    rows = parse_upload(data, "set.csv")
    assert rows[0].question == "What is X?" and rows[0].reference == "X is a widget."
    assert rows[0].reference_contexts == ["ctx one", "ctx two"]
    assert rows[0].tags == ["easy", "unanswerable"] and rows[0].unanswerable
    assert rows[1].reference_contexts == ["a", "b"] and rows[1].part == "held_out"
    with pytest.raises(InputError, match="Row 1 has no question"):
        rows_from_records([{"question": "", "reference": "orphan answer"}])
    with pytest.raises(InputError, match="line 2"):
        parse_upload(b'{"question": "a"}\n{broken\n', "x.jsonl")


def test_export_import_roundtrip_in_every_format():
    rows = [QuestionRow("What is X?", "X is a widget.", ["ctx, with comma"], ["unanswerable"], "train"),
            QuestionRow("¿Qué es Y?", "Y, sí.", [], [], "held_out",
                        {"response": "r", "retrieved_contexts": ["x"]})]
    for fmt, name in (("jsonl", "s.jsonl"), ("csv", "s.csv")):
        back = parse_upload(export_rows(rows, fmt), name)
        assert [(r.question, r.reference, r.reference_contexts, r.tags, r.part) for r in back] == \
            [(r.question, r.reference, r.reference_contexts, r.tags, r.part) for r in rows]
    ragas = parse_upload(export_rows(rows, "ragas"), "s.jsonl")
    assert [(r.question, r.reference, r.reference_contexts) for r in ragas] == \
        [(r.question, r.reference, r.reference_contexts) for r in rows]
    assert ragas[1].metadata == {"response": "r", "retrieved_contexts": ["x"]}


def test_ragas_evaluation_dataset_accepts_the_export_and_is_read_back(tmp_path):
    from ragas import EvaluationDataset

    rows = [QuestionRow("What is X?", "X is a widget.", ["ctx"]), QuestionRow("What is Z?", "Z.")]
    records = [json.loads(line) for line in export_rows(rows, "ragas").decode().splitlines()]
    dataset = EvaluationDataset.from_list(records)
    path = tmp_path / "ragas.jsonl"
    dataset.to_jsonl(str(path))
    back = parse_upload(path.read_bytes(), "ragas.jsonl")
    assert [(r.question, r.reference, r.reference_contexts) for r in back] == \
        [("What is X?", "X is a widget.", ["ctx"]), ("What is Z?", "Z.", [])]
    dataset.to_csv(str(tmp_path / "ragas.csv"))  # Ragas writes lists as Python literals
    assert parse_upload((tmp_path / "ragas.csv").read_bytes(), "ragas.csv")[0].reference_contexts == ["ctx"]


def test_split_is_reproducible_sized_and_stable_under_edits():
    rows = [QuestionRow(f"Question number {i}?", "a") for i in range(20)]
    parts = assign_split(rows, 0.25, seed=7)
    assert parts.count("held_out") == 5 and parts == assign_split(rows, 0.25, seed=7)
    assert parts != assign_split(rows, 0.25, seed=8)
    previous = {overlap.normalise(r.question): p for r, p in zip(rows, parts)}
    edited = rows[:15] + [QuestionRow(f"New question {i}?", "a") for i in range(5)]
    new_parts = assign_split(edited, 0.25, seed=7, previous=previous)
    assert new_parts[:15] == parts[:15]  # no question changes part in a new version
    assert new_parts.count("held_out") >= 5 or parts[:15].count("held_out") > 5
    explicit = [QuestionRow("Pinned?", "a", part="held_out")] + rows[:3]
    assert assign_split(explicit, 0.0, seed=1) == ["held_out", "train", "train", "train"]


# --- corpus text and the extractive generator ------------------------------------------------------
def test_split_paragraphs_and_sentences():
    text = "Para one.\n\nPara two is here.\n\n\nPara three."
    assert split_paragraphs(text, max_chars=20) == ["Para one.", "Para two is here.", "Para three."]
    assert split_paragraphs(text, max_chars=1000) == ["Para one.\n\nPara two is here.\n\nPara three."]
    assert split_sentences("The cat sat. It was 3 p.m. 2024 was a year! Fine.") == [
        "The cat sat.", "It was 3 p.m.", "2024 was a year!", "Fine."]


CHUNKS = [
    Chunk("c1", "The Zorblat warranty is a 27-month promise covering every moving part. "
                "Contact us. Our offices open at nine.", "d1", "warranty.md"),
    Chunk("c2", "Acme Lamps was founded by Ingrid Halvorsen in 1987 in Tromsø, Norway. "
                "The company now ships lamps to 40 countries across Europe and Asia.", "d2", "history.txt"),
    Chunk("c3", "| 1 | 2 | 3 |\n| 4 | 5 | 6 |", "d2", "history.txt"),
]


def test_extractive_generator_is_deterministic_and_grounded():
    rows = extractive_rows(CHUNKS, 3, seed=0)
    assert rows == extractive_rows(CHUNKS, 3, seed=0)
    assert 1 <= len(rows) <= 3
    for row in rows:
        chunk = next(c for c in CHUNKS if c.id == row.metadata["chunk_id"])
        assert row.reference in chunk.text and row.reference_contexts == [chunk.text]
        assert row.question.endswith("?") and row.metadata["generator"] == "extractive"
    assert {r.metadata["document_id"] for r in rows} == {"d1", "d2"}  # spread over documents
    assert "What is the Zorblat warranty?" in [r.question for r in rows]
    es = extractive_rows([Chunk("e", "La garantía es una promesa de 27 meses para cada pieza móvil.",
                                "d", "garantia.md")], 1, language="es")
    assert es[0].question == "¿Qué es la garantía?"


def test_parse_pair_reads_json_from_a_model_reply():
    assert parse_pair('Sure! {"question": "What is X?", "answer": "A widget."}') == ("What is X?",
                                                                                     "A widget.")
    assert parse_pair("no json here") is None and parse_pair('{"question": "Hi", "answer": ""}') is None


# --- the guard --------------------------------------------------------------------------------------
def test_guard_refuses_redacts_or_acknowledges():
    examples = [{"text": "Write to ana.perez@example.com for refunds."}, {"text": "Nothing here."}]
    sources = [{"document_name": "refunds.md"}, {"document_name": "clean.md"}]
    with pytest.raises(InputError) as err:
        apply_guard(examples, sources)
    assert "refunds.md" in err.value.message and "1 e-mail addresses" in err.value.message
    redacted, record = apply_guard(examples, sources, "redact")
    assert "ana.perez" not in redacted[0]["text"] and "[EMAIL]" in redacted[0]["text"]
    assert record["decision"] == "redact" and record["kinds"] == {"email": 1}
    same, record = apply_guard(examples, sources, "acknowledge")
    assert same == examples and record["decision"] == "acknowledge"
    clean, record = apply_guard(examples[1:], sources[1:])
    assert record["decision"] == "clean"


# --- the training loop on a tiny random model ---------------------------------------------------------
class _Tok:
    pad_token_id = 0


def _tiny_model(seed: int = 0):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=3,
                         num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=64,
                         tie_word_embeddings=True)
    return LlamaForCausalLM(config)


def _tiny_data(n: int = 12) -> list[batches.Encoded]:
    import random

    rng = random.Random(0)
    out = []
    for _ in range(n):
        ids = [rng.randrange(1, 64) for _ in range(rng.randrange(4, 12))]
        out.append(batches.Encoded(ids, [-100] + ids[1:]))
    return out


def test_a_stopped_run_resumes_to_the_same_curve(tmp_path):
    import torch

    from backend.errors import JobCancelled
    from backend.finetune.methods import get_method
    from backend.finetune.trainer import Hooks, Trainer, latest_checkpoint

    torch.set_num_threads(1)
    cfg = FinetuneConfig(method="adapter", target_modules=("q_proj", "v_proj"), lora_dropout=0.1,
                         batch_size=2, grad_accum=2, epochs=3, checkpoint_every=2, log_every=1,
                         learning_rate=1e-2, val_fraction=0.0)
    data = _tiny_data()

    def trainer(folder, hooks=None):
        model = get_method("adapter").prepare(_tiny_model(), cfg)
        return Trainer(model, _Tok(), cfg, data, data[:3], checkpoint_dir=folder, keep=2,
                       hooks=hooks)

    full = trainer(tmp_path / "a").run()
    assert full.steps == full.total_steps == 9 and full.val_loss  # ceil(6 batches / 2) x 3 epochs
    assert [p.name for p in sorted((tmp_path / "a").glob("step-*"))] == ["step-0000006",
                                                                       "step-0000008"]  # keep 2
    saved = []

    def stop_at_five(step, total, message, metrics):
        if step == 5:
            raise JobCancelled()

    with pytest.raises(JobCancelled):
        trainer(tmp_path / "b", Hooks(progress=stop_at_five, checkpoint_saved=saved.append)).run()
    assert saved[-1]["step"] == 5  # stopping saved where it stopped, not only every 2 steps
    resumed = trainer(tmp_path / "b").run(resume=latest_checkpoint(tmp_path / "b"))
    assert resumed.resumed_from == 5 and resumed.steps == 9
    assert resumed.train_loss == full.train_loss  # same batches, same dropout, same optimiser


def test_out_of_memory_ends_with_advice():
    import torch

    from backend.finetune.trainer import Trainer, TrainingFailed

    class Exhausted(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))

        def forward(self, **batch):
            raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate "
                               "1099511627776 bytes.")

    cfg = FinetuneConfig(method="full", batch_size=8, max_length=512)
    with pytest.raises(TrainingFailed) as err:
        Trainer(Exhausted(), _Tok(), cfg, _tiny_data(4), []).run()
    assert "out of memory" in err.value.message and "batch size (now 8)" in err.value.hint
    assert "max_length (now 512)" in err.value.hint


def test_methods_count_what_they_prepare_on_a_tiny_model():
    from backend.finetune.methods import get_method, trainable_parameters

    for cfg in (FinetuneConfig(method="full"), FinetuneConfig(method="partial", top_n_layers=2),
                FinetuneConfig(method="partial", top_n_layers=1, train_head=True),
                FinetuneConfig(method="adapter", lora_r=4, target_modules=("q_proj", "down_proj"))):
        model = _tiny_model()
        claimed = trainable_parameters(model, cfg)
        prepared = get_method(cfg.method).prepare(model, cfg)
        assert sum(p.numel() for p in prepared.parameters() if p.requires_grad) == claimed.trainable
    with pytest.raises(InputError, match="no linear layer named"):
        trainable_parameters(_tiny_model(), FinetuneConfig(target_modules=("c_attn",)))
    with pytest.raises(InputError, match="only 3 decoder layers"):
        trainable_parameters(_tiny_model(), FinetuneConfig(method="partial", top_n_layers=4))


def test_gradient_checkpointing_gives_the_same_gradients_to_lora():
    """Recomputing activations in the backward pass (the default) changes memory, not the
    maths: the LoRA matrices get the same gradients as without it, on a tiny random Llama."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from backend.finetune.batches import Encoded, collate
    from backend.finetune.config import FinetuneConfig
    from backend.finetune.jobs import enable_checkpointing
    from backend.finetune.methods import get_method
    from backend.finetune.trainer import causal_lm_loss

    batch = collate([Encoded(list(range(1, 12)), [-100] * 6 + list(range(7, 12))),
                     Encoded(list(range(20, 27)), [-100] * 3 + list(range(24, 28)))], 0)
    grads = []
    for checkpointing in (False, True):
        torch.manual_seed(0)
        model = LlamaForCausalLM(LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=64,
                                             num_hidden_layers=2, num_attention_heads=4,
                                             num_key_value_heads=4))
        cfg = FinetuneConfig(method="adapter", gradient_checkpointing=checkpointing)
        assert cfg.lora_dropout == 0.0  # the default: no dropout copy of every layer input
        lora = get_method("adapter").prepare(model, cfg).train()
        if checkpointing:
            enable_checkpointing(lora)
            assert lora.base_model.model.model.gradient_checkpointing
        causal_lm_loss(lora, batch).backward()
        grads.append({n: p.grad.clone() for n, p in lora.named_parameters() if p.requires_grad})
    assert grads[0].keys() == grads[1].keys() and grads[0]
    for name, grad in grads[0].items():
        assert torch.allclose(grad, grads[1][name], atol=1e-6), name
