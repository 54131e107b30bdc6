"""Backend messages (job progress, cancellation, retries; upload problems) in English: the backend's own catalogue
(``backend/messages.py``), so the English text shown is exactly the text stored."""

from backend.messages import TEXTS

STRINGS: dict[str, str] = {f"backend.{key}": text for key, text in TEXTS.items()}
