"""Fine-tuning benchmark: the figures the fine-tuning issue sets targets for, on this machine.

Data: 200 chat-formatted question-answer pairs, a seeded sample of the COVID-QA questions with
their answer spans (``../shared/data/covid_qa``); without ``../shared`` the demo corpus's questions
(English and Spanish, repeated to 200) stand in, and the report says so. Measured, in order:

 1. dynamic padding with length grouping (the trainer's own batching: ``epoch_batches`` +
    ``collate``) against padding every example to 256 tokens, in the same process on the same
    batches, alternating rounds so that other work on the machine weighs on both alike: real
    (unpadded) tokens per second, target >= 3x;
 2. a LoRA run of 2 epochs on the 200 pairs with the bundled SmolLM2-135M, as a whole job
    (``submit_finetune`` + ``run_inline``: checks, load, train, validation, checkpoints, save,
    registry) in a subprocess that reports its own peak resident memory (``VmHWM``); targets
    under 120 s and under 1.5 GB. Then the same job once more loading the float32 folder as bf16 (the
    lab before its bf16 copy of the model) for the before/after memory figure;
 3. seconds per optimiser step for full, partial (top 4 layers) and adapter (LoRA r=8) on one
    and the same batch of 4, in each method's own precision (``precision_plan``).

Run apart from the tests: ``.venv/bin/python bench/finetune_bench.py`` (``--skip-before`` leaves
out the second job; ``LAB_BENCH_THREADS`` sets torch threads, default the worker's own limit,
``worker_threads``: fine-tunes run in a worker, which keeps one core for the interface).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common

PAIRS = 200
PAD_TO = 256
LORA = dict(method="adapter", epochs=2)  # every other setting at the lab's default


def qa_pairs(n: int = PAIRS, seed: int = 0) -> tuple[list[tuple[str, str]], str]:
    """``n`` (question, answer) pairs and where they come from."""
    path = common.SHARED_DATA / "covid_qa" / "200423_covidQA.json"
    if path.is_file():
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
        pairs = {q["question"].strip(): q["answers"][0]["text"].strip()
                 for article in doc["data"] for p in article["paragraphs"] for q in p["qas"]
                 if q.get("answers") and q["answers"][0]["text"].strip()}
        chosen = sorted(pairs.items())
        random.Random(seed).shuffle(chosen)
        return chosen[:n], f"COVID-QA questions with their answer spans ({path.parent})"
    demo = Path(common.ROOT) / "backend" / "demo" / "content"
    rows = [json.loads(line) for name in ("questions_en.jsonl", "questions_es.jsonl")
            for line in (demo / name).read_text().splitlines() if line.strip()]
    rows = [(r["question"], r["reference"]) for r in rows if r.get("reference")]
    print(f"NOTE: {common.SHARED_DATA} is not here; the {len(rows)} demo questions stand in, "
          f"repeated to {n} (each repeat marked, so questions stay distinct).")
    return [(f"{q} ({i // len(rows) + 1})" if i >= len(rows) else q, a)
            for i, (q, a) in enumerate(rows * (n // len(rows) + 1))][:n], "the demo questions"


def chat(pairs) -> list[dict]:
    return [{"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]}
            for q, a in pairs]


def load_average() -> str:
    return "{:.1f} / {:.1f} / {:.1f}".format(*os.getloadavg())


# --- 1. dynamic padding ---------------------------------------------------------------------------
def pad_to_fixed(width: int):
    """``collate`` that pads every batch to ``width`` tokens (the baseline)."""
    from backend.finetune.batches import IGNORE, collate

    def fixed(items, pad_id):
        import torch

        batch = collate(items, pad_id)
        extra = width - batch["input_ids"].shape[1]
        if extra > 0:
            pad = {"input_ids": pad_id, "attention_mask": 0, "labels": IGNORE}
            batch = {k: torch.nn.functional.pad(v, (0, extra), value=pad[k]) for k, v in batch.items()}
        return batch
    return fixed


def bench_padding(lab, examples, rounds: int = 3, steps: int = 8) -> bool:
    from unittest import mock

    from backend.finetune import trainer as trainer_module
    from backend.finetune.batches import encode_all
    from backend.finetune.config import FinetuneConfig
    from backend.finetune.jobs import precision_plan
    from backend.finetune.methods import get_method
    from backend.finetune.trainer import Trainer
    from backend.models.hardware import pick_device
    from backend.models.registry import load_causal_lm

    print(f"\n-- 1. dynamic padding + length grouping vs padding to {PAD_TO} "
          f"({rounds} alternating rounds of {steps} LoRA steps each)")
    device = pick_device(lab.settings)
    cfg = FinetuneConfig(**LORA, max_length=PAD_TO, val_fraction=0.0, eval_every=0,
                         checkpoint_every=0, log_every=1000, max_steps=steps)
    dtype, autocast = precision_plan(cfg, lab.settings, device)
    model, tokenizer = load_causal_lm(lab.settings.llm_model, lab.settings, dtype=dtype, device=device)
    model = get_method("adapter").prepare(model, cfg)
    encoded, dropped = encode_all(examples, tokenizer, PAD_TO)
    lengths = [len(e.input_ids) for e in encoded]
    common.info("examples / mean tokens / longest / dropped",
                f"{len(encoded)} / {statistics.mean(lengths):.1f} / {max(lengths)} / {dropped}")
    totals = {"dynamic": [0, 0.0, 0], f"pad-{PAD_TO}": [0, 0.0, 0]}
    for r in range(rounds):
        # the same seed in both arms of a round: the same batches, only the padding differs
        run_cfg = FinetuneConfig.from_dict({**cfg.as_dict(), "seed": r})
        for arm in totals:
            fixed = pad_to_fixed(PAD_TO) if arm != "dynamic" else trainer_module.collate
            padded = []

            def counting(items, pad_id, _collate=fixed):
                batch = _collate(items, pad_id)
                padded.append(batch["input_ids"].numel())
                return batch
            with mock.patch.object(trainer_module, "collate", counting):
                result = Trainer(model, tokenizer, run_cfg, encoded, [], device=device,
                                 autocast_bf16=autocast).run()
            totals[arm][0] += result.tokens
            totals[arm][1] += result.seconds
            totals[arm][2] += sum(padded)
    rates = {}
    for arm, (tokens, seconds, padded) in totals.items():
        rates[arm] = tokens / seconds
        common.info(f"{arm}: real tokens/s (padded tokens/s)",
                    f"{rates[arm]:8.1f}   ({padded / seconds:.1f}; {tokens} real of {padded} "
                    f"tokens in {seconds:.1f} s)")
    common.info("load average (1 / 5 / 15 min)", load_average())
    return common.check("real tokens/s, dynamic / padded to 256", rates["dynamic"] / rates[f"pad-{PAD_TO}"],
                        3.0, unit="x", digits=2)


# --- 2. the LoRA job ------------------------------------------------------------------------------
def make_dataset(lab, pairs) -> int:
    from backend.finetune import datasets, questions
    from backend.finetune.question_io import QuestionRow

    corpus = common.fresh_corpus(lab, "bench-finetune")
    qs = questions.create_set(lab, corpus.id, "bench pairs",
                              [QuestionRow(q, a, part="train") for q, a in pairs])
    return datasets.build_dataset(lab, "qa_pairs", corpus.id, question_set_id=qs.id).id


def worker_threads() -> int:
    """Torch threads as a worker runs a fine-tune (``worker_threads``), unless overridden."""
    from backend import config

    return common.threads(config.build().worker_threads)


def run_job_child(dataset_id: int, without_copy: bool) -> None:
    """In the subprocess: the whole job, then its result as one JSON line."""
    worker_threads()
    from backend.finetune import registry
    from backend.finetune.jobs import submit_finetune
    from backend.jobs.runner import run_inline

    if without_copy:  # the lab before the bf16 copy: bf16 loads read the float32 folder
        from backend.models import registry as models_registry

        models_registry.bundled_smollm2_bf16_dir = models_registry.bundled_smollm2_dir
    lab = common.open_bench_lab()
    job_id = submit_finetune(lab, dataset_id, dict(LORA), name="bench LoRA", sensitive="redact")
    job = run_inline(lab, job_id)
    result = dict(job.result or {}, status=job.status, error=job.error, peak_mb=peak_rss_mb())
    if job.result:
        registry.delete_model(lab, job.result["model_id"])
    print("RESULT " + json.dumps(result))


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB: ``VmHWM``, the high-water mark of its own
    address space. (``ru_maxrss`` will not do for a subprocess: Linux carries the parent's
    resident size at the time of the fork into the child's ``ru_maxrss``.)"""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def job_in_subprocess(dataset_id: int, *, without_copy: bool = False) -> dict:
    """Run the job in a fresh Python process; its result, wall time and peak RSS (MB)."""
    args = [sys.executable, __file__, "--child-job", str(dataset_id)]
    if without_copy:
        args.append("--without-bf16-copy")
    began = time.perf_counter()
    with tempfile.TemporaryFile("w+") as errors:  # a file, not a pipe: no deadlock on long logs
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=errors, text=True)
        out = proc.stdout.read()
        status = proc.wait()
        wall = time.perf_counter() - began
        line = next((x for x in out.splitlines() if x.startswith("RESULT ")), None)
        if status != 0 or line is None:
            errors.seek(0)
            raise SystemExit(f"the job subprocess failed (status {status}):\n{out[-1000:]}\n"
                             f"{errors.read()[-3000:]}")
    return {**json.loads(line[len("RESULT "):]), "wall_s": wall}


