"""The Fine-tune page in AppTest against the real test database and the real bundled models: the
empty state; a page with real data (an ingested corpus, a question set, a dataset and a model
trained for a few steps through the backend) showing the set, an example's question, the estimate,
the run's curves and the model's lineage; question sets uploaded and generated and a dataset built
through the page; launching a run enqueues a ``finetune`` job; the sensitive-data choice. Plus the
page's pure helpers (records round trip, the form's fields, loss points and figure)."""

from __future__ import annotations

import re

import pytest

from backend.finetune.config import describe
from tests.ui.conftest import open_page, tree_text
from ui.i18n import CATALOGUES, translate

PAGE = "pages/finetune.py"
HANDBOOK = (b"# Returns\n\nThe Altura 2 tent can be returned within 45 days of purchase for a full "
            b"refund. Refunds are paid to the original card within five working days.\n\n"
            b"# Care\n\nThe Altura 2 tent is a three-season shelter for two people. Clean the tent "
            b"with lukewarm water and mild soap, and never machine-wash it.\n\n# Warranty\n\n"
            b"The Nortera warranty covers seams and zips for 24 months from the date of purchase. "
            b"Poles broken by wind are replaced free of charge during the first year.\n")
QUESTIONS_CSV = ("question,reference,tags\n"
                 "How long is the return period for the Altura 2?,45 days from purchase.,\n"
                 "How long does the warranty cover seams?,24 months.,\n"
                 "Can I machine-wash the tent?,\"No, clean it with lukewarm water.\",\n"
                 "Who designed the logo?,,unanswerable\n"
                 "When are refunds paid?,Within five working days.,\n").encode()
QA = [("How many days do I have to return the Altura 2 tent?", "45 days from purchase."),
      ("How long does the Nortera warranty cover seams and zips?", "24 months."),
      ("How do I clean the Altura 2 tent?", "With lukewarm water and mild soap."),
      ("What happens to poles broken by wind in the first year?", "They are replaced free."),
      ("How many people does the Altura 2 sleep?", "Two people."),
      ("When are refunds paid?", "Within five working days.")]


pytestmark = pytest.mark.usefixtures("one_thread")  # torch on one thread (tests/conftest.py)


def en(key: str, **fmt) -> str:
    return translate("en", key, **fmt)


def problems(at) -> list:
    return [e.value for e in at.exception] + [e.value for e in at.error]


def plain(text: str) -> str:
    """Markdown text as a reader sees it (escapes removed)."""
    return re.sub(r"\\(\S)", r"\1", text)


def shown(at) -> str:
    """The page's Markdown, captions and alerts as a reader sees them."""
    return plain("\n".join(e.value for e in [*at.markdown, *at.caption, *at.info, *at.warning,
                                               *at.success, *at.error]))


@pytest.fixture
def corpus(app_env, lab):
    """An English corpus with one ingested Markdown document (the real embedding model)."""
    from backend.corpus import store
    from backend.corpus.ingest import ingest

    made = store.create_corpus(lab, "Nortera handbook", "en")
    assert ingest(lab, made.id, [("handbook.md", HANDBOOK)]).count("added") == 1
    return store.get_corpus(lab, made.id)


@pytest.fixture
def dataset(lab, corpus):
    """A question set (two held out) and the question-answer dataset of its train part."""
    from backend.finetune import datasets, questions
    from backend.finetune.question_io import QuestionRow

    qs = questions.create_set(lab, corpus.id, "tent facts", [QuestionRow(q, a) for q, a in QA],
                              held_out_fraction=0.34, seed=1)
    return qs, datasets.build_dataset(lab, "qa_pairs", corpus.id, question_set_id=qs.id,
                                      name="tent pairs")


