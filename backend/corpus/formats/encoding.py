"""Turn the bytes of a text file (TXT, Markdown, HTML, CSV, JSONL) into a string, whatever its encoding.

Order of preference: a byte-order mark, an encoding the file declares (HTML ``<meta charset>``),
UTF-8, then Windows-1252, then ``charset-normalizer``'s best guess. Windows-1252 comes before the
general detector on purpose: the lab's languages are Spanish and English, legacy files from Windows
and Excel are Windows-1252 in practice, and on short texts the detector prefers Central European code
pages that turn "niño" into "nińo". It is only taken when every non-ASCII character it produces is
one that Spanish, English or their Western neighbours use; anything else goes to the detector.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

from backend.errors import InputError
from backend.messages import msg

_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))

# Characters Windows-1252 text in Spanish, English, Portuguese, French, Catalan or German produces.
_WESTERN = set(
    "áéíóúüñçàèìòùâêîôûäëïöãõÁÉÍÓÚÜÑÇÀÈÌÒÙÂÊÎÔÛÄËÏÖÃÕß"
    "¿¡ºª€“”‘’«»–—…·•°£¥©®™±×÷§¶\u00a0½¼¾²³"
)
_CONTROLS = re.compile(r"[\x01-\x08\x0b\x0e-\x1f\x7f-\x9f]")  # all but tab, newline, form feed, CR
_NON_ASCII = re.compile(r"[^\x00-\x7f]")

UNREADABLE_HINT = msg("upload.encoding_hint")


def _looks_like_text(text: str) -> bool:
    """False for what is really binary data decoded as text (NULs, many control characters)."""
    if "\x00" in text:
        return False
    return len(_CONTROLS.findall(text)) <= max(1, len(text) // 200)


def _western(text: str) -> bool:
    non_ascii = _NON_ASCII.findall(text)
    return sum(ch in _WESTERN for ch in non_ascii) >= 0.97 * len(non_ascii)


def decode_text(data: bytes, *, declared: str | None = None) -> tuple[str, str]:
    """``(text, encoding)`` for the bytes of a text file; ``InputError`` when no encoding fits.

    ``encoding`` names what was used ("utf-8", "cp1252", ...) so callers can note a non-UTF-8 file.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding.replace("-sig", "")
            except UnicodeDecodeError:
                break  # a BOM followed by garbage: let the detector judge
    candidates = [declared] if declared else []
    candidates.append("utf-8")
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
        if _looks_like_text(text):
            return text, codecs.lookup(encoding).name
    try:
        text = data.decode("cp1252")
        if _looks_like_text(text) and _western(text):
            return text, "cp1252"
    except UnicodeDecodeError:
        pass  # one of the five bytes cp1252 leaves undefined: not Windows-1252
    best = from_bytes(data).best()
    if best is not None:
        text = str(best)
        if _looks_like_text(text):
            return text, best.encoding
    raise InputError(msg("upload.encoding"), hint=UNREADABLE_HINT)
