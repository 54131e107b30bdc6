"""The messages jobs show while they run (progress, cancellation, retries), by key.

A job's message is stored twice: as English text in ``jobs.message`` (for logs, the CLI and any
reader of the database) and as its key and values in ``jobs.message_i18n``, so that the interface
shows it in the reader's language (``jobmsg.<key>`` in ``ui/strings_jobmsg_<lang>.py``; the English
one is this catalogue). ``Message`` is a ``str`` (the English text), so every place that passes a
message along keeps working; only the places that store one look at its key.

Values may themselves be messages (a demo stage's message carries the inner step's message): they
are stored as nested ``{"key", "args"}`` objects and translated first.
"""

from __future__ import annotations

from typing import Any

#: key -> English text (``str.format`` fields). Keep the fields the same in every translation.
TEXTS: dict[str, str] = {
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
}


class Message(str):
    """A message a user reads: its English text (this ``str``), its ``key`` and its values."""

    key: str
    args: dict[str, Any]

    def __new__(cls, key: str, **args: Any) -> "Message":
        self = super().__new__(cls, TEXTS[key].format(**args))
        self.key, self.args = key, args
        return self

    def as_json(self) -> dict[str, Any]:
        """``{"key", "args"}``, nested messages included, for ``jobs.message_i18n``."""
        return {"key": self.key,
                "args": {k: v.as_json() if isinstance(v, Message) else v for k, v in self.args.items()}}


def msg(key: str, **args: Any) -> Message:
    """The message ``key`` with ``args`` (numbers already rounded as they should be read)."""
    return Message(key, **args)


def as_json(text: str | None) -> dict[str, Any] | None:
    """What ``jobs.message_i18n`` stores for ``text``: its key and values if it is a ``Message``,
    else None (a plain text has no translation and is shown as it is)."""
    return text.as_json() if isinstance(text, Message) else None
