"""Evidence on screen: a retrieved chunk as a card (where it comes from, its score, its text with
the matching words highlighted), shared by the Ask page's sources and the Corpora chunk browser.

The highlighting is pure (``question_pattern``, ``substring_pattern``, ``highlight_html``) and
unit-tested. Matching ignores case and accents ("devolucion" finds "devolución"), and a question's
word also marks longer forms of it ("return" marks "returns"), since a question rarely uses the
passage's exact inflection.
"""

from __future__ import annotations

import html
import re
import unicodedata
from typing import TYPE_CHECKING, Any

import streamlit as st

from ui.i18n import has_key, t

if TYPE_CHECKING:
    from backend.rag.retrieval import RetrievedChunk

# words too common to be worth marking (English and Spanish), compared accent-free
_STOPWORDS = frozenset("""
the and for are but not you all any can had her was one our out has his how its may who why what
when where which with this that these those from into about there their them they then than does
did have been being were will would could should shall your yours more most some such only own
same very just also over under again after before because while during per each other
los las del por para con una uno unos unas que como cual cuales cuando donde quien quienes este
esta estos estas ese esa esos esas aquel sus mas pero sin sobre entre hasta desde tiene tienen
puedo puede pueden hay ser son fue era han hace hacer esto eso muy tambien cuanto cuanta cuantos
cuantas mis tus nos qué cómo
""".split())
MIN_TERM = 3
MARK_STYLE = "background-color:#fde68a;color:inherit;padding:0 2px;border-radius:3px"
TEXT_STYLE = "font-size:0.92rem;line-height:1.55;overflow-wrap:anywhere"
FINDING_ICON = "⚠️"


def fold(text: str) -> str:
    """Lower case without accents, one character for each character of ``text`` (so positions in
    the folded text are positions in the original)."""
    out = []
    for ch in text:
        base = unicodedata.normalize("NFD", ch)
        kept = "".join(c for c in base if not unicodedata.combining(c))
        out.append((kept[:1] or ch).lower())
    return "".join(out)


def question_terms(question: str) -> list[str]:
    """The words of a question worth marking: accent-free, lower case, not stopwords, longest first."""
    words = {w for w in re.findall(r"\w+", fold(question or "")) if len(w) >= MIN_TERM
             and w not in _STOPWORDS and not w.isdigit()}
    return sorted(words, key=lambda w: (-len(w), w))


def question_pattern(question: str) -> re.Pattern | None:
    """A pattern for the folded text marking each question word and its longer forms (None when
    the question has no word worth marking)."""
    terms = question_terms(question)
    if not terms:
        return None
    return re.compile(r"\b(?:" + "|".join(re.escape(w) for w in terms) + r")\w*")


def substring_pattern(text: str) -> re.Pattern | None:
    """A pattern for the folded text marking every occurrence of ``text`` (the chunk search box)."""
    needle = fold((text or "").strip())
    return re.compile(re.escape(needle)) if needle else None


def highlight_html(text: str, pattern: re.Pattern | None) -> str:
    """``text`` as safe HTML (escaped, line breaks kept) with ``pattern``'s matches in <mark>."""
    pieces, last = [], 0
    if pattern is not None:
        for match in pattern.finditer(fold(text)):
            if match.end() == match.start():
                continue
            pieces.append(html.escape(text[last:match.start()]))
            pieces.append(f"<mark style='{MARK_STYLE}'>{html.escape(text[match.start():match.end()])}</mark>")
            last = match.end()
    pieces.append(html.escape(text[last:]))
    # one HTML block: a blank line would end it and hand the rest to the Markdown parser
    return "".join(pieces).strip().replace("\r", "").replace("\n", "<br>")


def md_escape(text: Any) -> str:
    """``text`` safe inside Markdown (file names and headings are user data)."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~:$])", r"\\\1", str(text))


def where_label(chunk: "RetrievedChunk") -> str:
    """Where a chunk comes from, in the interface language: "manual.pdf · p. 3 · Returns"."""
    parts = [chunk.document_name]
    if chunk.page:
        parts.append(t("source.page", page=chunk.page))
    if chunk.section:
        parts.append(chunk.section)
    return " · ".join(str(p) for p in parts if p)


def findings_text(findings: dict[str, int] | None) -> str:
    """Sensitive-data counts in words ("2 e-mail addresses, 1 phone number"); "" when none."""
    parts = []
    for kind, count in sorted((findings or {}).items(), key=lambda kv: (-kv[1], kv[0])):
        if not count:
            continue
        key = f"sensitive.{kind}.{'one' if count == 1 else 'many'}"
        parts.append(t(key, n=count) if has_key(key) else f"{count} {kind}")
    return ", ".join(parts)


def chunk_card(chunk: "RetrievedChunk", pattern: re.Pattern | None, *, number: int | None = None,
               show_score: bool = False, cited: bool | None = None) -> None:
    """One chunk in a bordered box: its number, source (document, page, section), score,
    whether the answer cited it, sensitive-data flags, then the text with matches marked."""
    with st.container(border=True):
        head = f"**[{number}]** " if number is not None else ""
        head += f"**{md_escape(where_label(chunk))}**"
        if cited is True:
            head += f" &nbsp; :green-badge[:material/format_quote: {md_escape(t('source.cited'))}]"
        elif cited is False:
            head += f" &nbsp; :gray-badge[{md_escape(t('source.not_cited'))}]"
        details = [t("source.position", position=chunk.position + 1)]
        if show_score:
            details.append(t("source.score", score=f"{chunk.score:.3f}"))
        if chunk.findings:
            details.append(f"{FINDING_ICON} {findings_text(chunk.findings)}")
        st.markdown(head)
        st.caption(md_escape(" · ".join(details)))
        st.markdown(f"<div style='{TEXT_STYLE}'>{highlight_html(chunk.text, pattern)}</div>",
                    unsafe_allow_html=True)
