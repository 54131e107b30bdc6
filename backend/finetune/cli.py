"""Fine-tuning commands for ``./lab cli``: question sets, training data, runs and trained models.

The ``finetune`` command's options are generated from ``FinetuneConfig``'s fields (one option per
field, with its help), like the page's form. Examples::

    ./lab cli qset-upload handbook questions.csv --name faq --held-out 0.2
    ./lab cli qset-generate handbook --name auto --n 30
    ./lab cli qset-list handbook
    ./lab cli qset-export 3 --format ragas --out faq.jsonl
    ./lab cli dataset-build handbook --builder qa_pairs --question-set 3
    ./lab cli finetune 5 --method adapter --lora-r 16 --epochs 3          (queued for the worker)
    ./lab cli finetune 5 --max-steps 20 --inline                         (here, printing progress)
    ./lab cli models-list
    ./lab cli model-download 2 --out lora.zip
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

from backend.cli import command
from backend.errors import InputError


def _fmt(value, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


# --- question sets -------------------------------------------------------------------------------------
def _split_args(p) -> None:
    p.add_argument("--held-out", type=float, default=0.2, help="held-out share (0 to below 1)")
    p.add_argument("--seed", type=int, default=0, help="seed of the train / held-out split")


@command("qset-upload", "Store a question set from a CSV, JSONL or JSON (Ragas) file.",
         lambda p: (p.add_argument("corpus", help="corpus name or id"), p.add_argument("file"),
                    p.add_argument("--name", default=None, help="default: the file's name"),
                    _split_args(p)))
def qset_upload(ns, lab) -> int:
    from backend.corpus.store import get_corpus
    from backend.finetune.question_io import parse_upload
    from backend.finetune.questions import create_set

    path = Path(ns.file).expanduser()
    if not path.is_file():
        raise InputError(f"{ns.file} is not a file.")
    corpus = get_corpus(lab, ns.corpus)
    rows = parse_upload(path.read_bytes(), path.name, max_mb=lab.settings.max_upload_mb)
    qs = create_set(lab, corpus.id, ns.name or path.stem, rows, held_out_fraction=ns.held_out,
                    seed=ns.seed, source="upload")
    print(f"✓ question set {qs.id}: {qs.name} v{qs.version}, {qs.n_questions} questions "
          f"({qs.n_questions - qs.n_held_out} train, {qs.n_held_out} held out)")
    return 0


@command("qset-generate", "Generate a question set from a corpus (extractive, or a model).",
         lambda p: (p.add_argument("corpus", help="corpus name or id"),
                    p.add_argument("--name", required=True),
                    p.add_argument("--n", type=int, default=20, help="how many questions at most"),
                    p.add_argument("--generator", default="extractive", choices=("extractive", "llm")),
                    p.add_argument("--model", default=None, help="llm: generator model spec"),
                    _split_args(p)))
def qset_generate(ns, lab) -> int:
    from backend.corpus.store import get_corpus
    from backend.finetune.question_gen import EXTRACTIVE_LABEL, generate_set

    corpus = get_corpus(lab, ns.corpus)
    qs = generate_set(lab, corpus.id, ns.name, ns.n, generator=ns.generator, model=ns.model,
                      seed=ns.seed, held_out_fraction=ns.held_out)
    made_by = EXTRACTIVE_LABEL if ns.generator == "extractive" else qs.generator.get("model")
    print(f"✓ question set {qs.id}: {qs.name} v{qs.version}, {qs.n_questions} questions "
          f"({qs.n_held_out} held out)\n  made by: {made_by}")
    return 0


@command("qset-list", "List question sets (every version) with their split sizes.",
         lambda p: p.add_argument("corpus", nargs="?", help="only this corpus (name or id)"))
def qset_list(ns, lab) -> int:
    from backend.corpus.store import get_corpus, list_corpora
    from backend.finetune.questions import list_sets

    corpus_id = get_corpus(lab, ns.corpus).id if ns.corpus else None
    names = {c.id: c.name for c in list_corpora(lab)}
    sets = list_sets(lab, corpus_id)
    if not sets:
        print("No question sets yet: create one with qset-upload or qset-generate.")
    for s in sets:
        print(f"{s.id:>5}  {s.name:<28} v{s.version:<3} {s.source:<10} {s.n_questions:>5} questions"
              f"  {s.n_questions - s.n_held_out:>5} train  {s.n_held_out:>4} held out"
              f"  {names.get(s.corpus_id, s.corpus_id)}")
    return 0


@command("qset-export", "Write a question set as Ragas JSONL, the lab's JSONL or CSV.",
         lambda p: (p.add_argument("set_id", type=int),
                    p.add_argument("--format", default="ragas", choices=("ragas", "jsonl", "csv")),
                    p.add_argument("--out", default=None, help="file (default: standard output)")))
def qset_export(ns, lab) -> int:
    from backend.finetune.questions import export_set

    data = export_set(lab, ns.set_id, ns.format)
    if ns.out:
        Path(ns.out).expanduser().write_bytes(data)
        print(f"✓ wrote {ns.out} ({len(data):,} bytes)", file=sys.stderr)
    else:
        sys.stdout.write(data.decode("utf-8"))
    return 0


# --- training data --------------------------------------------------------------------------------------
@command("dataset-build", "Build a training dataset (question-answer pairs or continued pretraining).",
         lambda p: (p.add_argument("corpus", help="corpus name or id"),
                    p.add_argument("--builder", default="qa_pairs",
                                   help="qa_pairs or continued_pretraining"),
                    p.add_argument("--question-set", type=int, default=None,
                                   help="qa_pairs: the set whose train part is used"),
                    p.add_argument("--name", default=None)))
def dataset_build(ns, lab) -> int:
    from backend.corpus.store import get_corpus
    from backend.finetune.datasets import build_dataset, dataset_leaks

    corpus = get_corpus(lab, ns.corpus)
    ds = build_dataset(lab, ns.builder, corpus.id, question_set_id=ns.question_set, name=ns.name)
    print(f"✓ dataset {ds.id}: {ds.name}, {ds.n_examples} examples ({ds.builder})")
    leaks = dataset_leaks(lab, ds.id)
    if leaks:
        print(f"✗ {len(leaks)} held-out question(s) appear in it: training on it will be refused.")
    return 0


# --- training ---------------------------------------------------------------------------------------------
def _config_args(p) -> None:
    from backend.finetune.config import describe

    p.add_argument("dataset_id", type=int)
    group = p.add_argument_group("fine-tune configuration (defaults in brackets)")
    for item in describe():
        flag = "--" + item["name"].replace("_", "-")
        default = item["default"]
        shown = ",".join(default) if isinstance(default, list) else default
        help_text = f"{item['help']} [{shown}]".replace("%", "%%")
        if item["type"] == "bool":
            group.add_argument(flag, dest=item["name"], action=argparse.BooleanOptionalAction,
                               default=None, help=help_text)
        else:
            kind = {"int": int, "float": float}.get(item["type"], str)
            group.add_argument(flag, dest=item["name"], type=kind, default=None, help=help_text,
                               choices=item["choices"])
    p.add_argument("--name", default=None, help="the trained model's name")
    p.add_argument("--base-model", default=None, help="default: the configured generation model")
    p.add_argument("--sensitive", default="refuse", choices=("refuse", "redact", "acknowledge"),
                   help="what to do with personal data found in the examples")
    p.add_argument("--queue", default=None, help="job queue (e.g. gpu)")
    p.add_argument("--inline", action="store_true",
                   help="train in this process, printing progress (no worker needed)")


def config_from_args(ns):
    """The ``FinetuneConfig`` the command line asked for (unset options keep their defaults)."""
    from backend.finetune.config import FinetuneConfig, describe

    values = {item["name"]: getattr(ns, item["name"]) for item in describe()
              if getattr(ns, item["name"], None) is not None}
    return FinetuneConfig.from_dict(values)


def _progress_line(lab, job_id: int) -> tuple[tuple, str]:
    """The job's state now as a key (to print only changes) and a line: step, loss, speed."""
    from backend.jobs.service import get_job, job_events

    job = get_job(lab, job_id)
    metrics = next((e["metrics"] for e in reversed(job_events(lab, job_id, limit=20))
                    if e["metrics"]), None) or {}
    parts = [f"step {job.step:.0f}/{job.total:.0f}" if job.total else f"step {job.step:.0f}"]
    if (job.message or "").lower().startswith("step"):  # the trainer's message already says it
        parts = []
    for key, label, digits in (("loss", "loss", 3), ("val_loss", "val", 3),
                               ("tokens_per_s", "tok/s", 0)):
        if metrics.get(key) is not None:
            parts.append(f"{label} {metrics[key]:.{digits}f}")
    if job.is_active and job.eta_seconds:
        parts.append(f"~{job.eta_seconds:.0f} s left")
    return (job.step, job.message), " · ".join([f"  {job.message or job.status}", *parts])