def bench_lora_job(lab, dataset_id: int, skip_before: bool) -> list[bool]:
    print(f"\n-- 2. LoRA job: {PAIRS} pairs, 2 epochs, bundled SmolLM2-135M, whole job in a subprocess")
    now = job_in_subprocess(dataset_id)
    if now["status"] != "succeeded":
        raise SystemExit(f"the LoRA job did not succeed: {now['error']}")
    common.info("steps / trainable params / tokens per s",
                f"{now['steps']} / {now['trainable_params']:,} / {now['tokens_per_s']}")
    common.info("loss first -> last (validation)",
                f"{now['first_loss']} -> {now['final_loss']} ({now['final_val_loss']})")
    common.info("train s / subprocess wall s (with imports)",
                f"{now['train_seconds']:.1f} / {now['wall_s']:.1f}")
    common.info("load average (1 / 5 / 15 min)", load_average())
    ok = [common.check("whole job (checks, load, train, save), s", now["job_seconds"], 120,
                       higher_is_better=False, digits=1),
          common.check("peak memory of the job's process, MB", now["peak_mb"], 1500,
                       higher_is_better=False, digits=0)]
    if not skip_before:
        before = job_in_subprocess(dataset_id, without_copy=True)
        common.info("before (bf16 load from the float32 folder): peak MB",
                    f"{before['peak_mb']:.0f} (job {before['job_seconds']:.1f} s)")
        common.info("after (bf16 load from the bf16 copy): peak MB",
                    f"{now['peak_mb']:.0f} (saves {before['peak_mb'] - now['peak_mb']:.0f} MB)")
    return ok


