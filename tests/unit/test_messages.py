"""Backend messages by key (backend/messages.py) and their translations (ui/strings_backend_*.py)."""

from __future__ import annotations

import string
from types import SimpleNamespace

import pytest

from backend.messages import TEXTS, Message, as_json, msg
from ui.i18n import CATALOGUES, translate
from ui.i18n import _backend_text
from ui.jobs import message_text


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_a_message_is_its_english_text_and_keeps_its_key_and_values():
    m = msg("evaluate.answered_by", done=3, total=8, strategy="RAG")
    assert m == "3/8 answered (RAG)" and isinstance(m, str)
    assert (m.key, m.args) == ("evaluate.answered_by", {"done": 3, "total": 8, "strategy": "RAG"})
    assert f"{m} · more" == "3/8 answered (RAG) · more"  # still a plain string to everything else


def test_a_message_survives_copies_and_pickling_with_its_key():
    import copy
    import pickle

    m = msg("text.joined", first=msg("upload.pdf_no_pages"), second=msg("upload.pdf_resave"))
    for clone in (copy.copy(m), copy.deepcopy(m), pickle.loads(pickle.dumps(m))):
        assert clone == m and as_json(clone) == as_json(m)


def test_nested_messages_are_stored_nested():
    m = msg("freshness.retraining", detail=msg("finetune.saving"))
    assert m == "Retraining: Saving the model"
    assert as_json(m) == {"key": "freshness.retraining",
                          "args": {"detail": {"key": "finetune.saving", "args": {}}}}
    assert as_json("plain text") is None and as_json(None) is None


def test_an_unknown_key_or_a_missing_value_fails_where_the_message_is_made():
    with pytest.raises(KeyError):
        msg("no.such.message")
    with pytest.raises(KeyError):
        msg("job.queued_again")  # needs attempt


@pytest.mark.parametrize("lang", ["en", "es"])
def test_every_message_has_a_translation_with_the_same_fields(lang):
    for key, text in TEXTS.items():
        translated = CATALOGUES[lang].get(f"backend.{key}")
        assert translated is not None, f"backend.{key} missing in {lang}"
        assert _fields(translated) == _fields(text), key


def test_the_english_interface_shows_exactly_the_stored_text():
    m = msg("ingest.progress", done=2, files=5, chunks=40, rate="12.5")
    assert translate("en", f"backend.{m.key}", **m.args) == str(m)


def test_translation_gives_up_on_an_unknown_key_so_the_stored_text_shows():
    assert _backend_text({"key": "removed.in.a.later.version", "args": {}}, "es") is None
    assert _backend_text({"key": "demo.stage", "args": {
        "number": 1, "stages": 6, "stage": {"key": "gone", "args": {}}}}, "es") is None
    assert _backend_text(None, "es") is None and _backend_text({"args": {}}, "es") is None
    assert _backend_text({"key": "finetune.saving", "args": {}}, "es") == "Guardando el modelo"
    assert isinstance(msg("job.cancelled"), Message)


def test_a_key_left_behind_by_a_writer_that_set_only_the_text_is_ignored():
    waiting = msg("job.waiting")
    job = SimpleNamespace(message="Reading manual 4", message_i18n=as_json(waiting))
    assert message_text(job) == "Reading manual 4"
    job = SimpleNamespace(message=str(waiting), message_i18n=as_json(waiting))
    assert message_text(job) == "Waiting for a worker"  # outside a page: English
    assert message_text(SimpleNamespace(message=None, message_i18n=None)) == ""
