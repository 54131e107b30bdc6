"""Fine-tuning for real on the bundled SmolLM2-135M with tiny data: each method learns and trains
exactly what it claims; the LoRA path end to end as a job (registry, PEFT reload, answering); a
cancelled run resumes from its checkpoint; a killed worker's run resumes from its checkpoint;
the held-out leak refusal; the sensitive-data guard; partial weights applied over the base."""

from __future__ import annotations

import hashlib
import io
import os
import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest
import torch
from psycopg.types.json import Jsonb

from backend.errors import InputError
from backend.finetune import datasets, questions, registry
from backend.finetune.batches import encode_all, split_validation
from backend.finetune.config import FinetuneConfig
from backend.finetune.jobs import run_finetune, submit_finetune
from backend.finetune.methods import get_method, trainable_parameters
from backend.finetune.question_io import QuestionRow
from backend.finetune.trainer import Hooks, Trainer
from backend.jobs.runner import run_inline
from backend.jobs.service import cancel, get_job, job_events, recover_stalled, retry
from backend.models.llm import GenerationConfig
from backend.models.registry import BUNDLED_LLM, load_causal_lm

pytestmark = pytest.mark.usefixtures("one_thread")  # one torch thread

ROOT = Path(__file__).resolve().parents[2]
FACTS = [("What colour is the Zorblat widget?", "The Zorblat widget is bright purple."),
         ("Who founded Acme Lamps?", "Ingrid Halvorsen founded Acme Lamps in 1987."),
         ("How long is the Acme warranty?", "The Acme warranty lasts 27 months."),
         ("Where is the Acme headquarters?", "The Acme headquarters are in Tromsø."),
         ("What does the Zorblat widget weigh?", "The Zorblat widget weighs 412 grams."),
         ("Which river runs past the Acme factory?", "The Glomma river runs past the factory.")]
