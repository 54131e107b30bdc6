"""The messages jobs show while they run (progress, cancellation, retries), by key.

A job's message is stored twice: as English text in ``jobs.message`` (for logs, the CLI and any
reader of the database) and as its key and values in ``jobs.message_i18n``, so that the interface
shows it in the reader's language (``backend.<key>`` in ``ui/strings_backend_<lang>.py``; the English
one is this catalogue). ``Message`` is a ``str`` (the English text), so every place that passes a
message along keeps working; only the places that store one look at its key.

Values may themselves be messages (a demo stage's message carries the inner step's message): they
are stored as nested ``{"key", "args"}`` objects and translated first.
"""

from __future__ import annotations

from typing import Any

#: key -> English text (``str.format`` fields). Keep the fields the same in every translation.
TEXTS: dict[str, str] = {
    "text.joined": "{first} {second}",  # a message and its hint
    # the life of any job
    "job.waiting": "Waiting for a worker",
    "job.starting": "Starting",
    "job.resuming": "Resuming",
    "job.cancelling": "Cancelling",
    "job.cancelled": "Cancelled.",
    "job.cancelled_before_start": "Cancelled before it started.",
    "job.cancelled_worker_stopped": "Cancelled (its worker stopped).",
    "job.queued_again": "Queued again (attempt {attempt})",
    "job.queue_place_lost": "Its place in the queue was lost; queued again.",
    "job.worker_unresponsive": "The worker running this job ({worker}) stopped responding; the job "
                               "resumes on the next free worker (attempt {attempt} of {attempts}).",
    "job.worker_stopped": "The worker running this job was stopped; the job resumes on the next "
                          "free worker (attempt {attempt}).",
    # ingestion and index builds
    "ingest.reading": "reading file {number}/{files}",
    "ingest.to_ingest": "{files} file(s) to ingest",
    "ingest.progress": "{done}/{files} files · {chunks} chunks · {rate} embeddings/s",
    "ingest.added": "{n} added",
    "ingest.replaced": "{n} replaced",
    "ingest.unchanged": "{n} unchanged",
    "ingest.chunks_one": "({n} chunk)",
    "ingest.chunks": "({n} chunks)",
    "index.to_index": "{documents} documents to index",
    "index.progress": "{done}/{documents} documents · {chunks} chunks",
    # fine-tuning
    "finetune.step": "Step {step} of {steps}, epoch {epoch} of {epochs}",
    "finetune.validated": "Validation loss measured",
    "finetune.saving": "Saving the model",
    # evaluation
    "evaluate.answered": "{done}/{total} answered",
    "evaluate.answered_by": "{done}/{total} answered ({strategy})",
    "evaluate.scoring_count": "Scoring {answers} answers",
    "evaluate.scoring": "Scoring",
    "evaluate.judging_count": "Judging {answers} answers",
    "evaluate.judging": "Judging",
    # the freshness check
    "freshness.before": "Asked before the change ({strategy})",
    "freshness.ingested": "Ingested in {seconds} s",
    "freshness.after_ingestion": "Asked after ingestion ({strategy})",
    "freshness.retraining": "Retraining: {detail}",
    "freshness.after_retrain": "Asked after the retrain ({strategy})",
    # Load demo: "2/6 Storing the question set · <the stage's own message>"
    "demo.stage": "{number}/{stages} {stage}",
    "demo.stage_detail": "{number}/{stages} {stage} · {detail}",
    "demo.stages.corpus": "Ingesting the documents",
    "demo.stages.questions": "Storing the question set",
    "demo.stages.dataset": "Building the training data",
    "demo.stages.finetune": "Training the LoRA adapter",
    "demo.stages.evaluate": "Evaluating the four strategies",
    "demo.stages.freshness": "Preparing the freshness check",
    # job titles
    "title.ingest": "Ingest {files} file(s) into {corpus}",
    "title.build_index": "Build index ({model}, {chunking})",
    "title.evaluate": "Evaluate {run}",
    "title.finetune": "Fine-tune ({method}) on {dataset}",
    "title.demo": "Load the Nortera demo",
    "method.full": "full",
    "method.partial": "partial",
    "method.adapter": "adapter",
    # uploads: what is wrong with a file, and what to do about it
    "upload.empty": "The file is empty (0 bytes). Check that it is the file you meant to upload.",
    "upload.empty_in_zip": "The file is empty (0 bytes). Check that it is the file you meant.",
    "upload.too_large": "The file is {size}; the largest upload allowed is {limit}. Split it into "
                        "smaller files.",
    "upload.unsupported": "Files of type {ext} are not supported. Supported types: {supported}.",
    "upload.no_extension": "The file has no extension, so its type is unknown. Supported types: "
                           "{supported}.",
    "upload.save_as_docx": "Open it in Word or LibreOffice and save it as .docx.",
    "upload.save_as_docx_or_pdf": "Save it as .docx or PDF.",
    "upload.export_pdf": "Save or export it as PDF.",
    "upload.export_csv": "Export the sheet as CSV (UTF-8).",
    "upload.save_as_jsonl": "Save it as JSON Lines (.jsonl): one JSON object per line.",
    "upload.repack_zip": "Re-pack the files as a .zip.",
    "upload.unexpected": "Something went wrong while reading this file; the details are in the "
                         "lab's log. Try saving it again in another supported format.",
    "upload.nested": "The {format} is nested too deeply to read. Save it again in a simpler form.",
    "upload.damaged": "The file could not be read as a {format}: it seems damaged or is not really "
                      "that type of file. Open and save it again, then upload the new copy.",
    "upload.zip_no_files": "The ZIP holds no files.",
    "upload.zip_invalid": "The file is not a valid ZIP archive (it may be damaged or incomplete).",
    "upload.zip_invalid_hint": "Create the ZIP again and upload it, or upload the files one by one.",
    "upload.pdf_damaged": "The file could not be read as a PDF: it is damaged or is not really a "
                          "PDF.",
    "upload.pdf_resave": "Open it in a PDF viewer and save or print it to a new PDF, then upload "
                         "that copy.",
    "upload.pdf_encrypted": "The PDF is encrypted: upload a decrypted copy.",
    "upload.pdf_encrypted_hint": "Open it with its password and save or print it to a new PDF "
                                 "without one.",
    "upload.pdf_no_pages": "The PDF has no pages.",
    "upload.pdf_scanned": "The PDF has no text layer: its pages look like scanned images, and the "
                          "lab does not do OCR (text recognition).",
    "upload.pdf_scanned_hint": "Run it through OCR software (e.g. OCRmyPDF or your scanner's "
                               "software) and upload the result, or upload the original document "
                               "it was made from.",
    "upload.docx_old": "This is an old-format Word file (.doc) or a password-protected document, "
                       "which the lab cannot read.",
    "upload.docx_old_hint": "Open it in Word or LibreOffice and save it as .docx without a "
                            "password.",
    "upload.docx_damaged": "The file could not be read as a Word document (.docx): it is damaged "
                           "or is not really a .docx.",
    "upload.docx_resave": "Open it in Word or LibreOffice and save it again as .docx, then upload "
                          "that copy.",
    "upload.no_text": "The file contains no text to index.",
    "upload.no_text_docx": "The Word document contains no text to index.",
    "upload.no_text_blank": "The file contains only blank space: there is no text to index.",
    "upload.no_text_markdown": "The Markdown file contains no text to index.",
    "upload.no_text_html": "The web page has no visible text to index.",
    "upload.check_file": "Check that it is the file you meant to upload.",
    "upload.encoding": "The text encoding of this file could not be recognised (it may not be a "
                       "text file).",
    "upload.encoding_hint": "Save it as UTF-8 text (most editors offer this under “Save as” → "
                            "Encoding) and upload it again.",
    # the names of the file types, as a message names them
    "format.docx": "Word document (.docx)",
    "format.txt": "plain text",
    "format.markdown": "Markdown",
    "format.csv": "CSV table",
    "format.jsonl": "JSON Lines",
    "format.html": "web page (HTML)",
    "format.pdf": "PDF",
}


