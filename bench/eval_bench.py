"""Evaluation benchmark: batched answering, and a 50-question run of the four strategies.

1. Batched generation for evaluation against answering one question at a time: the same
   questions, the same strategy (RAG, the demo's settings), in the same process, one after the
   other; answers per second end to end (retrieval included) and for generation alone.
   Target: batched >= 3x one at a time.
2. 50 questions x 4 strategies (base, RAG, fine-tuned, hybrid; the demo's configurations) with the
   offline metrics and the bundled models, as one evaluation run (answering and scoring).
   Target: under 5 minutes.

Set-up, reused between runs (kept in the benchmark's own lab, ``LAB_BENCH_DATA_DIR``, default
``/tmp/lab-evalbench-home``): the Nortera demo corpus; a question set holding out 50 demo
questions (the 22 of the demo's held-out part and 28 of its train part, languages alternating);
a LoRA adapter trained briefly on the other 24 question-answer pairs (``--steps``). Their build
times are printed, not part of the targets. Torch uses the worker's thread count, as a job would.

Run: ``.venv/bin/python bench/eval_bench.py`` (``--retrain`` trains the adapter again; ``--only run``
or ``--only batching`` measures one part).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("LAB_BENCH_DATA_DIR", "/tmp/lab-evalbench-home")

import common  # noqa: E402  (sets up sys.path and the offline variables)

CORPUS = "Eval bench · Nortera"
SET = "Eval bench · 50 held out"
MODEL = "Eval bench LoRA"
N_EVAL = 50


def demo_corpus(lab) -> tuple[str, float | None]:
    """The demo corpus (ingested once); returns its id and the ingestion seconds (None: reused)."""
    from backend.corpus import store
    from backend.corpus.ingest import ingest
    from backend.demo.build import DEMO_LANGUAGE
    from backend.demo.stages import missing_files
    from backend.errors import NotFound

    try:
        corpus = store.get_corpus(lab, CORPUS)
    except NotFound:
        corpus = store.create_corpus(lab, CORPUS, DEMO_LANGUAGE)
    files = missing_files(lab, corpus.id)
    if not files:
        return corpus.id, None
    began = time.perf_counter()
    report = ingest(lab, corpus.id, [(f.name, f.data) for f in files])
    if any(not f.ok for f in report.files):
        raise SystemExit(f"ingestion failed: {[f.message for f in report.files if not f.ok]}")
    return corpus.id, time.perf_counter() - began


def question_set(lab, corpus_id: str) -> int:
    """50 demo questions held out, the other 24 for training (stored once)."""
    from backend.demo.build import demo_questions
    from backend.demo.plan import _alternate
    from backend.finetune.questions import create_set

    row = lab.db.fetchone("SELECT id FROM question_sets WHERE corpus_id = %s AND name = %s",
                          (corpus_id, SET))
    if row:
        return row["id"]
    questions = demo_questions()
    held = [q for q in questions if q["split"] == "heldout"]
    held += _alternate([q for q in questions if q["split"] == "train"], N_EVAL - len(held))
    held_ids = {q["id"] for q in held}
    rows = [{"question": q["question"], "reference": q["reference"],
             "reference_contexts": q["reference_contexts"], "tags": q["tags"],
             "part": "held_out" if q["id"] in held_ids else "train",
             "metadata": {"language": q["language"], "demo_id": q["id"]}} for q in questions]
    return create_set(lab, corpus_id, SET, rows).id


def lora(lab, corpus_id: str, set_id: int, steps: int, retrain: bool) -> tuple[int, float | None]:
    """A LoRA adapter on the 24 training pairs; returns its id and training seconds (None: reused)."""
    from backend.finetune.config import FinetuneConfig
    from backend.finetune.datasets import build_dataset
    from backend.finetune.jobs import run_finetune

    row = lab.db.fetchone("SELECT id FROM trained_models WHERE name = %s AND status = 'ready'"
                          " ORDER BY id DESC LIMIT 1", (MODEL,))
    if row and not retrain:
        return row["id"], None
    began = time.perf_counter()
    dataset = build_dataset(lab, "qa_pairs", corpus_id, question_set_id=set_id,
                            name=f"{SET} · train pairs")
    cfg = FinetuneConfig(method="adapter", max_steps=steps, epochs=1000, batch_size=4,
                         max_length=128, val_fraction=0.0, eval_every=0, checkpoint_every=0)
    result = run_finetune(lab, {"dataset_id": dataset.id, "config": cfg.as_dict(), "name": MODEL})
    return result["model_id"], time.perf_counter() - began


def _timed(fn):
    """``(wall seconds, CPU seconds of this process, result)``. With one torch thread the CPU
    seconds are about what the wall time would be on an idle machine."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, out