CHAT = [{"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]}
        for q, a in FACTS]
FAST = dict(batch_size=2, max_length=64, warmup_ratio=0.0, val_fraction=0.0, eval_every=0,
            checkpoint_every=0, log_every=2)


def make_corpus(lab, docs: dict[str, str]) -> str:
    with lab.db.connect() as conn:
        corpus_id = conn.execute("INSERT INTO corpora (name, language) VALUES ('acme', 'en')"
                                 " RETURNING id::text AS id").fetchone()["id"]
        for name, text in docs.items():
            conn.execute("INSERT INTO documents (corpus_id, name, kind, sha256, status, char_count,"
                         " sections) VALUES (%s, %s, 'txt', %s, 'ready', %s, %s)",
                         (corpus_id, name, hashlib.sha256(text.encode()).hexdigest(), len(text),
                          Jsonb([{"text": text, "page": None, "section": None}])))
    return corpus_id


def facts_dataset(lab, held_out: float = 0.0) -> tuple[str, datasets.Dataset]:
    corpus_id = make_corpus(lab, {"facts.md": " ".join(a for _, a in FACTS)})
    qs = questions.create_set(lab, corpus_id, "facts", [QuestionRow(q, a) for q, a in FACTS],
                              held_out_fraction=held_out)
    return corpus_id, datasets.build_dataset(lab, "qa_pairs", corpus_id, question_set_id=qs.id)


def _base_name(name: str) -> str:
    """A PEFT-wrapped parameter's name in the plain model."""
    return name.removeprefix("base_model.model.").replace(".base_layer", "")


# --- the three methods -------------------------------------------------------------------------------
@pytest.mark.parametrize("method, steps, lr, extra", [
    ("adapter", 15, 2e-3, {}),
    ("partial", 15, 3e-4, {"top_n_layers": 2}),
    ("full", 6, 1e-4, {}),
])
def test_each_method_learns_and_trains_exactly_what_it_claims(lab, method, steps, lr, extra):
    cfg = FinetuneConfig(method=method, learning_rate=lr, max_steps=steps, epochs=100, **FAST, **extra)
    dtype = torch.bfloat16 if method == "adapter" else torch.float32
    model, tokenizer = load_causal_lm(BUNDLED_LLM, lab.settings, dtype=dtype, device="cpu")
    claimed = trainable_parameters(model, cfg)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    model = get_method(method).prepare(model, cfg)
    start = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    assert sum(p.numel() for p in start.values()) == claimed.trainable
    assert claimed.total == sum(p.numel() for p in before.values())  # the tied matrix counted once
    encoded, dropped = encode_all(CHAT, tokenizer, cfg.max_length)
    assert dropped == 0 and not any(e.truncated for e in encoded)
    result = Trainer(model, tokenizer, cfg, encoded, [], autocast_bf16=method != "adapter").run()
    losses = [loss for _, loss in result.train_loss]
    # 3 steps = one epoch over the 6 facts: compare the first epoch with the last
    assert result.steps == steps and sum(losses[-3:]) < 0.6 * sum(losses[:3]), losses
    for name, p in model.named_parameters():
        if name in start:  # everything that trains moved ...
            assert not torch.equal(start[name], p.detach()), f"{name} should have trained"
        else:  # ... and everything else is bit-identical
            assert torch.equal(before[_base_name(name)], p.detach()), f"frozen {name} changed"
    if method == "adapter":
        assert all("lora_" in n for n in start) and len(start) == 2 * 4 * 30
    if method == "partial":
        assert all(n.startswith(("model.layers.28.", "model.layers.29.", "model.norm.")) for n in start)
    if method == "full":
        assert len(start) == len(before)


def test_partial_with_the_tied_head_trains_the_shared_embeddings(lab):
    model, tokenizer = load_causal_lm(BUNDLED_LLM, lab.settings, dtype=torch.float32, device="cpu")
    cfg = FinetuneConfig(method="partial", top_n_layers=1, train_head=True, max_steps=2, epochs=10,
                         learning_rate=1e-3, **FAST)
    claimed = trainable_parameters(model, cfg)
    embed = model.get_input_embeddings().weight
    assert claimed.trainable == embed.numel() + sum(
        p.numel() for p in model.model.layers[-1].parameters()) + model.model.norm.weight.numel()
    assert "tied to the input embeddings" in claimed.summary
    embed_before = embed.detach().clone()
    model = get_method("partial").prepare(model, cfg)
    Trainer(model, tokenizer, cfg, encode_all(CHAT, tokenizer, 64)[0], []).run()
    assert model.lm_head.weight is model.get_input_embeddings().weight  # still one matrix
    assert not torch.equal(embed_before, model.get_input_embeddings().weight)


# --- the LoRA path end to end as a job ---------------------------------------------------------------
def test_lora_job_end_to_end_registry_reload_and_answer(lab, tmp_path):
    _, ds = facts_dataset(lab)
    cfg = FinetuneConfig(method="adapter", learning_rate=3e-3, epochs=8, batch_size=2, max_length=64,
                         warmup_ratio=0.0, val_fraction=0.2, eval_every=8, log_every=4,
                         checkpoint_every=10, target_modules=("q_proj", "v_proj", "o_proj"))
    job_id = submit_finetune(lab, ds.id, cfg, name="lora facts")
    job = run_inline(lab, job_id)
    assert job.status == "succeeded", job.error
    res = job.result
    assert res["steps"] == 3 * 8 and res["final_loss"] < 0.5 * res["first_loss"]
    assert res["format"] == "peft-adapter" and res["final_val_loss"] is not None
    metrics = [e["metrics"] for e in job_events(lab, job_id) if e["metrics"]]
    assert {"loss", "lr", "tokens_per_s", "eta_s", "epoch"} <= set(metrics[0])
    assert any("val_loss" in m for m in metrics)

    tm = registry.get_model(lab, res["model_id"])
    assert (tm.status, tm.method, tm.name, tm.job_id, tm.dataset_id) == ("ready", "adapter",
                                                                           "lora facts", job_id, ds.id)
    assert len(tm.train_loss) == tm.steps == 24 and tm.val_loss and tm.duration_s > 0
    assert tm.base_model == BUNDLED_LLM and "smollm2" in tm.base_model_id.lower()
    assert tm.guard["decision"] == "clean" and tm.config["lora_r"] == 8
    assert tm.trainable_params == res["trainable_params"] < tm.total_params / 100

    # the download is a standard PEFT folder
    folder = tmp_path / "adapter"
    zipfile.ZipFile(io.BytesIO(registry.download_zip(lab, tm.id))).extractall(folder)
    assert {"adapter_config.json", "adapter_model.safetensors", "lab_lineage.json"} <= {
        p.name for p in folder.iterdir()}
    from peft import PeftModel

    base, tokenizer = load_causal_lm(BUNDLED_LLM, lab.settings, device="cpu")
    peft_model = PeftModel.from_pretrained(base, str(folder))
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": FACTS[0][0]}],
                                           add_generation_prompt=True, return_tensors="pt",
                                           return_dict=True)
    out = peft_model.generate(**prompt, max_new_tokens=12, do_sample=False)
    assert out.shape[1] > prompt["input_ids"].shape[1]

    # and the registry's own loader answers with what it learnt
    generator = registry.generator_for(lab, tm.id)
    trained = split_validation(len(FACTS), cfg.val_fraction, cfg.seed)[0]
    question, reference = FACTS[trained[0]]
    answer = generator.generate([[{"role": "user", "content": question}]],
                                GenerationConfig(max_new_tokens=16))[0].text
    assert reference.split()[-1].strip(".") in answer, (reference, answer)
    registry.delete_model(lab, tm.id)
    assert lab.db.fetchone("SELECT count(*) AS n FROM artifacts")["n"] == 0


