"""Find and redact personal data in text: e-mails, phone numbers, IBANs, payment cards, Spanish
DNI/NIE, US social security numbers and IPv4 addresses.

Precision over recall: a finding must pass its checksum where the identifier has one (IBAN
mod-97, card Luhn, DNI/NIE check letter), and phone numbers must look like phone numbers — a
"+" prefix, a usual grouping ("612 34 56 78"), or, for nine bare digits, a word like "tel." or
"móvil" just before — and not follow "order", "pedido", "ref", ... nor sit next to a currency.
Passport numbers are left out: their formats ("AAA123456") are indistinguishable from product
codes without a checksum. Patterns live in ``_DETECTORS``, checks in small functions.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Callable, Hashable, Iterable, Iterator, TypeVar

from backend.corpus.sensitive_rules import (IBAN_LENGTHS, dni_letter_ok, ip_context_ok, luhn_ok, mod97_ok,
                                            nie_letter_ok, phone_context_ok)

#: kinds in order of precedence: where two overlap, the earlier kind wins
KINDS = ("email", "iban", "card", "nie", "dni", "ssn", "phone", "ip")
PLACEHOLDERS = {kind: f"[{kind.upper()}]" for kind in KINDS}
LABELS = {"email": "e-mail addresses", "iban": "bank accounts (IBAN)", "card": "payment card numbers",
          "nie": "foreigner IDs (NIE)", "dni": "national IDs (DNI)", "ssn": "US social security numbers",
          "phone": "phone numbers", "ip": "IP addresses"}

K = TypeVar("K", bound=Hashable)

_SEP = r"[ \u00a0.\-]"  # separators inside phone numbers (not newlines: never join two lines)


@dataclass(frozen=True)
class Finding:
    """One identifier found in a text; ``text`` is masked for display ("j***@example.com")."""

    kind: str
    start: int
    end: int
    text: str


# --- detectors: a pattern, and a check that may refuse or shorten each match ------------------------
Check = Callable[[str, re.Match], "tuple[int, int] | None"]


def _whole(text: str, m: re.Match) -> tuple[int, int]:
    return m.start(), m.end()


def _check_iban(text: str, m: re.Match) -> tuple[int, int] | None:
    raw = m.group(0)
    length = IBAN_LENGTHS.get(raw[:2])
    positions = [i for i, ch in enumerate(raw) if ch.isalnum()]
    if length is None or len(positions) < length:
        return None
    compact = "".join(raw[i] for i in positions[:length])
    return (m.start(), m.start() + positions[length - 1] + 1) if mod97_ok(compact) else None


def _check_card(text: str, m: re.Match) -> tuple[int, int] | None:
    raw = m.group(0)
    seps = set(re.findall(r"[ \-]", raw))
    if len(seps) > 1:
        return None
    groups = re.split(r"[ \-]", raw)
    # A trailing group may be a CVV, a year or another number: try shorter prefixes too.
    for k in range(len(groups), 0, -1):
        digits = "".join(groups[:k])
        if not 13 <= len(digits) <= 19:
            continue
        if k > 1 and not all(3 <= len(g) <= 6 for g in groups[:k]):
            continue
        if digits[0] in "23456" and len(set(digits)) > 1 and luhn_ok(digits):
            return m.start(), m.start() + len(" ".join(groups[:k]))
    return None


def _check_dni(text: str, m: re.Match) -> tuple[int, int] | None:
    return _whole(text, m) if dni_letter_ok(m.group("num").replace(".", ""), m.group("letter")) else None


def _check_nie(text: str, m: re.Match) -> tuple[int, int] | None:
    return _whole(text, m) if nie_letter_ok(m.group("prefix"), m.group("num"), m.group("letter")) else None


def _phone(needs_keyword: bool = False, prefixed: bool = False) -> Check:
    def check(text: str, m: re.Match) -> tuple[int, int] | None:
        digits = re.sub(r"\D", "", m.group(0))
        if not 8 <= len(digits) <= 15:
            return None
        if not phone_context_ok(text, m.start(), m.end(), needs_keyword=needs_keyword, prefixed=prefixed):
            return None
        return _whole(text, m)
    return check


def _check_international(text: str, m: re.Match) -> tuple[int, int] | None:
    raw = m.group(0)
    compact = raw.replace(") ", ")").replace(" (", "(")
    if (raw.count("(") != raw.count(")") or re.search(r"[ \u00a0.\-]{2,}", compact)
            or re.search(r"\((?!\d+\))", compact)):
        return None  # doubled separators or brackets around anything but digits: not a phone number
    while len(re.sub(r"\D", "", raw)) > 15 and re.search(r"[ \u00a0.\-]\d+$", raw):
        raw = re.sub(r"[ \u00a0.\-]\d+$", "", raw)  # a number that merely follows the phone number
    end = m.start() + len(raw)
    if not 8 <= len(re.sub(r"\D", "", raw)) <= 15 or not phone_context_ok(text, m.start(), end, prefixed=True):
        return None
    return m.start(), end


def _check_ip(text: str, m: re.Match) -> tuple[int, int] | None:
    if m.group(0).startswith("0.") or not ip_context_ok(text, m.start(), m.end()):
        return None
    return _whole(text, m)


_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_NO_DIGIT_AFTER = r"(?!\w|[.,/\-]\d)"  # not running on into a longer number, a decimal or a date
_DETECTORS: list[tuple[str, re.Pattern, Check]] = [
    ("email", re.compile(r"(?<![\w.%+\-])\w[\w.%+\-]{0,63}@"
                         r"(?:[^\W_](?:[\w\-]{0,61}[^\W_])?\.)+[A-Za-z]{2,24}(?![\w\-])"), _whole),
    ("iban", re.compile(r"(?<!\w)[A-Z]{2}\d{2}(?:[ \u00a0]?[A-Z0-9]){11,30}(?![a-z0-9])"), _check_iban),
    ("card", re.compile(r"(?<![\w\-.,/])\d(?:[ \-]?\d){12,22}(?![\w\-]|[.,/]\d)"), _check_card),
    ("nie", re.compile(r"(?<![\w\-.])(?P<prefix>[XYZxyz])[ \-]?(?P<num>\d{7})[ \-]?(?P<letter>[A-Za-z])(?!\w)"),
     _check_nie),
    ("dni", re.compile(r"(?<![\w\-.,/])(?P<num>\d{8}|\d{2}\.\d{3}\.\d{3})[ \-]?(?P<letter>[A-Za-z])(?!\w)"),
     _check_dni),
    ("ssn", re.compile(r"(?<![\w\-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\w\-])"), _whole),
    # Spanish numbers with the country prefix: any grouping of the nine digits.
    ("phone", re.compile(r"(?<![\w+])(?:\+|00)34" + _SEP + r"?(?:\(0\))?[6789](?:" + _SEP + r"?\d){8}"
                         r"(?!\w|[.,]\d)"), _phone(prefixed=True)),
    # Spanish numbers without it, in the usual groupings (3-3-3 only with spaces or dashes: with
    # dots it is how Spanish writes thousands).
    ("phone", re.compile(r"(?<![\w+.,/\-])(?:[6789]\d{2}(?P<a>[ \u00a0\-])\d{3}(?P=a)\d{3}"
                         r"|[6789]\d{2}(?P<b>" + _SEP + r")\d{2}(?P=b)\d{2}(?P=b)\d{2}"
                         r"|[6789]\d(?P<c>" + _SEP + r")\d{3}(?P=c)\d{2}(?P=c)\d{2})" + _NO_DIGIT_AFTER), _phone()),
    # Nine bare digits: only right after a word such as "tel.", "móvil", "phone".
    ("phone", re.compile(r"(?<![\w+.,/\-])[6789]\d{8}" + _NO_DIGIT_AFTER), _phone(needs_keyword=True)),
    # North American numbers: (415) 555-2671, 415-555-2671, 415.555.2671, 1-800-555-0199.
    ("phone", re.compile(r"(?<![\w+(\-.])(?:1[\-. ])?(?:\([2-9]\d{2}\) ?|[2-9]\d{2}[\-. \u00a0])\d{3}[\-.]\d{4}"
                         r"(?!\w|[.,\-]\d)"), _phone()),
    # Anything else written with a leading "+": +44 20 7946 0958, +1 (415) 555-2671.
    ("phone", re.compile(r"(?<![\w+])\+[1-9][\d \u00a0.\-()]{6,24}\d(?!\w|[.,]\d)"), _check_international),
    ("ip", re.compile(r"(?<![\w.])" + _OCTET + r"(?:\." + _OCTET + r"){3}(?![\w]|\.\d)"), _check_ip),
]


def _candidates(text: str) -> Iterator[tuple[int, int, int, str]]:
    for kind, pattern, check in _DETECTORS:
        for m in pattern.finditer(text):
            span = check(text, m)
            if span:
                yield KINDS.index(kind), span[0], span[1], kind


def _mask(kind: str, value: str) -> str:
    if kind == "email":
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    keep = 4 if kind in ("iban", "card") else 3
    alnum = [i for i, ch in enumerate(value) if ch.isalnum()]
    hidden = set(alnum[2 if kind == "iban" else 0: max(0, len(alnum) - keep)])
    return "".join("*" if i in hidden else ch for i, ch in enumerate(value))


def scan(text: str) -> list[Finding]:
    """Every identifier in ``text``, in order of position, without overlaps (see ``KINDS``)."""
    taken: list[tuple[int, int]] = []  # accepted spans, sorted by start
    found = []
    for _, start, end, kind in sorted(_candidates(text)):
        i = bisect.bisect_left(taken, (start, end))
        if (i > 0 and taken[i - 1][1] > start) or (i < len(taken) and taken[i][0] < end):
            continue  # overlaps an identifier of a kind that takes precedence
        taken.insert(i, (start, end))
        found.append(Finding(kind, start, end, _mask(kind, text[start:end])))
    return sorted(found, key=lambda f: f.start)


def counts(findings: Iterable[Finding]) -> dict[str, int]:
    """How many findings of each kind (kinds with none are left out)."""
    out: dict[str, int] = {}
    for finding in findings:
        out[finding.kind] = out.get(finding.kind, 0) + 1
    return out


def redact(text: str) -> str:
    """``text`` with every finding replaced by its kind's placeholder ("[EMAIL]", "[IBAN]", ...)."""
    out, last = [], 0
    for finding in scan(text):
        out.append(text[last:finding.start])
        out.append(PLACEHOLDERS[finding.kind])
        last = finding.end
    out.append(text[last:])
    return "".join(out)


def scan_many(texts: Iterable[tuple[K, str]]) -> dict[K, dict[str, int]]:
    """Counts per kind for each ``(key, text)``; every key is present (an empty dict when clean).
    A key given twice gets the sum of its texts' counts."""
    out: dict[K, dict[str, int]] = {}
    for key, text in texts:
        total = out.setdefault(key, {})
        for kind, n in counts(scan(text)).items():
            total[kind] = total.get(kind, 0) + n
    return out
