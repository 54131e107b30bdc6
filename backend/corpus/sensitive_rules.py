"""Checksums and context rules behind ``backend.corpus.sensitive``.

Kept apart from the patterns so each rule can be read (and tested) on its own.
"""

from __future__ import annotations

import re

#: IBAN length per country (SWIFT IBAN registry); only these countries are recognised
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
    "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29,
    "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28,
    "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
    "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29,
    "RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}
_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def luhn_ok(digits: str) -> bool:
    """The Luhn (mod-10) check used by payment card numbers."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def mod97_ok(iban: str) -> bool:
    """The ISO 13616 check: the IBAN, first four characters moved to the end, letters as 10..35, mod 97 is 1."""
    if not iban[2:4].isdigit():
        return False
    rearranged = iban[4:] + iban[:4]
    try:
        return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1
    except ValueError:
        return False


def dni_letter_ok(number: str, letter: str) -> bool:
    """Spanish DNI: the letter is ``TRWAGMYFPDXBNJZSQVHLCKE[number mod 23]``."""
    return len(number) == 8 and number.isdigit() and _DNI_LETTERS[int(number) % 23] == letter.upper()


def nie_letter_ok(prefix: str, number: str, letter: str) -> bool:
    """Spanish NIE: X/Y/Z stand for 0/1/2 in front of the seven digits, then the DNI letter rule."""
    return dni_letter_ok(str("XYZ".index(prefix.upper())) + number, letter)


# --- context --------------------------------------------------------------------------------------
_CURRENCY_AFTER = re.compile(r"[ \u00a0]?(?:€|\$|£|eur\b|euros?\b|usd\b|d[oó]lares\b|dollars?\b|libras\b)",
                             re.IGNORECASE)
_CURRENCY_BEFORE = re.compile(r"(?:€|\$|£|\beur|\busd)[ \u00a0]?$", re.IGNORECASE)
# Words after which a number is an identifier of something else, not a phone number.
_NOT_A_PHONE = re.compile(
    r"\b(?:order|pedido|ref|reference|referencia|invoice|factura|albar[aá]n|sku|c[oó]digo|code|id|serial|"
    r"serie|lote?|batch|tracking|seguimiento|env[ií]o|expediente|cuenta|account|cliente|customer|ticket|"
    r"item|art[ií]culo|product|producto|modelo|model|part|p[oó]liza|policy|contrato|contract)\b\.?"
    r"[ \u00a0]*(?:n[º°o]\.?|no\.|nr\.?|number|n[uú]mero|num\.?|#)?[ \u00a0]*[:#]?[ \u00a0]*$",
    re.IGNORECASE)
_PHONE_WORD = re.compile(
    r"\b(?:tel[eé]fonos?|tel[eé]f|telf?|tlfn?o?|tfno|m[oó]vil(?:es)?|celular|fijo|fax|whatsapp|"
    r"llam\w*|phone|telephone|mobile|cell|call|contact\w*|sms)\b", re.IGNORECASE)
_NOT_AN_IP = re.compile(
    r"(?:\bv|\bversi[oó]n|\bver\.?|\brelease|\bsecci[oó]n|\bsection|\bapartado|\bart[ií]culo|\bart\.|"
    r"\bcap[ií]tulo|\bchapter|\bstep|\bpaso|\bEC|\btable|\btabla|\bfig\.?|\bfigur[ae]|§)[ \u00a0]*$",
    re.IGNORECASE)
# A quantity, not a phone number: "734 000 000 millas", "612 345 678 habitantes".
_UNIT_AFTER = re.compile(
    r"[ \u00a0]*(?:mill|km|kg|m2|m²|ha\b|habitantes|personas|people|persons|units|unidades|toneladas|"
    r"tons?\b|años|years|veces|times|d[oó]lares|dollars|euros|visit|usuarios|users|copies|copias)",
    re.IGNORECASE)


def phone_context_ok(text: str, start: int, end: int, *, needs_keyword: bool = False,
                     prefixed: bool = False) -> bool:
    """False for a digit run that is a price or follows "order no.", "pedido", "ref" ...; with
    ``needs_keyword``, true only right after a word such as "tel.", "móvil", "phone"."""
    if _CURRENCY_AFTER.match(text, end) or _CURRENCY_BEFORE.search(text[max(0, start - 6):start]):
        return False
    if not prefixed and (_NOT_A_PHONE.search(text[max(0, start - 40):start]) or _UNIT_AFTER.match(text, end)
                         or text[start:end].replace(" ", "").endswith("000000")):
        return False
    return not needs_keyword or bool(_PHONE_WORD.search(text[max(0, start - 30):start]))


def ip_context_ok(text: str, start: int, end: int) -> bool:
    """False for dotted numbers that are versions, sections or enzyme numbers ("v1.2.3.4",
    "section 2.1.3.4", "EC 3.1.1.11"); four small numbers are one of those far more often than an
    address (and addresses such as 1.1.1.1 are public services, not personal data)."""
    if all(int(octet) <= 20 for octet in text[start:end].split(".")):
        return False
    return not _NOT_AN_IP.search(text[max(0, start - 20):start])