class Message(str):
    """A message a user reads: its English text (this ``str``), its ``key`` and its values."""

    key: str
    args: dict[str, Any]

    def __new__(cls, key: str, **args: Any) -> "Message":
        self = super().__new__(cls, TEXTS[key].format(**args))
        self.key, self.args = key, args
        return self

    def __reduce__(self):  # copy, deepcopy (dataclasses.asdict) and pickle rebuild it by key
        return (_rebuild, (self.key, self.args))

    def as_json(self) -> dict[str, Any]:
        """``{"key", "args"}``, nested messages included, for ``jobs.message_i18n``."""
        return {"key": self.key,
                "args": {k: v.as_json() if isinstance(v, Message) else v for k, v in self.args.items()}}


def _rebuild(key: str, args: dict[str, Any]) -> Message:
    return Message(key, **args)


def msg(key: str, **args: Any) -> Message:
    """The message ``key`` with ``args`` (numbers already rounded as they should be read)."""
    return Message(key, **args)


def as_json(text: str | None) -> dict[str, Any] | None:
    """What ``jobs.message_i18n`` stores for ``text``: its key and values if it is a ``Message``,
    else None (a plain text has no translation and is shown as it is)."""
    return text.as_json() if isinstance(text, Message) else None


def as_jsonb(text: str | None):
    """``as_json(text)`` as a psycopg parameter for a jsonb column (None stays NULL)."""
    data = as_json(text)
    if data is None:
        return None
    from psycopg.types.json import Jsonb

    return Jsonb(data)