def batching(lab, corpus_id: str, set_id: int, model_id: int, batch_size: int) -> bool:
    """Each of the four strategies answers the same questions one at a time, then in one batch
    (interleaved, so a change in the machine's load hits both alike)."""
    from dataclasses import replace

    from backend.demo.plan import DemoPlan
    from backend.evaluate.runner import load_questions
    from backend.evaluate.strategies import answer_batch

    plan = DemoPlan()
    _, rows = load_questions(lab, set_id, "held_out")
    questions = [{"question": r["question"], "language": r["language"]}
                 for r in rows[:batch_size]]  # one batch per strategy
    totals = {"one": [0.0, 0.0], "batched": [0.0, 0.0]}
    same = 0
    for cfg in plan.strategies(model_id):
        cfg = replace(cfg, corpus_id=corpus_id) if cfg.retrieves else cfg
        answer_batch(lab, cfg, questions[:2], batch_size=2)  # load the model, warm the caches
        one_wall, one_cpu, one = _timed(lambda: answer_batch(lab, cfg, questions, batch_size=1))
        many_wall, many_cpu, many = _timed(lambda: answer_batch(
            lab, cfg, questions, batch_size=batch_size))
        for key, (w, c) in (("one", (one_wall, one_cpu)), ("batched", (many_wall, many_cpu))):
            totals[key][0] += w
            totals[key][1] += c
        same += sum(a.text == b.text for a, b in zip(one, many))
        prompt = sum(a.tokens_in for a in many) / len(many)
        common.info(f"{cfg.label}: one at a time / a batch of {batch_size}",
                    f"{one_wall:6.1f} s / {many_wall:5.1f} s wall = {one_wall / many_wall:.2f}x; "
                    f"CPU {one_cpu:.1f} / {many_cpu:.1f} s = {one_cpu / many_cpu:.2f}x "
                    f"(prompts {prompt:.0f} tokens)")
        if cfg.retrieves:
            # Reading a prompt is already a large matrix product, as fast one by one as in a
            # batch: the time to read the prompts (1 new token each) bounds what batching can win.
            read = replace(cfg, generation={**cfg.generation, "max_new_tokens": 1})
            _, read_cpu, _ = _timed(lambda: answer_batch(lab, read, questions, batch_size=1))
            common.info(f"{cfg.label}: reading the prompts alone (1 token each)",
                        f"CPU {read_cpu:.1f} s = {read_cpu / one_cpu:.0%} of one at a time: no "
                        f"batching can exceed {one_cpu / read_cpu:.2f}x here")
    n = len(questions) * 4
    (one_wall, one_cpu), (many_wall, many_cpu) = totals["one"], totals["batched"]
    common.info(f"all four, {n} answers each way", f"{n / one_wall:.2f} vs {n / many_wall:.2f} "
                f"answers/s wall; CPU {one_cpu:.1f} vs {many_cpu:.1f} s")
    common.info("identical answers (greedy; bf16 batches may differ)", f"{same / n:.0%}")
    common.check("batched / one-at-a-time throughput, CPU time", one_cpu / many_cpu, 3.0,
                 unit="x", digits=2)
    return common.check("batched / one-at-a-time throughput, wall time", one_wall / many_wall,
                        3.0, unit="x", digits=2)


