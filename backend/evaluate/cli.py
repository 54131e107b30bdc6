"""Evaluation commands for ``./lab cli``: create and run an evaluation, list runs, show a run's
summary table, export a run.

Examples::

    ./lab cli eval-run SET_ID --strategy base --strategy rag:mode=hybrid,k=3
    ./lab cli eval-run SET_ID --strategy rag --strategy finetuned:model_id=MODEL --job
    ./lab cli eval-run --resume RUN_ID --strategy hybrid:model_id=MODEL   (extend, then run)
    ./lab cli eval-list
    ./lab cli eval-show RUN_ID [--vs rag base]
    ./lab cli eval-export RUN_ID --format json --out run.json
    ./lab cli eval-judge RUN_ID [--metrics faithfulness,factual_correctness] [--retry-failed]
    ./lab cli freshness-run CORPUS --demo --strategy base --strategy rag [--retrain] [--job]
    ./lab cli freshness-show CHECK_ID
"""

from __future__ import annotations

import sys
from pathlib import Path

from backend.cli import command
from backend.errors import InputError
from backend.evaluate.metrics import HEADLINE_METRIC


def _fmt(value, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _run_args(p) -> None:
    p.add_argument("question_set", nargs="?", help="question set id (not with --resume)")
    p.add_argument("--strategy", action="append", default=[],
                   help="kind[:name=value,...], e.g. rag:mode=vector,k=5 (repeatable)")
    p.add_argument("--part", default="held_out", choices=("held_out", "train", "all"))
    p.add_argument("--metrics", default=None, help="comma-separated metric keys (default: offline)")
    p.add_argument("--corpus", default=None, help="corpus to retrieve from (default: the set's)")
    p.add_argument("--name", default=None)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--resume", default=None, metavar="RUN_ID",
                   help="continue (and extend with --strategy) an existing run")
    p.add_argument("--job", action="store_true", help="queue a job for the worker instead")


@command("eval-run", "Create (or resume/extend) an evaluation run and answer and score it.", _run_args)
def eval_run(ns, lab) -> int:
    from backend.evaluate.runner import (add_strategy, create_run, enqueue_run, get_run,
                                         run_evaluation)
    from backend.evaluate.strategies import parse_strategy

    configs = [parse_strategy(s) for s in ns.strategy]
    if ns.resume:
        for cfg in configs:
            add_strategy(lab, ns.resume, cfg)
        run = get_run(lab, ns.resume)
    else:
        if not ns.question_set or not configs:
            raise InputError("Give a question set and at least one --strategy.",
                             hint="e.g. eval-run SET_ID --strategy base --strategy rag")
        metrics = [m.strip() for m in ns.metrics.split(",")] if ns.metrics else None
        run = create_run(lab, ns.question_set, configs, part=ns.part, metric_keys=metrics,
                         name=ns.name, corpus_id=ns.corpus, batch_size=ns.batch_size)
    print(f"✓ run {run.id}: {run.n_questions} questions × {len(run.strategies)} strategies"
          + (f", corpus {run.corpus_name} v{run.corpus_version}" if run.corpus_name else ""))
    if ns.job:
        print(f"✓ queued job {enqueue_run(lab, run.id)}")
        return 0

    from backend.jobs.runner import cap_threads

    # as a worker does: on a shared machine, more torch threads than free cores makes batched
    # generation many times slower (measured: 46 s vs 2.6 s for one batch of 8 on 2 busy cores)
    cap_threads(lab.settings.worker_threads)

    def progress(step, total=None, *, message=None, **_):
        print(f"\r  {message or step}".ljust(78), end="", file=sys.stderr, flush=True)

    result = run_evaluation(lab, run.id, progress=progress)
    print(file=sys.stderr)
    print(f"✓ answered {result['answered_now']}, scored {result['scored_now']}; "
          f"{result['failed']} failed answers")
    return _show(lab, run.id)


@command("eval-list", "List evaluation runs, newest first.")
def eval_list(ns, lab) -> int:
    from backend.evaluate.results import list_runs

    runs = list_runs(lab)
    if not runs:
        print("No evaluation runs yet: start one with eval-run.")
    for r in runs:
        print(f"{r['id']}  {r['name']:<32} {r['answered']:>4}/{r['total']:<4} "
              f"{r['job_status'] or '-':<10} {', '.join(r['strategies'])}")
    return 0


