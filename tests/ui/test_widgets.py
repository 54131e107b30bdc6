"""Shared widgets: error messages and the job progress panel (real job rows in the test DB)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.ui.conftest import tree_text


# --- errors --------------------------------------------------------------------------------------
def _guarded_value_error():
    from ui.errors import guard

    with guard():
        raise ValueError("internal detail the user must not see")


def _shown_lab_error():
    import streamlit as st

    from backend.errors import DatabaseUnavailable, InputError
    from backend.messages import msg
    from ui.errors import show_error
    from ui.state import LANG_KEY

    st.session_state[LANG_KEY] = st.session_state.get("wanted_language", "en")
    if st.session_state.get("keyed"):  # message and hint by key (backend.messages)
        show_error(InputError(msg("upload.pdf_encrypted"), hint=msg("upload.pdf_encrypted_hint")))
    else:
        show_error(DatabaseUnavailable("The database cannot be reached.", hint="Check DATABASE_URL."))


def _errors_shown(lang: str, *, keyed: bool = False) -> list[str]:
    at = AppTest.from_function(_shown_lab_error)
    at.session_state["wanted_language"] = lang
    at.session_state["keyed"] = keyed
    at.run()
    assert not at.exception
    return [e.value for e in at.error]


@pytest.mark.parametrize("lang, expected", [
    ("en", "The PDF is encrypted: upload a decrypted copy. Open it with its password and save or "
           "print it to a new PDF without one."),
    ("es", "Estos datos no se pueden usar. El PDF está cifrado: sube una copia sin cifrar. Ábrelo "
           "con su contraseña y guárdalo o imprímelo en un PDF nuevo sin ella."),
])
def test_a_keyed_error_is_translated_whole(lang, expected):
    assert _errors_shown(lang, keyed=True) == [expected]


def test_guard_turns_an_unexpected_error_into_one_friendly_line():
    at = AppTest.from_function(_guarded_value_error).run()
    assert not at.exception
    assert [e.value for e in at.error] == ["Something went wrong; details are in the log."]
    assert "internal detail" not in tree_text(at)


@pytest.mark.parametrize("lang, expected", [
    ("en", "The database cannot be reached. Check DATABASE_URL."),
    ("es", "La base de datos no está disponible. Detalles: The database cannot be reached. "
           "Check DATABASE_URL."),
])
def test_a_lab_error_shows_its_message_translated_where_a_key_exists(lang, expected):
    assert _errors_shown(lang) == [expected]


# --- jobs ----------------------------------------------------------------------------------------
def _job_panel():
    import streamlit as st

    from ui.jobs import job_progress, jobs_table
    from ui.state import get_lab

    job_progress(st.session_state["job_id"])
    from backend.jobs.service import list_jobs

    jobs_table(list_jobs(get_lab()))


@pytest.fixture
def queued_job(app_env, lab):
    from backend.jobs import service

    return service.enqueue(lab, "ui.test", {}, title="Index the manuals", queue="default")


def test_job_progress_shows_a_running_job_and_its_rate_and_time_left(app_env, lab, queued_job):
    lab.db.execute("UPDATE jobs SET status = 'running', step = 3, total = 10, unit = 'documents',"
                   " rate = 0.5, eta_seconds = 14, message = 'Reading manual 4',"
                   " started_at = now() WHERE id = %s", (queued_job,))
    at = AppTest.from_function(_job_panel, default_timeout=30)
    at.session_state["job_id"] = queued_job
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    bar = at.get("progress")[0]
    assert bar.proto.value == 30
    assert bar.proto.text == "3 of 10 documents · 30.0 documents/min · about 14 s left"
    text = tree_text(at)
    assert "Index the manuals" in text and "Reading manual 4" in text and "Running" in text
    assert at.button(key=f"job.cancel.{queued_job}")
    assert len(at.dataframe) == 1 and at.dataframe[0].value["title"].tolist() == ["Index the manuals"]


def test_cancel_button_cancels_a_queued_job_and_the_panel_stops_offering_it(app_env, lab, queued_job):
    from backend.jobs import service

    at = AppTest.from_function(_job_panel, default_timeout=30)
    at.session_state["job_id"] = queued_job
    at.run()
    assert "Queued" in tree_text(at)
    at.button(key=f"job.cancel.{queued_job}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert service.get_job(lab, queued_job).status == "cancelled"
    assert "Cancelled" in tree_text(at)
    assert not [b for b in at.button if b.key == f"job.cancel.{queued_job}"]


def test_an_unknown_job_is_a_friendly_message(app_env):
    at = AppTest.from_function(_job_panel, default_timeout=30)
    at.session_state["job_id"] = 987654
    at.run()
    assert not at.exception
    assert any("There is no job 987654" in e.value for e in at.error)


def _job_panel_in_language():
    import streamlit as st

    from backend.jobs.service import list_jobs
    from ui.jobs import job_progress, jobs_table
    from ui.state import LANG_KEY, get_lab

    st.session_state[LANG_KEY] = st.session_state["wanted_language"]
    job_progress(st.session_state["job_id"])
    jobs_table(list_jobs(get_lab()))


@pytest.mark.parametrize("lang, expected, title", [
    ("en", "4/6 Training the LoRA adapter · Step 3 of 72, epoch 1 of 2",
     "Fine-tune (adapter) on Nortera pairs"),
    ("es", "4/6 Entrenando el adaptador LoRA · Paso 3 de 72, época 1 de 2",
     "Ajuste fino (adaptador) con Nortera pairs"),
])
def test_a_job_message_reads_in_the_chosen_language(app_env, lab, queued_job, lang, expected,
                                                    title):
    """Progress recorded as a worker records it (a demo stage wrapping the trainer's step) is
    stored in English with its key, and the panel and the jobs table show it translated."""
    from backend.jobs.context import JobContext
    from backend.messages import msg

    lab.db.execute("UPDATE jobs SET status = 'running', started_at = now() WHERE id = %s",
                   (queued_job,))
    from backend.jobs import service

    service.enqueue(lab, "ui.test", {}, queue="default", title=msg(
        "title.finetune", method=msg("method.adapter"), dataset="Nortera pairs"))
    ctx = JobContext(job_id=queued_job, kind="ui.test", lab=lab)
    step = msg("finetune.step", step=3, steps=72, epoch=1, epochs=2)
    ctx.progress(3, 72, unit="steps", message=msg("demo.stage_detail", number=4, stages=6,
                                                 stage=msg("demo.stages.finetune"), detail=step))
    ctx.flush()
    stored = lab.db.fetchone("SELECT message, message_i18n FROM jobs WHERE id = %s", (queued_job,))
    assert stored["message"] == "4/6 Training the LoRA adapter · Step 3 of 72, epoch 1 of 2"
    assert stored["message_i18n"]["args"]["detail"]["key"] == "finetune.step"

    at = AppTest.from_function(_job_panel_in_language, default_timeout=30)
    at.session_state["job_id"] = queued_job
    at.session_state["wanted_language"] = lang
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert expected in [c.value for c in at.caption]
    table = at.dataframe[0].value
    assert table.loc[table["title"] == "Index the manuals", "message"].tolist() == [expected]
    assert title in table["title"].tolist()  # a keyed title reads in the language too