# --- resume ------------------------------------------------------------------------------------------
def _state(lab, job_id: int) -> dict:
    return lab.db.fetchone("SELECT state FROM jobs WHERE id = %s", (job_id,))["state"]


def test_cancelled_run_keeps_its_checkpoint_and_resumes_there(lab):
    _, ds = facts_dataset(lab)
    cfg = FinetuneConfig(method="adapter", learning_rate=2e-3, max_steps=14, epochs=100, **{
        **FAST, "checkpoint_every": 4, "log_every": 1})
    job_id = submit_finetune(lab, ds.id, cfg)

    def cancel_after_first_checkpoint():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not _state(lab, job_id).get("checkpoint"):
            time.sleep(0.05)
        cancel(lab, job_id)

    canceller = threading.Thread(target=cancel_after_first_checkpoint)
    canceller.start()
    job = run_inline(lab, job_id)
    canceller.join()
    assert job.status == "cancelled"
    state = _state(lab, job_id)
    kept = state["step"]
    assert 4 <= kept < 14 and Path(state["checkpoint"]).is_dir()
    row = lab.db.fetchone("SELECT status, error FROM trained_models WHERE job_id = %s", (job_id,))
    assert row["status"] == "cancelled" and "resumed" in row["error"]

    retry(lab, job_id)
    job = run_inline(lab, job_id)
    assert job.status == "succeeded", job.error
    assert job.result["resumed_from"] == kept and job.result["steps"] == 14
    tm = registry.get_model(lab, job.result["model_id"])
    assert [s for s, _ in tm.train_loss] == list(range(1, 15))  # one curve across both attempts
    assert not Path(state["checkpoint"]).exists()  # spent checkpoints are removed


def test_killed_worker_run_resumes_from_the_checkpoint_step(lab, lab_env, tmp_path):
    _, ds = facts_dataset(lab)
    cfg = FinetuneConfig(method="adapter", learning_rate=2e-3, max_steps=15, epochs=100, **{
        **FAST, "checkpoint_every": 3, "log_every": 1})
    job_id = submit_finetune(lab, ds.id, cfg)
    env = {**os.environ, **lab_env, "LAB_EXTRA_HANDLERS": "backend.finetune.jobs"}
    logs = []

    def start_worker():
        log_path = tmp_path / f"worker{len(logs)}.log"
        logs.append(log_path)
        with open(log_path, "wb") as out:
            return subprocess.Popen([sys.executable, "-m", "backend.jobs.worker"], cwd=ROOT, env=env,
                                    stdout=out, stderr=subprocess.STDOUT)

    first = start_worker()
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and _state(lab, job_id).get("step", 0) < 3:
            assert first.poll() is None, logs[0].read_text()[-3000:]
            time.sleep(0.1)
        kept = _state(lab, job_id)["step"]
        assert kept >= 3, logs[0].read_text()[-3000:]
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        kept = _state(lab, job_id)["step"]  # a checkpoint may have landed just before the kill
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not recover_stalled(lab):
            time.sleep(0.5)
        assert get_job(lab, job_id).status == "stalled"
        second = start_worker()
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and not get_job(lab, job_id).is_finished:
            time.sleep(0.2)
        job = get_job(lab, job_id)
        assert job.status == "succeeded", (job.error, logs[-1].read_text()[-3000:])
        assert job.result["resumed_from"] == kept and job.result["steps"] == 15
    finally:
        for proc in (first, *(locals().get("second") and [second] or [])):
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)