def _show(lab, run_id: str, vs: list[str] | None = None, metric: str = HEADLINE_METRIC) -> int:
    from backend.evaluate.results import head_to_head, run_summary
    from backend.evaluate.wording import describe_estimate

    summary = run_summary(lab, run_id)
    run = summary.run
    c = summary.counts
    print(f"{run.name}  ({run.question_set_name}, {run.part}: {run.n_questions} questions; "
          f"{c['answered']}/{c['total']} answered, {c['scored']} scored)")
    for s in summary.strategies:
        print(f"\n{s.label}  [{s.kind}]  {s.model_record or ''}")
        for key, m in s.metrics.items():
            extra = ", ".join(f"{n} {what}" for n, what in ((m.not_applicable, "not applicable"),
                                                             (m.failed, "failed")) if n)
            print(f"  {key:<20} {describe_estimate(m.estimate, 'en', decimals=3)}"
                  + (f"  ({extra})" if extra else ""))
        print(f"  latency mean {_fmt(s.latency_mean, 2)} s, p95 {_fmt(s.latency_p95, 2)} s; "
              f"tokens in/out {_fmt(s.tokens_in_mean, 0)}/{_fmt(s.tokens_out_mean, 0)}; "
              f"cost per 1,000 questions ${_fmt(s.cost_per_1k, 4)}; build "
              f"{_fmt(s.build_seconds, 1)} s")
    judge = summary.judge
    if judge.get("needs_judge") and judge["configured"]:
        print(f"\nNot judged yet: {', '.join(judge['needs_judge'])} (eval-judge {run.id}).")
    elif judge.get("needs_judge"):
        print(f"\nNeed a judge (not computed): {', '.join(judge['needs_judge'])}. "
              f"{judge['config_error'] or judge['hint']}")
    for p in judge.get("passes", []):
        print(f"Judged by {p['judge']}: {p['judged']} answers, {p['ok']} scores, {p['failed']} "
              f"failed; {p['usage'].get('calls', 0)} judge calls in {_fmt(p['seconds'], 1)} s")
    for key, m in judge.get("metrics", {}).items():
        for why, n in m["reasons"].items():
            print(f"  {key}: {n} × {why}")
    if vs:
        print("\n" + head_to_head(lab, run.id, vs[0], vs[1], metric).sentence)
    return 0


@command("eval-show", "Show a run's summary: every metric per strategy with 95%% CIs, costs.",
         lambda p: (p.add_argument("run_id"),
                    p.add_argument("--vs", nargs=2, metavar=("A", "B"), help="head to head"),
                    p.add_argument("--metric", default=HEADLINE_METRIC)))
def eval_show(ns, lab) -> int:
    return _show(lab, ns.run_id, ns.vs, ns.metric)


@command("eval-export", "Export a run (answers and scores) as CSV or JSON.",
         lambda p: (p.add_argument("run_id"), p.add_argument("--format", default="csv",
                                                              choices=("csv", "json")),
                    p.add_argument("--out", default=None, help="file (default: standard output)")))
def eval_export(ns, lab) -> int:
    from backend.evaluate.results import export_run

    data = export_run(lab, ns.run_id, ns.format)
    if ns.out:
        Path(ns.out).write_bytes(data)
        print(f"✓ wrote {len(data)} bytes to {ns.out}")
    else:
        sys.stdout.write(data.decode("utf-8"))
    return 0


@command("eval-delete", "Delete an evaluation run with its answers and scores.",
         lambda p: p.add_argument("run_id"))
def eval_delete(ns, lab) -> int:
    from backend.evaluate.results import delete_run

    delete_run(lab, ns.run_id)
    print(f"✓ deleted run {ns.run_id}")
    return 0


@command("eval-judge", "Score a run's answers with the LLM-judged metrics (judge from Settings).",
         lambda p: (p.add_argument("run_id"),
                    p.add_argument("--metrics", default=None, help="comma-separated judged metrics"),
                    p.add_argument("--retry-failed", action="store_true",
                                   help="judge failed scores again"),
                    p.add_argument("--max-tokens", type=int, default=None,
                                   help="longest judge reply (default 1024)"),
                    p.add_argument("--concurrency", type=int, default=None,
                                   help="judge calls at a time (default 4)")))
def eval_judge(ns, lab) -> int:
    from backend.evaluate.judge import HOW_TO_CONFIGURE, judge_config, judge_run

    overrides = {k: v for k, v in (("max_new_tokens", ns.max_tokens),
                                   ("concurrency", ns.concurrency)) if v}
    cfg = judge_config(lab.settings, **overrides)
    if cfg is None:
        raise InputError("No judge is configured.", hint=HOW_TO_CONFIGURE)

    def progress(step, total=None, *, message=None, **_):
        print(f"\r  {message or ''} {step:.0f}/{total or 0:.0f}".ljust(78), end="", file=sys.stderr,
              flush=True)

    metrics = [m.strip() for m in ns.metrics.split(",")] if ns.metrics else None
    done = judge_run(lab, ns.run_id, judge=cfg, metric_keys=metrics, retry_failed=ns.retry_failed,
                     progress=progress)
    print(file=sys.stderr)
    print(f"✓ judged {done['judged']} answers with {done['judge']}: {done['ok']} scores, "
          f"{done['failed']} failed, {done['not_applicable']} not applicable")
    return _show(lab, ns.run_id)


