"""Sensitive-data scanner: planted identifiers of every kind are found in English and Spanish text
and redacted completely; look-alikes (years, prices, dates, order numbers, product codes, failed
checksums) are left alone."""

from __future__ import annotations

import pytest

from backend.corpus.sensitive import KINDS, PLACEHOLDERS, Finding, counts, redact, scan, scan_many
from backend.corpus.sensitive_rules import dni_letter_ok, luhn_ok, mod97_ok, nie_letter_ok

# (kind, value) pairs planted in the texts below; every value is valid (checksums included).
PLANTED_EN = [
    ("email", "jane.doe@example.com"),
    ("phone", "+44 20 7946 0958"),
    ("phone", "+1 (415) 555-2671"),
    ("phone", "(212) 555-0147"),
    ("phone", "1-800-555-0199"),
    ("iban", "GB82 WEST 1234 5698 7654 32"),
    ("iban", "DE89370400440532013000"),
    ("card", "4111 1111 1111 1111"),
    ("card", "3782-822463-10005"),
    ("ssn", "123-45-6789"),
    ("ip", "192.168.14.201"),
]
TEXT_EN = (
    "Dear support, please write to {0} or call {1}; our US desk is on {2}, the night line {3} and the "
    "free number {4}. Refund to IBAN {5} (or {6}). I paid with card {7}; my partner used {8}. "
    "For the tax form, SSN {9}. The upload came from {10} yesterday.")
PLANTED_ES = [
    ("email", "maría.garcía@correo.es"),
    ("phone", "+34 612 345 678"),
    ("phone", "0034 912345678"),
    ("phone", "612 34 56 78"),
    ("phone", "91 234 56 78"),
    ("phone", "655443322"),
    ("iban", "ES91 2100 0418 4502 0005 1332"),
    ("card", "5500 0000 0000 0004"),
    ("dni", "12345678Z"),
    ("dni", "00.000.001-R"),
    ("nie", "X1234567L"),
    ("nie", "Y-1234567-X"),
]
TEXT_ES = (
    "Hola, soy María. Mi correo es {0} y mi teléfono {1}; también {2}. Móvil: {3}, fijo {4}. "
    "Si no contesto, llame al tlf. {5}. Cuenta para el reembolso: {6}. Pagué con la tarjeta {7}. "
    "DNI {8}, el de mi madre {9}. Mi pareja tiene NIE {10} y su hermano {11}.")

NEGATIVES = [
    "The company was founded in 1998 and rebranded in 2023; sales grew 12% between 1999-2004.",
    "Precio: 1.234.567,89 € (IVA incl.), antes 612 345 678 €; the yacht costs $4,111,111.11 or 912 345 678 EUR.",
    "Dates: 15/01/2024, 2024-01-15, 15.01.2024, 15-01-2024 at 10:30, 01/02/03.",
    "Order no. 612345678 shipped; Pedido nº 712 345 678; ref: 912 34 56 78; Invoice #6123456789.",
    "Factura 2024-000123, albarán 0034-5566, tracking 1Z999AA10123456784, lote 4111.",
    "Product codes SKU-4411-2290, AB-12345678-Z, REF 98765432-A, model X1234567A, part 12-345-6789.",
    "ISBN 978-3-16-148410-0, EAN 8412345678905; pages 612-678; call 2 more times.",
    "Release v1.2.3.4, section 2.1.3.4, EC 3.1.1.11, version 10.0.0.1.",
    "Production reached 612345678 units; la población es de 912.345.678 habitantes y 734 000 000 millas.",
    "Bad checksums: DNI 12345678A, NIE X1234567A, IBAN ES92 2100 0418 4502 0005 1332, card 4111 1111 1111 1112.",
    "Totals 1000000000000000 and 4444 4444 4444 4444 4444 are not cards; 000-12-3456 is not an SSN.",
]


def planted_text(template: str, planted: list[tuple[str, str]]) -> str:
    return template.format(*(value for _, value in planted))