# --- 3. seconds per step ---------------------------------------------------------------------------
def bench_step_times(lab, examples, steps: int = 5) -> None:
    import gc

    import torch

    from backend.finetune.batches import collate, encode_all, epoch_batches
    from backend.finetune.config import FinetuneConfig
    from backend.finetune.jobs import precision_plan
    from backend.finetune.methods import get_method, trainable_parameters
    from backend.models.hardware import pick_device
    from backend.models.registry import load_causal_lm

    print(f"\n-- 3. seconds per optimiser step on one batch of 4 (1 warm-up + {steps} timed)")
    device = pick_device(lab.settings)
    batch = None
    for method in ("full", "partial", "adapter"):
        cfg = FinetuneConfig(method=method)
        dtype, autocast = precision_plan(cfg, lab.settings, device)
        model, tokenizer = load_causal_lm(lab.settings.llm_model, lab.settings, dtype=dtype, device=device)
        trainable = trainable_parameters(model, cfg).trainable
        model = get_method(method).prepare(model, cfg).train()
        if batch is None:  # the first batch the trainer would take: the same for every method
            encoded, _ = encode_all(examples, tokenizer, cfg.max_length)
            first = epoch_batches([len(e.input_ids) for e in encoded], cfg.batch_size, cfg.seed, 0)[0]
            pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
            batch = collate([encoded[i] for i in first], pad)
            common.info("batch shape (examples x tokens)", "x".join(map(str, batch["input_ids"].shape)))
        params = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(params, lr=cfg.learning_rate)
        times = []
        for n in range(steps + 1):
            started = time.perf_counter()
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
                loss = model(**{k: v.to(device) for k, v in batch.items()}).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            if n:
                times.append(time.perf_counter() - started)
        precision = f"{str(dtype).removeprefix('torch.')}{' + bf16 autocast' if autocast else ''}"
        common.info(f"{method} ({trainable:,} trainable, {precision})",
                    f"{statistics.median(times):.3f} s/step (min {min(times):.3f}, max {max(times):.3f})")
        del model, optimizer, params, loss
        gc.collect()
    common.info("load average (1 / 5 / 15 min)", load_average())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--child-job", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--without-bf16-copy", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--skip-before", action="store_true",
                        help="leave out the second job (the before/after memory figure)")
    parser.add_argument("--only", default="padding,job,steps",
                        help="comma-separated parts to run: padding, job, steps")
    args = parser.parse_args()
    if args.child_job is not None:
        run_job_child(args.child_job, args.without_bf16_copy)
        return
    parts = set(args.only.split(","))
    common.header("Fine-tuning benchmark")
    threads = worker_threads()
    pairs, origin = qa_pairs()
    common.info("data", f"{len(pairs)} pairs: {origin}")
    common.info("torch threads (as a worker: worker_threads)", str(threads))
    lab = common.open_bench_lab()
    examples = chat(pairs)
    results = []
    if "padding" in parts:
        results.append(bench_padding(lab, examples))
    if "job" in parts:
        results += bench_lora_job(lab, make_dataset(lab, pairs), args.skip_before)
    if "steps" in parts:
        bench_step_times(lab, examples)
    print(f"\n{sum(results)} of {len(results)} targets met; load average at the end {load_average()}")


if __name__ == "__main__":
    main()