def full_run(lab, set_id: int, model_id: int) -> bool:
    """50 questions x base, RAG, fine-tuned and hybrid, answered and scored as one run."""
    from backend.demo.plan import DemoPlan
    from backend.evaluate import results, runner
    from backend.evaluate.metrics import HEADLINE_METRIC

    plan = DemoPlan()
    run = runner.create_run(lab, set_id, plan.strategies(model_id), part="held_out",
                            name=f"eval bench {time.strftime('%H:%M:%S')}",
                            batch_size=plan.eval_batch_size)
    marks: dict[str, float] = {}

    def progress(step, total=None, *, message=None, unit=None, **_):
        if unit == "answers" and message and message.startswith("Scoring"):
            marks.setdefault("scoring", time.perf_counter())

    began, cpu = time.perf_counter(), time.process_time()
    result = runner.run_evaluation(lab, run.id, progress=progress)
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    scoring = seconds - (marks.get("scoring", began + seconds) - began)
    common.info("run", f"{run.n_questions} questions x {len(run.strategies)} strategies = "
                f"{result['answered']} answers ({result['failed']} failed), {result['scored']} "
                f"scored with {len(run.metric_keys)} offline metrics")
    common.info("answering / scoring", f"{seconds - scoring:.1f} s / {scoring:.1f} s")
    common.info("CPU time of the run (this process)", f"{cpu:.1f} s = {cpu / 60:.2f} min")
    summary = results.run_summary(lab, run.id)
    for s in summary.strategies:
        estimate = s.metrics[HEADLINE_METRIC].estimate
        common.info(f"  {s.label}", f"{HEADLINE_METRIC} {estimate.mean:.3f} "
                    f"[{estimate.low:.3f}, {estimate.high:.3f}], latency p95 {s.latency_p95:.2f} s, "
                    f"{s.seconds_per_question:.2f} s of compute per answer")
    common.check("50 questions x 4 strategies, CPU time (idle-machine estimate)", cpu / 60, 5.0,
                 higher_is_better=False, unit=" min", digits=2)
    return common.check("50 questions x 4 strategies, answered and scored (wall)", seconds / 60,
                        5.0, higher_is_better=False, unit=" min", digits=2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30, help="LoRA optimiser steps (default 30)")
    parser.add_argument("--retrain", action="store_true", help="train the adapter again")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="batch size of the batching comparison (default: the run's, 8)")
    parser.add_argument("--only", choices=("run", "batching"), default=None,
                        help="measure only the 50 x 4 run, or only batching")
    args = parser.parse_args()
    common.header("Evaluation benchmark")
    lab = common.open_bench_lab()
    from backend.jobs.runner import cap_threads

    cap_threads(lab.settings.worker_threads)
    import torch

    common.info("torch threads", str(torch.get_num_threads()))
    corpus_id, ingest_s = demo_corpus(lab)
    common.info("demo corpus", "reused" if ingest_s is None else f"ingested in {ingest_s:.1f} s")
    set_id = question_set(lab, corpus_id)
    model_id, train_s = lora(lab, corpus_id, set_id, args.steps, args.retrain)
    common.info("LoRA adapter", f"model {model_id}, " + (
        "reused" if train_s is None else f"trained in {train_s:.1f} s ({args.steps} steps)"))
    print(f"  load average before: {os.getloadavg()}")
    ok = True
    if args.only in (None, "run"):
        ok = full_run(lab, set_id, model_id) and ok
    if args.only in (None, "batching"):
        from backend.demo.plan import DemoPlan

        ok = batching(lab, corpus_id, set_id, model_id,
                      args.batch_size or DemoPlan().eval_batch_size) and ok
    print(f"  load average after:  {os.getloadavg()}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