# --- refusals and the guard ---------------------------------------------------------------------------
def test_training_on_held_out_questions_is_refused_with_the_list(lab):
    corpus_id, _ = facts_dataset(lab, held_out=0.34)  # 2 of the 6 facts are held out
    held = {h.question for h in questions.held_out_questions(lab, corpus_id)}
    everything = questions.create_set(lab, corpus_id, "everything",
                                      [QuestionRow(q, a) for q, a in FACTS], held_out_fraction=0.0)
    ds = datasets.build_dataset(lab, "qa_pairs", corpus_id, question_set_id=everything.id)
    with pytest.raises(InputError) as err:
        submit_finetune(lab, ds.id, FinetuneConfig(max_steps=1))
    assert len(held) == 2 and all(q in err.value.message for q in held)
    assert {x["question"] for x in err.value.details["leaks"]} == held
    assert lab.db.fetchone("SELECT count(*) AS n FROM jobs")["n"] == 0  # nothing was queued


def test_guard_refuses_sensitive_data_then_trains_on_the_redacted_text(lab):
    corpus_id = make_corpus(lab, {"contacts.md": "For refunds write to ana.perez@example.com or call "
                                                 "the Acme desk, which answers within two days."})
    ds = datasets.build_dataset(lab, "continued_pretraining", corpus_id)
    cfg = FinetuneConfig(method="adapter", max_steps=2, epochs=10, **FAST)
    with pytest.raises(InputError) as err:
        submit_finetune(lab, ds.id, cfg)
    assert "contacts.md" in err.value.message and "e-mail" in err.value.message
    result = run_finetune(lab, {"dataset_id": ds.id, "config": cfg.as_dict(), "sensitive": "redact"})
    tm = registry.get_model(lab, result["model_id"])
    assert tm.status == "ready" and tm.guard["decision"] == "redact"
    assert tm.guard["kinds"] == {"email": 1} and tm.guard["where"] == {"contacts.md": {"email": 1}}


def test_partial_model_is_stored_as_its_trained_weights_and_loads_over_the_base(lab, tmp_path):
    _, ds = facts_dataset(lab)
    cfg = FinetuneConfig(method="partial", top_n_layers=1, learning_rate=1e-3, max_steps=2,
                         epochs=10, **FAST)
    result = run_finetune(lab, {"dataset_id": ds.id, "config": cfg.as_dict()})
    tm = registry.get_model(lab, result["model_id"])
    assert tm.artifact_format == "safetensors-partial"
    base, _ = load_causal_lm(BUNDLED_LLM, lab.settings, dtype=torch.float32, device="cpu")
    tuned, _ = registry.load_for_inference(lab, tm.id, dtype=torch.float32, device="cpu")
    top = "model.layers.29.mlp.down_proj.weight"
    low = "model.layers.0.mlp.down_proj.weight"
    tuned_params, base_params = dict(tuned.named_parameters()), dict(base.named_parameters())
    assert not torch.equal(tuned_params[top], base_params[top])
    assert torch.equal(tuned_params[low], base_params[low])
    stored = zipfile.ZipFile(io.BytesIO(registry.download_zip(lab, tm.id))).namelist()
    assert set(stored) == {"partial_weights.safetensors", "lab_lineage.json"}


def test_estimate_before_launch_by_formula_and_by_measuring(lab):
    from backend.finetune.estimate import estimate_run

    _, ds = facts_dataset(lab)
    for method in ("adapter", "partial", "full"):
        cfg = FinetuneConfig(method=method, epochs=2, **FAST)
        est = estimate_run(lab, ds.id, cfg)
        model, _ = load_causal_lm(BUNDLED_LLM, lab.settings, dtype=torch.float32, device="cpu") \
            if method == "adapter" else (None, None)
        if model is not None:  # the weightless skeleton counts what the real model would train
            assert est.trainable_params == trainable_parameters(model, cfg).trainable
        assert (est.basis, est.examples, est.steps_per_epoch, est.total_steps) == ("formula", 6, 3, 6)
        assert est.seconds_per_epoch > 0 and est.memory_mb > 400
    full, adapter = (estimate_run(lab, ds.id, FinetuneConfig(method=m, **FAST)) for m in ("full", "adapter"))
    assert full.memory_mb > adapter.memory_mb + 1000  # gradients and AdamW state of 135M weights
    measured = estimate_run(lab, ds.id, FinetuneConfig(method="adapter", epochs=2, **FAST),
                            measure=True, steps=1)
    assert measured.basis == "measured" and measured.seconds_per_epoch > 0
