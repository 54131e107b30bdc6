"""The string catalogue: both languages complete, every key used in the code exists, no page
text bypasses ``t()``. The scans read app.py, pages/*.py and ui/*.py, so pages added later are
covered without touching this file."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from backend import config, errors
from ui import i18n
from ui.i18n import CATALOGUES, missing_keys, placeholders, translate

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted([ROOT / "app.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "ui").glob("*.py")])
# Streamlit calls whose first argument is an identifier or a path, not text for the user
NOT_TEXT = {"form", "Page", "page_link", "switch_page", "navigation", "fragment", "cache_data",
            "cache_resource", "set_page_config", "container", "columns", "tabs", "empty"}


def _trees():
    for path in SOURCES:
        if path.is_file():
            yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _key_arg(call: ast.Call) -> ast.expr | None:
    """The key argument of ``t(key)``, ``i18n.t(key)`` or ``translate(lang, key)``."""
    func = call.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
    if name == "t" and call.args:
        return call.args[0]
    if name == "translate" and len(call.args) >= 2:
        return call.args[1]
    return None


def _used_keys() -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(literal keys, f-string key patterns) with the file each comes from."""
    literal, patterns = set(), set()
    for path, tree in _trees():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            arg = _key_arg(node)
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                literal.add((path.name, arg.value))
            elif isinstance(arg, ast.JoinedStr):
                regex = "".join(re.escape(v.value) if isinstance(v, ast.Constant) else r"[^.]+"
                                for v in arg.values)
                patterns.add((path.name, regex))
            elif isinstance(arg, ast.BinOp) and isinstance(arg.left, ast.Constant):
                patterns.add((path.name, re.escape(arg.left.value) + r".+"))
    return literal, patterns


def test_every_language_has_every_key():
    assert missing_keys() == {lang: set() for lang in CATALOGUES}


def test_both_languages_use_the_same_placeholders():
    english = CATALOGUES["en"]
    for lang, catalogue in CATALOGUES.items():
        for key, text in catalogue.items():
            assert placeholders(text) == placeholders(english.get(key, text)), (lang, key)
            assert text.strip(), (lang, key)


def test_every_key_the_code_uses_exists_in_both_languages():
    literal, patterns = _used_keys()
    assert len(literal) > 30 and ("home.py", "home.headline") in literal  # the scan sees the code
    for lang, catalogue in CATALOGUES.items():
        missing = sorted(f"{f}: {k}" for f, k in literal if k not in catalogue)
        assert not missing, f"keys used in code but missing in {lang}: {missing}"
        unmatched = sorted(f"{f}: {p}" for f, p in patterns
                           if not any(re.fullmatch(p, k) for k in catalogue))
        assert not unmatched, f"key patterns with no {lang} key: {unmatched}"


def test_page_titles_in_app_py_exist():
    """app.py names its pages by catalogue key (e.g. "nav.home") in the PAGES list."""
    tree = ast.parse((ROOT / "app.py").read_text(encoding="utf-8"))
    keys = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)
            and isinstance(n.value, str) and re.fullmatch(r"nav\.[a-z_]+", n.value)}
    assert "nav.home" in keys and "nav.settings" in keys
    for catalogue in CATALOGUES.values():
        assert keys <= set(catalogue), keys - set(catalogue)


def test_no_streamlit_call_shows_a_literal_text():
    """User-facing text goes through t(): a literal with words in st.xxx("...") is a slip."""
    slips = []
    for path, tree in _trees():
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr not in NOT_TEXT and node.args
                    and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
                    and re.search(r"[A-Za-z]{3}", node.args[0].value)
                    and _is_streamlit(node.func.value)):
                slips.append(f"{path.name}:{node.lineno} {node.args[0].value!r}")
    assert not slips, slips


def _is_streamlit(value: ast.expr) -> bool:
    while isinstance(value, ast.Attribute):  # st.sidebar.caption(...)
        value = value.value
    return isinstance(value, ast.Name) and value.id == "st"


@pytest.mark.parametrize("lang", list(CATALOGUES))
def test_generated_keys_exist(lang):
    catalogue = CATALOGUES[lang]
    for item in config.describe():
        assert f"settings.field.{item['name']}" in catalogue
        assert f"settings.help.{item['name']}" in catalogue
        assert f"settings.group.{item['group']}" in catalogue
    # the core kinds of error have a translated headline; others fall back to their own message
    codes = {cls.code for cls in _subclasses(errors.LabError) if cls.__module__ == errors.__name__}
    codes.add(errors.LabError.code)
    assert {f"error.{code}" for code in codes} <= set(catalogue)
    from ui.jobs import STATUS_COLOURS

    assert {f"job.status.{s}" for s in STATUS_COLOURS} <= set(catalogue)
    for kind in ("base", "rag", "finetuned", "hybrid"):
        assert f"strategy.{kind}" in catalogue


def test_job_statuses_match_the_job_system():
    store = pytest.importorskip("backend.jobs.store")
    from ui.jobs import STATUS_COLOURS

    assert set(store.STATUSES) == set(STATUS_COLOURS)


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_spanish_wording():
    es = CATALOGUES["es"]
    assert es["nav.finetune"] == "Ajuste fino"
    assert "generación aumentada por recuperación (rag)" in " ".join(es.values()).lower()
    assert not [k for k, v in es.items() if re.search(r"fine[- ]?tun", v, re.I)]


def test_translate_formats_and_falls_back():
    assert translate("es", "job.progress", step=3, total=10, unit="pasos") == "3 de 10 pasos"
    assert translate("xx", "nav.home") == "Home"  # unknown language: English
    assert translate("es", "no.such.key") == "no.such.key"
    assert i18n.t("nav.settings") == "Settings"  # outside a Streamlit run: the default language
