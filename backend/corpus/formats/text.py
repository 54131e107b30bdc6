"""Plain text and Markdown readers.

Markdown is split at its headings (ATX ``# Title`` and setext ``Title`` / ``=====``), ignoring
``#`` lines inside fenced code blocks; each section keeps its heading line and is named by its
heading path ("Guide > Setup"). A YAML front-matter block is moved to the metadata, not indexed.
"""

from __future__ import annotations

import re

from backend.corpus.documents import (SECTION_SEP, ParsedDocument, ParsedSection, ReadOptions,
                                      fold_heading_only, make_document)
from backend.corpus.formats import register
from backend.corpus.formats.encoding import decode_text
from backend.messages import msg

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_LIST_OR_QUOTE = re.compile(r"^ {0,3}([-*+>]|\d+[.)])(\s|$)")


def decoded(data: bytes, *, declared: str | None = None) -> tuple[str, dict, list[str]]:
    """Text, metadata and warnings for a text-like file, noting when it was not UTF-8."""
    text, encoding = decode_text(data, declared=declared)
    metadata: dict = {"encoding": encoding}
    warnings = []
    if encoding not in ("utf-8", "ascii"):
        warnings.append(f"The file was not UTF-8; it was read as {encoding}.")
    return text, metadata, warnings


@register("txt", "plain text", (".txt", ".text"))
def read_txt(name: str, data: bytes, options: ReadOptions) -> list[ParsedDocument]:
    """One section holding the whole text."""
    text, metadata, warnings = decoded(data)
    return [make_document(name, "txt", data, [ParsedSection(text)], metadata=metadata, warnings=warnings,
                          empty_message=msg("upload.no_text_blank"))]


@register("markdown", "Markdown", (".md", ".markdown"))
def read_markdown(name: str, data: bytes, options: ReadOptions) -> list[ParsedDocument]:
    """One section per heading, named by the heading path."""
    text, metadata, warnings = decoded(data)
    text, front_matter = _split_front_matter(text)
    if front_matter:
        metadata["front_matter"] = front_matter[:2000]
    sections, title = markdown_sections(text)
    if title:
        metadata["title"] = title
    return [make_document(name, "markdown", data, sections, metadata=metadata, warnings=warnings,
                          empty_message=msg("upload.no_text_markdown"))]


def _split_front_matter(text: str) -> tuple[str, str | None]:
    lines = text.lstrip("\ufeff").split("\n")
    if lines and lines[0].strip() == "---":
        for i in range(1, min(len(lines), 200)):
            if lines[i].strip() in ("---", "..."):
                return "\n".join(lines[i + 1:]), "\n".join(lines[1:i])
    return text, None


def _heading_at(lines: list[str], i: int) -> tuple[int, str, int] | None:
    """``(level, title, lines used)`` when a heading starts at line ``i``."""
    m = _ATX.match(lines[i])
    if m:
        return len(m.group(1)), (m.group(2) or "").strip(), 1
    if (i + 1 < len(lines) and lines[i].strip() and _SETEXT.match(lines[i + 1])
            and (i == 0 or not lines[i - 1].strip()) and not _LIST_OR_QUOTE.match(lines[i])
            and not _ATX.match(lines[i])):
        return (1 if lines[i + 1].strip().startswith("=") else 2), lines[i].strip(), 2
    return None


def markdown_sections(text: str) -> tuple[list[ParsedSection], str | None]:
    """Split Markdown at headings; returns the sections and the first level-1 heading (the title)."""
    lines = text.split("\n")
    sections: list[ParsedSection] = []
    has_body: list[bool] = []
    stack: list[tuple[int, str]] = []
    current: list[str] = []
    body = False  # does the current section hold more than its heading?
    path: str | None = None
    title = None
    fence: str | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        fence_match = _FENCE.match(line)
        if fence_match:
            marker = fence_match.group(1)
            if fence is None:
                fence = marker
            elif marker[0] == fence[0] and len(marker) >= len(fence):
                fence = None
        heading = None if fence is not None or fence_match else _heading_at(lines, i)
        if heading is None:
            current.append(line)
            body = body or bool(line.strip())
            i += 1
            continue
        level, heading_text, used = heading
        sections.append(ParsedSection("\n".join(current), section=path))
        has_body.append(body)
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, heading_text or "(untitled)"))
        path = SECTION_SEP.join(h for _, h in stack)
        if level == 1 and title is None and heading_text:
            title = heading_text
        current, body = lines[i:i + used], False
        i += used
    sections.append(ParsedSection("\n".join(current), section=path))
    has_body.append(body)
    return fold_heading_only(sections, has_body), title
