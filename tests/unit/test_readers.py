"""Readers: every format parses with the right text, page and section; every kind of bad input gets
its own message while the other files of the same upload still parse. Fixture files are generated
here (reportlab, python-docx, zipfile), never committed."""

from __future__ import annotations

import csv
import io
import json
import random
import stat
import zipfile
from pathlib import Path

import docx
import pytest
from docx.enum.style import WD_STYLE_TYPE
from reportlab.lib import pdfencrypt
from reportlab.pdfgen import canvas

from backend.config import Settings
from backend.corpus.readers import FileResult, UploadLimits, parse_upload, supported_extensions

LIMITS = UploadLimits()


# --- builders ------------------------------------------------------------------------------------
def make_pdf(pages: list[str | None], *, bookmarks: dict[int, str] | None = None, encrypt=None) -> bytes:
    """A PDF with one page per entry; None draws shapes only (a page with no text layer)."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, encrypt=encrypt)
    for number, text in enumerate(pages, start=1):
        if bookmarks and number in bookmarks:
            c.bookmarkPage(f"p{number}")
            c.addOutlineEntry(bookmarks[number], f"p{number}", level=0)
        if text is None:
            c.setFillColorRGB(0.2, 0.4, 0.6)
            c.rect(72, 300, 300, 200, fill=1)
        else:
            y = 760
            for line in text.split("\n"):
                c.drawString(72, y, line)
                y -= 16
        c.showPage()
    c.save()
    return buf.getvalue()


def make_docx(blocks: list[tuple[str, str]]) -> bytes:
    """``("h1", text)``, ``("p", text)``, ``("table", "a|b;c|d")``, ``("style:<name>", text)``."""
    document = docx.Document()
    for kind, text in blocks:
        if kind.startswith("h"):
            document.add_heading(text, level=int(kind[1]))
        elif kind == "p":
            document.add_paragraph(text)
        elif kind == "table":
            rows = [r.split("|") for r in text.split(";")]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for i, row in enumerate(rows):
                for j, cell in enumerate(row):
                    table.cell(i, j).text = cell
        elif kind.startswith("style:"):
            name = kind.split(":", 1)[1]
            if name not in [s.name for s in document.styles]:
                document.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
            document.add_paragraph(text, style=name)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def make_zip(members: dict[str, bytes], *, infos: list[tuple[zipfile.ZipInfo, bytes]] = ()) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        for info, data in infos:
            archive.writestr(info, data)
    return buf.getvalue()


def one(results: list[FileResult]) -> FileResult:
    assert len(results) == 1, results
    return results[0]


def by_name(results: list[FileResult]) -> dict[str, FileResult]:
    return {r.name: r for r in results}


def failed(result: FileResult, *needles: str) -> None:
    assert not result.ok and not result.documents, result
    for needle in needles:
        assert needle.lower() in result.error.lower(), (needle, result.error)


# --- formats -------------------------------------------------------------------------------------
def test_pdf_keeps_pages_and_bookmark_sections():
    data = make_pdf(["Returns are accepted within 30 days.", "Refunds go back to the original card.",
                     "Warranty covers two years."], bookmarks={1: "Returns", 3: "Warranty"})
    result = one(parse_upload("policy.pdf", data, LIMITS))
    assert result.ok, result.error
    doc = result.documents[0]
    assert doc.kind == "pdf" and doc.metadata["pages"] == 3
    assert [(s.page, s.section) for s in doc.sections] == [(1, "Returns"), (2, "Returns"), (3, "Warranty")]
    assert "30 days" in doc.sections[0].text and "original card" in doc.sections[1].text
    assert len(doc.sha256) == 64


def test_pdf_with_an_image_only_page_keeps_the_others_and_warns():
    doc = one(parse_upload("mixed.pdf", make_pdf(["First page text.", None, "Third page text."]), LIMITS)).documents[0]
    assert [s.page for s in doc.sections] == [1, 3]
    assert any("2" in w and "no text layer" in w for w in doc.warnings)


def test_docx_headings_give_sections_and_tables_are_read():
    data = make_docx([("p", "Preface before any heading."), ("h1", "Returns"), ("p", "Within 30 days."),
                      ("h2", "Refunds"), ("p", "Back to the card."), ("table", "Item|Days;Tent|30"),
                      ("style:Título 1", "Garantía"), ("p", "Dos años de garantía.")])
    doc = one(parse_upload("manual.docx", data, LIMITS)).documents[0]
    assert doc.kind == "docx"
    assert [s.section for s in doc.sections] == [None, "Returns", "Returns > Refunds", "Garantía"]
    assert doc.sections[2].text.splitlines() == ["Refunds", "Back to the card.", "Item | Days", "Tent | 30"]
    assert "Dos años" in doc.sections[3].text


def test_docx_title_heads_the_section_path():
    data = make_docx([("h0", "Staff Handbook"), ("p", "Welcome."), ("h1", "Leave"), ("p", "25 days a year.")])
    doc = one(parse_upload("handbook.docx", data, LIMITS)).documents[0]
    assert [s.section for s in doc.sections] == ["Staff Handbook", "Staff Handbook > Leave"]


def test_markdown_sections_follow_heading_path_and_ignore_code():
    text = ("---\ntitle: Guide\n---\nIntro line.\n\n# Guide\n\n## Setup\nUnpack the tent.\n\n```bash\n"
            "# not a heading\n```\n\n### Poles\nConnect the poles.\n\nCare\n----\nDry it before storing.\n")
    doc = one(parse_upload("guide.md", text.encode(), LIMITS)).documents[0]
    assert [s.section for s in doc.sections] == [None, "Guide > Setup", "Guide > Setup > Poles", "Guide > Care"]
    assert "# not a heading" in doc.sections[1].text
    assert doc.sections[1].text.startswith("# Guide")  # a heading with no body joins its subsection
    assert "title: Guide" not in doc.text and doc.metadata["front_matter"] == "title: Guide"


def test_txt_and_non_utf8_spanish_text_decode_right():
    spanish = "El niño pidió un café. Año nuevo, señor. ¿Qué tal? Devolución en 30 días."
    for encoding in ("cp1252", "latin-1"):
        result = one(parse_upload("notas.txt", spanish.encode(encoding), LIMITS))
        assert result.ok, result.error
        assert result.documents[0].text == spanish
        assert any("not UTF-8" in w for w in result.documents[0].warnings)
    utf8 = one(parse_upload("notes.txt", "\ufeffplain text\r\nline two".encode("utf-8"), LIMITS)).documents[0]
    assert utf8.text == "plain text\nline two" and utf8.warnings == []


def test_html_visible_text_by_heading_without_scripts_or_hidden():
    page = """<html><head><title>Help centre</title><meta charset="windows-1252">
      <style>.x{color:red}</style><script>var secret = "do not index";</script></head>
      <body><nav>Home</nav><h1>Returns</h1><p>Return items within <b>30</b> days &amp; keep the receipt.</p>
      <div hidden>hidden text</div><p style="display:none">also hidden</p>
      <h2>Refunds</h2><table><tr><th>Method</th><th>Days</th></tr><tr><td>Card</td><td>5</td></tr></table>
      <p>Reembolso en cinco días hábiles.</p><!-- a comment --></body></html>"""
    doc = one(parse_upload("help.html", page.encode("cp1252"), LIMITS)).documents[0]
    assert doc.metadata["title"] == "Help centre"
    assert [s.section for s in doc.sections] == [None, "Returns", "Returns > Refunds"]
    assert "Return items within 30 days & keep the receipt." in doc.sections[1].text
    assert doc.sections[2].text.splitlines()[1:] == ["Method | Days", "Card | 5", "Reembolso en cinco días hábiles."]
    for absent in ("do not index", "color:red", "hidden text", "also hidden", "a comment"):
        assert absent not in doc.text


def test_csv_one_document_per_row_with_metadata_and_names():
    rows = [{"id": "A1", "title": "Tent", "body": "A tent for four.", "price": "250"},
            {"id": "A2", "title": "Stove", "body": "", "price": "80"},
            {"id": "A3", "title": "Lamp", "body": "Bright lamp.", "price": "20"}]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    result = one(parse_upload("items.csv", buf.getvalue().encode(), LIMITS, text_column="body"))
    assert result.ok, result.error
    assert [d.name for d in result.documents] == ["items.csv · Tent", "items.csv · Lamp"]
    first = result.documents[0]
    assert first.text == "A tent for four." and first.kind == "csv"
    assert first.metadata["price"] == "250" and first.metadata["row"] == 1 and "body" not in first.metadata
    assert len({d.sha256 for d in result.documents}) == 2
    assert any("skipped" in w and "2" in w for w in result.warnings)


def test_csv_excel_spanish_semicolons_and_cp1252_with_guessed_column():
    data = "nombre;texto\nTienda;Envío gratis a toda España\nCaña;Pesca con caña\n".encode("cp1252")
    result = one(parse_upload("catalogo.csv", data, LIMITS))
    assert [d.text for d in result.documents] == ["Envío gratis a toda España", "Pesca con caña"]
    assert [d.name for d in result.documents] == ["catalogo.csv · Tienda", "catalogo.csv · Caña"]
    assert any("“texto”" in w for w in result.warnings)


def test_jsonl_rows_named_by_id_and_row_number():
    lines = [{"id": "q1", "text": "First answer.", "lang": "en"}, {"id": "q2", "text": "Segunda respuesta."}]
    result = one(parse_upload("faq.jsonl", "\n".join(json.dumps(x) for x in lines).encode(), LIMITS))
    assert [d.name for d in result.documents] == ["faq.jsonl #q1", "faq.jsonl #q2"]
    assert result.documents[0].metadata["lang"] == "en"
    plain = one(parse_upload("n.jsonl", b'{"text": "a"}\n\n{"text": "b"}\n', LIMITS))
    assert [d.name for d in plain.documents] == ["n.jsonl · line 1", "n.jsonl · line 3"]


def test_supported_extensions_and_limits_from_settings():
    exts = supported_extensions()
    for ext in (".pdf", ".docx", ".md", ".txt", ".html", ".csv", ".jsonl", ".zip"):
        assert ext in exts
    limits = UploadLimits.from_settings(Settings(max_upload_mb=2, max_zip_uncompressed_mb=3, max_zip_files=4))
    assert limits == UploadLimits(2 * 1024 * 1024, 3 * 1024 * 1024, 4)


def test_display_names_are_sanitised():
    result = one(parse_upload("../../etc/pass\x00wd\n.txt", b"hello", LIMITS))
    assert result.name == "passwd.txt" and result.ok


# --- bad input -----------------------------------------------------------------------------------
def test_corrupt_encrypted_and_image_only_pdfs_get_their_messages():
    failed(one(parse_upload("broken.pdf", b"%PDF-1.4\n garbage", LIMITS)), "damaged")
    locked = make_pdf(["secret"], encrypt=pdfencrypt.StandardEncryption("user-pw", ownerPassword="o", strength=128))
    failed(one(parse_upload("locked.pdf", locked, LIMITS)), "the PDF is encrypted: upload a decrypted copy")
    failed(one(parse_upload("scan.pdf", make_pdf([None, None]), LIMITS)), "no text layer", "OCR")
    # Protected by an owner password only: opens with the empty password, so it is read.
    owner_only = make_pdf(["Readable text."], encrypt=pdfencrypt.StandardEncryption("", ownerPassword="o", strength=128))
    assert one(parse_upload("owner.pdf", owner_only, LIMITS)).documents[0].text == "Readable text."


def test_empty_oversized_unsupported_and_undetectable_files():
    failed(one(parse_upload("empty.txt", b"", LIMITS)), "empty")
    failed(one(parse_upload("blank.md", b"  \n\n ", LIMITS)), "no text")
    failed(one(parse_upload("big.txt", b"x" * 2048, UploadLimits(max_file_bytes=1024))), "2.0 KB", "1.0 KB")
    unsupported = one(parse_upload("slides.pptx", b"data", LIMITS))
    failed(unsupported, "not supported", ".pdf", ".docx", ".csv", "export it as PDF")
    failed(one(parse_upload("README", b"data", LIMITS)), "no extension")
    noise = random.Random(7).randbytes(4000)
    failed(one(parse_upload("noise.txt", noise, LIMITS)), "encoding", "UTF-8")
    failed(one(parse_upload("image.html", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(300), LIMITS)), "encoding")


def test_bad_docx_files():
    failed(one(parse_upload("old.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), LIMITS)), ".doc", "password")
    failed(one(parse_upload("fake.docx", make_zip({"hello.txt": b"hi"}), LIMITS)), "damaged")
    failed(one(parse_upload("none.docx", make_docx([("p", "  ")]), LIMITS)), "no text")
    tiny = UploadLimits(max_zip_uncompressed_bytes=10_000)
    failed(one(parse_upload("bomb.docx", make_docx([("p", "a" * 50)]), tiny)), "expands to")


def test_csv_and_jsonl_problems_name_the_columns_and_lines():
    data = b"question,answer\nWhat?,That.\n"
    failed(one(parse_upload("faq.csv", data, LIMITS, text_column="texto")), "no column “texto”", "question, answer")
    failed(one(parse_upload("faq.csv", data, LIMITS)), "choose which column", "question, answer")
    bad_line = b'{"text": "ok"}\n{"text": "fine"}\n{"text": broken}\n'
    failed(one(parse_upload("data.jsonl", bad_line, LIMITS)), "line 3", "not valid JSON")
    failed(one(parse_upload("data.jsonl", b'{"text": "ok"}\n[1, 2]\n', LIMITS)), "line 2", "not an object")
    failed(one(parse_upload("data.jsonl", b'{"body": "x"}\n', LIMITS, text_column="text")), "no column “text”", "body")


# --- ZIP archives ----------------------------------------------------------------------------------
def _symlink(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def _mark_encrypted(data: bytes, name: str) -> bytes:
    """Set the "encrypted" flag of one entry (zipfile cannot write encrypted entries itself)."""
    out = bytearray(data)
    local = zipfile.ZipFile(io.BytesIO(data)).getinfo(name).header_offset
    out[local + 6] |= 0x1
    at = 0
    while (at := data.find(b"PK\x01\x02", at + 1)) >= 0:
        length = int.from_bytes(data[at + 28:at + 30], "little")
        if data[at + 46:at + 46 + length] == name.encode():
            out[at + 8] |= 0x1
    return bytes(out)


def test_zip_bad_members_get_messages_while_the_others_parse():
    pdf = make_pdf(["Page one of the handbook.", "Page two."])
    members = {
        "docs/handbook.pdf": pdf,
        "docs/notes.txt": "Política de devoluciones: treinta días.".encode("cp1252"),
        "docs/guide.md": b"# Guide\nSome text.",
        "../escape.txt": b"outside",
        "/etc/absolute.txt": b"absolute",
        "inner.zip": make_zip({"a.txt": b"nested"}),
        "locked.pdf": make_pdf(["x"], encrypt=pdfencrypt.StandardEncryption("pw", ownerPassword="o", strength=128)),
        "scan.pdf": make_pdf([None]),
        "broken.pdf": b"%PDF-1.7 not really",
        "empty.txt": b"",
        "photo.png": b"\x89PNG",
        "rows.jsonl": b'{"text": "a"}\n{oops}\n',
        "table.csv": b"title,body\nx,y\n",
        "__MACOSX/._guide.md": b"junk",
    }
    data = make_zip(members | {"secret.txt": b"xx"}, infos=[(_symlink("link.txt"), b"/etc/passwd")])
    data = _mark_encrypted(data, "secret.txt")
    results = by_name(parse_upload("upload.zip", data, LIMITS))
    assert results["docs/handbook.pdf"].ok and [s.page for s in results["docs/handbook.pdf"].documents[0].sections] == [1, 2]
    assert results["docs/notes.txt"].documents[0].text == "Política de devoluciones: treinta días."
    assert results["docs/guide.md"].documents[0].metadata["archive"] == "upload.zip"
    assert results["table.csv"].ok and results["table.csv"].documents[0].text == "y"
    failed(results["escape.txt"], "unsafe path", "../escape.txt")
    failed(results["etc/absolute.txt"], "unsafe path")
    failed(results["inner.zip"], "not opened")
    failed(results["locked.pdf"], "encrypted")
    failed(results["scan.pdf"], "OCR")
    failed(results["broken.pdf"], "damaged")
    failed(results["empty.txt"], "empty")
    failed(results["photo.png"], "not supported")
    failed(results["rows.jsonl"], "line 2")
    failed(results["link.txt"], "symbolic link")
    failed(results["secret.txt"], "password")
    assert not any("MACOSX" in name for name in results)


def test_zip_bombs_and_too_many_files_are_refused_before_extracting():
    bomb = make_zip({"zeros.txt": bytes(3 * 1024 * 1024)})
    assert len(bomb) < 20_000
    failed(one(parse_upload("bomb.zip", bomb, UploadLimits(max_zip_uncompressed_bytes=1024 * 1024))),
           "expand to 3.0 MB", "1.0 MB")
    many = make_zip({f"f{i}.txt": b"text" for i in range(6)})
    failed(one(parse_upload("many.zip", many, UploadLimits(max_zip_files=5))), "6 files", "at most 5")
    member_limit = UploadLimits(max_file_bytes=100_000)
    results = by_name(parse_upload("mixed.zip", make_zip({"big.txt": b"a" * 200_000, "ok.txt": b"fine"}), member_limit))
    failed(results["big.txt"], "largest file")
    assert results["ok.txt"].ok
    failed(one(parse_upload("junk.zip", b"PK\x03\x04 not a zip", LIMITS)), "not a valid ZIP")


def test_zip_whose_directory_lies_is_stopped_while_reading(monkeypatch):
    """The declared sizes pass the checks; the bytes actually read are counted, and reading stops
    at the first chunk past what an entry declared."""
    data = make_zip({"a.txt": b"small", "b.txt": b"small"})
    real_open = zipfile.ZipFile.open
    handed_out = []

    class Inflating(io.RawIOBase):  # stands in for a decompressor that produces more than declared
        def __init__(self) -> None:
            self.produced = 0
            handed_out.append(self)

        def read(self, n: int = -1) -> bytes:
            self.produced += n
            return b"z" * n

    def open_inflating(self, info, *args, **kwargs):
        real_open(self, info, *args, **kwargs).close()
        return Inflating()

    monkeypatch.setattr(zipfile.ZipFile, "open", open_inflating)
    results = parse_upload("liar.zip", data, UploadLimits(max_zip_uncompressed_bytes=50 * 1024 * 1024))
    assert [r.name for r in results] == ["a.txt", "b.txt"]
    for result in results:
        failed(result, "more data than it declares")
    assert all(stream.produced <= 1024 * 1024 for stream in handed_out)


def test_zip_with_patched_sizes_is_caught_as_damaged():
    data = bytearray(make_zip({"a.txt": b"A" * 5000, "b.txt": b"fine"}))
    # Rewrite a.txt's uncompressed size to 10 bytes in its local header and the central directory.
    archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
    info = archive.getinfo("a.txt")
    data[info.header_offset + 22:info.header_offset + 26] = (10).to_bytes(4, "little")
    central = bytes(data).index(b"PK\x01\x02")
    data[central + 24:central + 28] = (10).to_bytes(4, "little")
    results = by_name(parse_upload("patched.zip", bytes(data), LIMITS))
    failed(results["a.txt"], "damaged")
    assert results["b.txt"].ok


@pytest.mark.shared
def test_shared_manuals_and_catalogue_parse(shared_data: Path):
    folder = shared_data / "outdoor_product_manuals"
    manual = one(parse_upload("product_info_1.md", (folder / "product_info_1.md").read_bytes(), LIMITS))
    sections = [s.section for s in manual.documents[0].sections]
    assert "Information about product item_number: 1 > User Guide > Tent Setup > Step 1: Selecting a Suitable Location" in sections
    catalogue = one(parse_upload("products.csv", (folder / "products.csv").read_bytes(), LIMITS, text_column="description"))
    assert len(catalogue.documents) == 20 and catalogue.documents[0].name == "products.csv · TrailMaster X4 Tent"
