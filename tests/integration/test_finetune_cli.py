"""The fine-tuning commands of ``./lab cli`` against a real database and the real bundled model:
question sets uploaded, generated, listed and exported; a dataset built; a run queued with options
generated from the configuration; a run trained inline with progress lines; the model listed and
downloaded as a PEFT folder; and errors said in one line with exit status 2."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile

import pytest
from psycopg.types.json import Jsonb

from backend.cli import main

pytestmark = pytest.mark.usefixtures("one_thread")  # one torch thread

TEXT = ("The Altura 2 tent can be returned within 45 days of purchase for a full refund. "
        "The Nortera warranty covers seams and zips for 24 months from the date of purchase. "
        "Clean the Altura 2 tent with lukewarm water and mild soap, never in a machine.")
QUESTIONS = [("How long is the return period?", "45 days."),
             ("How long is the warranty on seams?", "24 months."),
             ("How do I clean the tent?", "With lukewarm water and mild soap."),
             ("Can the tent go in the washing machine?", "No."),
             ("Who designed the logo?", "")]


@pytest.fixture
def cli(lab_env, monkeypatch, capsys):
    """Run ``./lab cli <args>`` in this process against the test database: (status, out, err)."""
    for name, value in lab_env.items():
        monkeypatch.setenv(name, value)

    def run(*args: str) -> tuple[int, str, str]:
        status = main([str(a) for a in args])
        out = capsys.readouterr()
        return status, out.out, out.err

    return run


@pytest.fixture
def corpus_id(lab) -> str:
    from backend.corpus import store

    corpus = store.create_corpus(lab, "handbook", "en")
    lab.db.execute("INSERT INTO documents (corpus_id, name, kind, sha256, status, char_count,"
                   " sections) VALUES (%s, 'handbook.txt', 'txt', %s, 'ready', %s, %s)",
                   (corpus.id, hashlib.sha256(TEXT.encode()).hexdigest(), len(TEXT),
                    Jsonb([{"text": TEXT, "page": None, "section": None}])))
    return corpus.id


def _id(line_start: str, out: str) -> int:
    return int(out.split(line_start, 1)[1].split(":", 1)[0])


def test_question_sets_and_datasets_from_the_command_line(cli, lab, corpus_id, tmp_path):
    path = tmp_path / "faq.csv"
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["question", "reference", "tags"])
        writer.writerows([q, a, "" if a else "unanswerable"] for q, a in QUESTIONS)
    status, out, _ = cli("qset-upload", "handbook", path, "--held-out", "0.2", "--seed", "3")
    assert status == 0 and "faq v1, 5 questions (4 train, 1 held out)" in out
    faq_id = _id("question set ", out)

    status, out, _ = cli("qset-generate", "handbook", "--name", "auto", "--n", "2")
    assert status == 0 and "auto v1" in out and "Extractive (no model)" in out
    row = lab.db.fetchone("SELECT source, n_questions FROM question_sets WHERE name = 'auto'")
    assert row["source"] == "extractive" and 1 <= row["n_questions"] <= 2

    status, out, _ = cli("qset-list", "handbook")
    lines = [line for line in out.splitlines() if line.strip()]
    assert status == 0 and len(lines) == 2 and any("faq" in x and "upload" in x for x in lines)

    target = tmp_path / "faq.jsonl"
    status, _, err = cli("qset-export", faq_id, "--format", "ragas", "--out", target)
    records = [json.loads(line) for line in target.read_text().splitlines()]
    assert status == 0 and "wrote" in err
    assert [r["user_input"] for r in records] == [q for q, _ in QUESTIONS]
    status, out, _ = cli("qset-export", faq_id, "--format", "csv")
    assert status == 0 and list(csv.DictReader(io.StringIO(out)))[4]["tags"] == "unanswerable"

    status, out, _ = cli("dataset-build", "handbook", "--builder", "qa_pairs", "--question-set",
                         faq_id, "--name", "faq pairs")
    assert status == 0 and "faq pairs" in out and "held-out" not in out
    n = lab.db.fetchone("SELECT n_examples FROM training_datasets WHERE name = 'faq pairs'")
    assert n["n_examples"] == 4  # the train part only: the held-out question is not in it


def test_finetune_queued_then_inline_then_listed_and_downloaded(cli, lab, corpus_id, tmp_path):
    from backend.finetune import datasets, questions
    from backend.finetune.question_io import QuestionRow

    qs = questions.create_set(lab, corpus_id, "faq", [QuestionRow(q, a) for q, a in QUESTIONS[:4]],
                              held_out_fraction=0.0)
    ds = datasets.build_dataset(lab, "qa_pairs", corpus_id, question_set_id=qs.id)

    status, out, _ = cli("finetune", ds.id, "--lora-r", "4", "--target-modules", "q_proj,v_proj",
                         "--max-steps", "2", "--name", "queued run")
    assert status == 0 and "queued job" in out
    job = lab.db.fetchone("SELECT status, params FROM jobs WHERE kind = 'finetune'")
    assert job["status"] == "queued" and job["params"]["name"] == "queued run"
    assert job["params"]["config"]["lora_r"] == 4
    assert job["params"]["config"]["target_modules"] == ["q_proj", "v_proj"]

    status, out, _ = cli("finetune", ds.id, "--max-steps", "3", "--batch-size", "2",
                         "--max-length", "64", "--log-every", "1", "--val-fraction", "0",
                         "--learning-rate", "0.002", "--name", "cli lora", "--inline")
    assert status == 0, out
    progress = out.split("here\n", 1)[1].split("✓ model")[0]  # the lines printed while it ran
    assert progress.startswith("  ") and "loss " in progress and "tok/s" in progress
    assert "✓ model" in out and "3 steps" in out and "peft-adapter" in out
    model_id = _id("✓ model ", out)

    status, out, _ = cli("models-list")
    assert status == 0 and "cli lora" in out and "ready" in out and "adapter" in out
    target = tmp_path / "model.zip"
    status, out, _ = cli("model-download", model_id, "--out", target)
    assert status == 0 and "peft-adapter" in out
    names = set(zipfile.ZipFile(target).namelist())
    assert {"adapter_config.json", "adapter_model.safetensors", "lab_lineage.json"} <= names


def test_errors_are_one_line_with_status_2(cli, lab, corpus_id):
    status, _, err = cli("finetune", "999", "--max-steps", "1")
    assert status == 2 and err.startswith("✗") and "999" in err and "Traceback" not in err
    status, _, err = cli("finetune", "1", "--batch-size", "0")
    assert status == 2 and "batch_size" in err
    status, _, err = cli("qset-upload", "no such corpus", __file__)
    assert status == 2 and "no such corpus" in err