# --- pure helpers ------------------------------------------------------------------------------------
def test_every_form_field_has_a_label_and_help_in_both_languages():
    from ui.finetune_form import fields_for

    for lang, catalogue in CATALOGUES.items():
        for item in describe():
            assert f"finetune.field.{item['name']}" in catalogue, (lang, item["name"])
            assert f"finetune.help.{item['name']}" in catalogue, (lang, item["name"])
        assert not [k for k, v in catalogue.items() if k.startswith("finetune.")
                    and lang == "es" and re.search(r"fine[- ]?tun", v, re.I)]
    assert CATALOGUES["en"]["finetune.help.lora_r"] == next(
        i["help"] for i in describe() if i["name"] == "lora_r")  # English help is the metadata's
    assert {i["name"] for i in fields_for("adapter")} >= {"lora_r", "target_modules", "epochs"}
    assert not {"lora_r", "top_n_layers", "method"} & {i["name"] for i in fields_for("full")}
    assert {"top_n_layers", "train_head"} <= {i["name"] for i in fields_for("partial")}


def test_form_values_become_a_validated_config():
    from backend.errors import InputError
    from ui.finetune_form import config_from_values, human_count

    cfg = config_from_values("adapter", {"lora_r": 4, "target_modules": "q_proj, v_proj",
                                         "top_n_layers": 99, "epochs": 1})
    assert (cfg.method, cfg.lora_r, cfg.target_modules, cfg.top_n_layers) == (
        "adapter", 4, ("q_proj", "v_proj"), 4)  # another method's field keeps its default
    assert cfg.learning_rate == 5e-4  # 0 = the method's usual rate
    with pytest.raises(InputError, match="batch_size"):
        config_from_values("full", {"batch_size": 0})
    assert [human_count(n) for n in (812, 46_080, 1_843_200, 134_515_008)] == [
        "812", "46.1 k", "1.84 M", "134.5 M"]


def test_question_rows_round_trip_through_the_editor_records():
    from backend.finetune.question_io import QuestionRow
    from ui.finetune_sets import records_to_rows, rows_to_records

    rows = [QuestionRow("Q one?", "A one.", ["ctx a", "ctx b"], ["unanswerable", "x"], "held_out"),
            QuestionRow("Q two?", "", [], [], None)]
    records = rows_to_records(rows)
    assert records[0]["reference_contexts"] == "ctx a || ctx b" and records[1]["part"] == ""
    back = records_to_rows(records + [{"question": None, "reference": None}])  # an empty new line
    assert [(r.question, r.reference, r.reference_contexts, r.tags, r.part) for r in back] == [
        ("Q one?", "A one.", ["ctx a", "ctx b"], ["unanswerable", "x"], "held_out"),
        ("Q two?", "", [], [], None)]


def test_loss_points_keep_the_latest_attempt_and_the_figure_is_orange():
    from ui.finetune_charts import (TRAIN_COLOUR, VALIDATION_COLOUR, loss_figure,
                                    points_from_curves, points_from_events)
    from ui.palette import FINETUNED

    events = [{"step": 2, "metrics": {"loss": 3.0}}, {"step": 4, "metrics": {"loss": 2.5}},
              {"step": 4, "metrics": {"val_loss": 2.9}}, {"step": 4, "metrics": None},
              {"step": 4, "metrics": {"loss": 2.4}},  # the resumed attempt reports step 4 again
              {"step": 6, "metrics": {"loss": float("nan")}}]
    points = points_from_events(events)
    assert points == [{"series": "train", "step": 2.0, "loss": 3.0},
                      {"series": "train", "step": 4.0, "loss": 2.4},
                      {"series": "validation", "step": 4.0, "loss": 2.9}]
    assert points_from_curves([[1, 2.0]], None) == [{"series": "train", "step": 1.0, "loss": 2.0}]
    fig = loss_figure(points, train_label="Training", validation_label="Validation",
                      x_label="Step", y_label="Loss")
    assert [tr.name for tr in fig.data] == ["Training", "Validation"]
    assert TRAIN_COLOUR == FINETUNED and fig.data[0].line.color == FINETUNED
    assert fig.data[1].line.color == VALIDATION_COLOUR != FINETUNED


# --- the page ------------------------------------------------------------------------------------------
def test_empty_state_says_what_to_do_next(app_env, new_app):
    at = open_page(new_app, PAGE)
    assert not problems(at)
    assert at.title[0].value == en("finetune.title")
    assert [i.value for i in at.info] == [en("finetune.empty.no_corpus")]
    assert en("finetune.open_corpora") in tree_text(at)  # the link to the Corpora page