def _watch(lab, job_id: int, stop: threading.Event) -> None:
    """Print a line whenever the job reports a new step (beside the training), and a last one
    with where it ended once ``stop`` is set."""
    last = None
    while True:
        stopping = stop.wait(1.0)
        try:
            key, line = _progress_line(lab, job_id)
        except Exception:  # noqa: BLE001 - progress lines are a courtesy, never a failure
            key, line = last, ""
        if key != last and line:
            print(line, flush=True)
            last = key
        if stopping:
            return


@command("finetune", "Fine-tune on a dataset: queued for the worker, or --inline here.",
         _config_args)
def finetune_cmd(ns, lab) -> int:
    from backend.finetune.jobs import submit_finetune
    from backend.jobs.runner import run_inline

    cfg = config_from_args(ns)
    job_id = submit_finetune(lab, ns.dataset_id, cfg, base_model=ns.base_model, name=ns.name,
                             sensitive=ns.sensitive, queue=ns.queue)
    if not ns.inline:
        print(f"✓ queued job {job_id}: {cfg.method} fine-tune on dataset {ns.dataset_id}")
        return 0
    print(f"job {job_id}: {cfg.method} fine-tune on dataset {ns.dataset_id}, here", flush=True)
    stop = threading.Event()
    watcher = threading.Thread(target=_watch, args=(lab, job_id, stop), daemon=True)
    watcher.start()
    try:
        job = run_inline(lab, job_id)
    finally:
        stop.set()
        watcher.join(timeout=10)
    if job.status != "succeeded":
        print(f"✗ job {job_id} {job.status}: {job.error or job.message}")
        return 1
    res = job.result
    print(f"✓ model {res['model_id']}: {res['steps']} steps, loss {_fmt(res['first_loss'])} → "
          f"{_fmt(res['final_loss'])} (validation {_fmt(res['final_val_loss'])}), "
          f"{res['job_seconds']:.0f} s, {res['format']}")
    return 0