@pytest.mark.parametrize("template, planted", [(TEXT_EN, PLANTED_EN), (TEXT_ES, PLANTED_ES)], ids=["en", "es"])
def test_every_planted_identifier_is_found_with_its_kind(template, planted):
    text = planted_text(template, planted)
    found = {(f.kind, text[f.start:f.end]) for f in scan(text)}
    assert found == set(planted)


@pytest.mark.parametrize("template, planted", [(TEXT_EN, PLANTED_EN), (TEXT_ES, PLANTED_ES)], ids=["en", "es"])
def test_redaction_removes_every_planted_value(template, planted):
    text = planted_text(template, planted)
    redacted = redact(text)
    for kind, value in planted:
        assert value not in redacted
        assert PLACEHOLDERS[kind] in redacted
    digits_left = "".join(ch for ch in redacted if ch.isdigit())
    for _, value in planted:  # not even the digits survive in another form
        digits = "".join(ch for ch in value if ch.isdigit())
        if len(digits) >= 7:
            assert digits not in digits_left
    assert redacted.count("[") == len(planted)


def test_every_kind_is_covered_by_the_planted_values():
    assert {k for k, _ in PLANTED_EN + PLANTED_ES} == set(KINDS)


@pytest.mark.parametrize("text", NEGATIVES)
def test_look_alikes_are_not_reported(text):
    assert scan(text) == [], [(f.kind, text[f.start:f.end]) for f in scan(text)]
    assert redact(text) == text


def test_findings_are_masked_for_display():
    text = "Mail jane.doe@example.com, card 4111 1111 1111 1111, IBAN ES91 2100 0418 4502 0005 1332, DNI 12345678Z."
    shown = {f.kind: f.text for f in scan(text)}
    assert shown["email"] == "j***@example.com"
    assert shown["card"] == "**** **** **** 1111"
    assert shown["iban"] == "ES** **** **** **** **** 1332"
    assert shown["dni"] == "******78Z"
    for finding in scan(text):
        assert finding.text != text[finding.start:finding.end]


def test_an_iban_is_not_also_reported_as_a_card_or_phone():
    text = "IBAN ES91 2100 0418 4502 0005 1332 and NL91ABNA0417164300."
    assert [f.kind for f in scan(text)] == ["iban", "iban"]
    assert text[scan(text)[1].start:scan(text)[1].end] == "NL91ABNA0417164300"


def test_phone_separators_from_pdfs_and_trailing_numbers():
    assert [f.kind for f in scan("Tel.\u00a0+34\u00a0612\u00a0345\u00a0678")] == ["phone"]
    text = "Card 4111 1111 1111 1111 123 (CVV)"  # the CVV is not part of the card number
    (finding,) = scan(text)
    assert text[finding.start:finding.end] == "4111 1111 1111 1111"


def test_counts_and_scan_many():
    findings = scan(planted_text(TEXT_ES, PLANTED_ES))
    assert counts(findings) == {"email": 1, "phone": 5, "iban": 1, "card": 1, "dni": 2, "nie": 2}
    assert counts([]) == {}
    many = scan_many([("a", "write to a@b.co"), ("b", "nothing here"), ("a", "or c@d.org, 12345678Z")])
    assert many == {"a": {"email": 2, "dni": 1}, "b": {}}


def test_checksum_rules():
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert mod97_ok("ES9121000418450200051332") and not mod97_ok("ES9221000418450200051332")
    assert dni_letter_ok("12345678", "z") and not dni_letter_ok("12345678", "A")
    assert nie_letter_ok("X", "1234567", "L") and nie_letter_ok("Z", "0000000", "M")


def test_findings_are_ordered_and_do_not_overlap():
    text = planted_text(TEXT_EN, PLANTED_EN) + " " + planted_text(TEXT_ES, PLANTED_ES)
    findings = scan(text)
    assert all(isinstance(f, Finding) for f in findings)
    assert all(a.end <= b.start for a, b in zip(findings, findings[1:]))