def test_page_with_data_shows_sets_examples_estimate_runs_and_lineage(app_env, lab, dataset,
                                                                      new_app):
    from backend.finetune.config import FinetuneConfig
    from backend.finetune.jobs import submit_finetune
    from backend.finetune.registry import list_models
    from backend.jobs.runner import run_inline

    qs, ds = dataset
    cfg = FinetuneConfig(method="adapter", max_steps=3, epochs=10, batch_size=2, max_length=64,
                         val_fraction=0.25, eval_every=2, log_every=1, checkpoint_every=0,
                         learning_rate=2e-3)
    job = run_inline(lab, submit_finetune(lab, ds.id, cfg, name="tent adapter"))
    assert job.status == "succeeded", job.error
    model = list_models(lab)[0]

    at = open_page(new_app, PAGE)
    assert not problems(at)
    text, reader = tree_text(at), shown(at)
    # question sets: the set with its split sizes
    sets = at.dataframe[0].value
    assert sets["name"].tolist() == ["tent facts"] and sets["held_out"].tolist() == [2]
    assert sets["train"].tolist() == [4]
    # training data: an example's question as the model is taught it, and the leak check
    train_question = next(r.question for r in qs.rows if r.part == "train")
    assert train_question in reader
    assert en("finetune.checks.clean") in reader
    # the form (adapter by default) and the estimate beside it
    assert at.number_input(key="finetune.cfg.lora_r").value == 8
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[en("finetune.estimate.trainable")].endswith(" k")  # LoRA: thousands, not millions
    assert en("finetune.estimate.memory") in metrics
    assert "What really trains: New LoRA matrices of rank 8" in reader
    # runs: the finished run, its curves (plotly) and its lineage
    assert "tent adapter" in text and en("job.status.succeeded") in text
    assert at.get("plotly_chart")
    # the registry: method and lineage from the test data
    assert en("finetune.method.adapter") in reader
    assert f"**{en('finetune.lineage.base')}**: {model.base_model} ({model.base_model_id})" in reader
    assert "lora_r = 8" in reader and "max_steps = 3" in reader
    assert en("finetune.lineage.dataset_value", name="tent pairs",
              builder=en("finetune.builder.qa_pairs"), n=4) in reader
    assert en("finetune.lineage.corpus_value", name="Nortera handbook", version=1) in reader
    assert f"**{en('finetune.lineage.steps')}**: 3" in reader
    assert f"{model.train_loss[-1][1]:.3f}" in reader
    assert at.get("download_button")

    # partial fine-tuning: its own settings and what really trains
    at.radio(key="finetune.method.en").set_value("partial").run()
    assert not problems(at)
    assert at.number_input(key="finetune.cfg.top_n_layers").value == 4
    assert "The top 4 of 30 decoder layers" in shown(at)

    # the same page in Spanish, the choices kept
    from ui.state import LANG_KEY

    at.sidebar.radio(key=LANG_KEY).set_value("es").run()
    assert not problems(at)
    assert at.title[0].value == translate("es", "finetune.title")
    assert translate("es", "finetune.method.adapter") in shown(at)  # the registry's lineage
    assert at.radio(key="finetune.method.es").value == "partial"
    # translated pickers are new widgets per language, starting on the same choice
    assert at.selectbox(key="finetune.set.es").value == qs.id
    assert at.selectbox(key="finetune.set.es").options == [
        translate("es", "finetune.set.label", name="tent facts", version=1, n=6)]