# --- the registry -----------------------------------------------------------------------------------------
@command("models-list", "List trained models with their method, dataset, steps and final loss.")
def models_list(ns, lab) -> int:
    from backend.finetune.registry import list_models

    models = list_models(lab)
    if not models:
        print("No trained models yet: train one with the finetune command.")
    for m in models:
        lineage = m.lineage()
        print(f"{m.id:>5}  {m.name:<32} {m.status:<9} {m.method:<8} "
              f"dataset {m.dataset.get('name', m.dataset_id)!s:<28} steps {m.steps or 0:>5}  "
              f"loss {_fmt(lineage['final_train_loss'])}  val {_fmt(lineage['final_val_loss'])}"
              f"  guard {m.guard.get('decision', '-')}")
    return 0


@command("model-download", "Write a trained model as a ZIP (PEFT adapter, or model weights).",
         lambda p: (p.add_argument("model_id", type=int),
                    p.add_argument("--out", default=None, help="default: <name>-model-<id>.zip"),
                    p.add_argument("--merged", action="store_true",
                                   help="partial models: a complete model folder")))
def model_download(ns, lab) -> int:
    import re

    from backend.finetune.registry import download_zip, get_model

    tm = get_model(lab, ns.model_id)
    data = download_zip(lab, tm.id, merged=ns.merged)
    slug = re.sub(r"[^A-Za-z0-9]+", "-", tm.name).strip("-").lower() or "model"
    out = Path(ns.out or f"{slug}-model-{tm.id}.zip").expanduser()
    out.write_bytes(data)
    print(f"✓ wrote {out} ({len(data) / 2**20:.1f} MB, {tm.artifact_format})")
    return 0