def _freshness_args(p) -> None:
    p.add_argument("corpus", help="corpus name or id")
    p.add_argument("--demo", action="store_true",
                   help="the demo's scenario: its changed documents and freshness questions")
    p.add_argument("--file", action="append", default=[], help="a changed document (repeatable)")
    p.add_argument("--questions", default=None,
                   help="JSONL: question, reference_v1, reference_v2 (optional fact_v1, fact_v2)")
    p.add_argument("--strategy", action="append", default=[],
                   help="kind[:name=value,...] as for eval-run (default: base and rag)")
    p.add_argument("--retrain", action="store_true",
                   help="retrain the fine-tuned strategy's model on the updated question set")
    p.add_argument("--retrain-steps", type=int, default=0,
                   help="optimiser steps of the retrain (default: the model's own recipe)")
    p.add_argument("--name", default=None)
    p.add_argument("--job", action="store_true", help="queue a job for the worker instead")


@command("freshness-run", "Change documents and time how soon each strategy's answers follow.",
         _freshness_args)
def freshness_run(ns, lab) -> int:
    import json

    from backend.corpus.store import get_corpus
    from backend.evaluate.freshness import create_freshness, demo_scenario, enqueue_freshness

    files, questions = demo_scenario() if ns.demo else ([], [])
    files += [(Path(f).name, Path(f).read_bytes()) for f in ns.file]
    if ns.questions:
        questions = [json.loads(line) for line in Path(ns.questions).read_text().splitlines()
                     if line.strip()]
    retrain = None
    if ns.retrain:
        retrain = {}
        if ns.retrain_steps:
            from backend.finetune.config import FinetuneConfig

            retrain["config"] = FinetuneConfig(max_steps=ns.retrain_steps, epochs=1000).as_dict()
    corpus = get_corpus(lab, ns.corpus)
    check_id = create_freshness(lab, corpus.id, files, questions, ns.strategy or ["base", "rag"],
                                retrain=retrain, name=ns.name)
    if ns.job:
        print(f"✓ check {check_id}: queued job {enqueue_freshness(lab, check_id)}")
        return 0
    from backend.evaluate.freshness import execute_freshness
    from backend.jobs.runner import cap_threads

    cap_threads(lab.settings.worker_threads)

    def progress(step, total=None, *, message=None, **_):
        print(f"\r  {message or step}".ljust(78), end="", file=sys.stderr, flush=True)

    execute_freshness(lab, check_id, progress=progress)
    print(file=sys.stderr)
    return _show_freshness(lab, check_id)


def _show_freshness(lab, check_id: str) -> int:
    from backend.evaluate.freshness_results import freshness_summary, get_freshness

    summary = freshness_summary(lab, check_id)
    print(f"{summary['name']} ({summary['status']}): corpus {summary['corpus_name']} "
          f"v{summary['version_before']} -> v{summary['version_after']}; ingestion "
          f"{_fmt(summary['ingest_seconds'], 2)} s, retrain {_fmt(summary['retrain_seconds'], 1)} s"
          + (f"\n  error: {summary['error']}" if summary["error"] else ""))
    for e in get_freshness(lab, check_id):
        detail = ", ".join(f"{k}={v}" for k, v in e["detail"].items())
        print(f"  {e['elapsed_s']:8.2f} s  {e['event']:<16} {e['phase'] or '':<13} "
              f"{e['label'] or '':<12} {detail}")
    for s in summary["strategies"]:
        shares = " ".join(f"{p}={_fmt(v, 2)}" for p, v in s["shares"].items())
        when = (f"{s['time_to_update_s']:.2f} s (by {s['updated_by'] or 'nothing: already current'})"
                if s["time_to_update_s"] is not None else "not updated")
        print(f"{s['label']:<12} {when:<40} reflecting v2: {shares}")
    return 0


@command("freshness-show", "Show a freshness check: timeline and time to update per strategy.",
         lambda p: p.add_argument("check_id"))
def freshness_show(ns, lab) -> int:
    return _show_freshness(lab, ns.check_id)


@command("freshness-list", "List freshness checks, newest first.")
def freshness_list(ns, lab) -> int:
    from backend.evaluate.freshness_results import list_freshness

    for r in list_freshness(lab):
        print(f"{r['id']}  {r['name']:<32} {r['status']:<10} v{r['version_before']} -> "
              f"v{r['version_after']}  ingest {_fmt(r['ingest_seconds'], 2)} s")
    return 0