def test_upload_generate_and_build_through_the_page(app_env, lab, corpus, new_app):
    from backend.finetune.datasets import dataset_examples, list_datasets
    from backend.finetune.questions import get_set, list_sets

    at = open_page(new_app, PAGE)
    assert en("finetune.sets.empty") in [i.value for i in at.info]
    at.file_uploader(key="finetune.upload.file.0").set_value(
        [("faq.csv", QUESTIONS_CSV, "text/csv")]).run()
    assert not problems(at)
    assert en("finetune.upload.parsed", n=5, name="faq.csv") in shown(at)
    at.text_input(key="finetune.upload.name").input("FAQ")
    at.button(key="finetune.upload.save").click().run()
    assert not problems(at)
    (faq,) = list_sets(lab, corpus.id)
    faq = get_set(lab, faq.id)
    assert (faq.name, faq.source, faq.n_questions, faq.n_held_out) == ("FAQ", "upload", 5, 1)
    assert [r.tags for r in faq.rows if r.tags] == [["unanswerable"]]
    assert en("finetune.set.saved", name="FAQ", version=1, n=5, held_out=1) in shown(at)

    at.number_input(key="finetune.generate.n").set_value(3)
    at.button(key="finetune.generate.submit").click().run()
    assert not problems(at)
    generated = next(s for s in list_sets(lab, corpus.id) if s.source == "extractive")
    assert 1 <= generated.n_questions <= 3 and generated.generator["generator"] == "extractive"
    assert en("finetune.set.extractive_note") in shown(at)  # the new set is selected and labelled

    at.selectbox(key="finetune.build.set.en").set_value(faq.id)
    at.button(key="finetune.build.submit").click().run()
    assert not problems(at)
    (ds,) = list_datasets(lab, corpus.id)
    assert ds.builder == "qa_pairs" and ds.question_set_id == faq.id
    first = dataset_examples(lab, ds.id, limit=1)[0]["messages"][0]["content"]
    assert first in shown(at)
    assert at.selectbox(key="finetune.train.dataset.en").value == ds.id


def test_launch_enqueues_a_finetune_job_then_cancel_and_resume(app_env, lab, dataset, new_app):
    from backend.jobs.service import get_job, list_jobs

    _, ds = dataset
    at = open_page(new_app, PAGE)
    at.number_input(key="finetune.cfg.max_steps").set_value(2)
    at.number_input(key="finetune.cfg.lora_r").set_value(4)
    at.button(key="finetune.estimate").click().run()
    assert not problems(at)
    assert "rank 4" in shown(at)  # the estimate follows the submitted values
    assert not list_jobs(lab, kind="finetune")

    at.text_input(key="finetune.run_name").input("quick lora")
    at.button(key="finetune.launch").click().run()
    assert not problems(at)
    (job,) = list_jobs(lab, kind="finetune")
    assert job.status == "queued" and job.params["dataset_id"] == ds.id
    assert job.params["config"]["max_steps"] == 2 and job.params["config"]["lora_r"] == 4
    assert job.params["name"] == "quick lora" and job.params["sensitive"] == "refuse"
    assert at.selectbox(key="finetune.run").value == job.id
    assert en("finetune.runs.no_worker") in [w.value for w in at.warning]

    # cancel it from its progress panel, then resume it: queued again, the same job
    from ui.state import JOB_CANCEL_PREFIX

    at.button(key=f"{JOB_CANCEL_PREFIX}{job.id}").click().run()
    assert not problems(at)
    assert get_job(lab, job.id).status == "cancelled"
    at.button(key=f"finetune.resume.{job.id}").click().run()
    assert not problems(at)
    again = get_job(lab, job.id)
    assert again.status == "queued" and again.attempts == job.attempts + 1


def test_sensitive_data_must_be_redacted_or_acknowledged_before_launch(app_env, lab, new_app):
    from backend.corpus import store
    from backend.corpus.ingest import ingest
    from backend.finetune.datasets import build_dataset
    from backend.jobs.service import list_jobs

    corpus = store.create_corpus(lab, "Contacts", "en")
    ingest(lab, corpus.id, [("contacts.md", b"# Refunds\n\nFor refunds write to "
                            b"ana.perez@example.com; the desk answers within two working days.\n")])
    build_dataset(lab, "continued_pretraining", corpus.id, name="contacts text")
    at = open_page(new_app, PAGE)
    assert not problems(at)
    warning = next(plain(w.value) for w in at.warning if "contacts.md" in plain(w.value))
    assert "1 e-mail address" in warning
    assert at.radio(key="finetune.sensitive.en").value == "refuse"
    at.button(key="finetune.launch").click().run()
    assert en("finetune.launch.guard_refused") in [w.value for w in at.warning]
    assert not list_jobs(lab, kind="finetune")

    at.radio(key="finetune.sensitive.en").set_value("redact")
    at.button(key="finetune.launch").click().run()
    assert not problems(at)
    (job,) = list_jobs(lab, kind="finetune")
    assert job.params["sensitive"] == "redact"
