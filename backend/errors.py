"""One root exception for the lab; every subclass carries a message a user can act on.

Pages show ``LabError.user_message`` through one helper (``ui.errors.show_error``) and log the
traceback; anything that is not a ``LabError`` is shown as a generic friendly message.
"""

from __future__ import annotations

from backend.messages import Message, msg


class LabError(Exception):
    """An error whose message says what went wrong and what to do about it."""

    #: a short stable code, used by the UI to look up a translated message when it has one
    code = "error"

    def __init__(self, message: str, *, hint: str | None = None, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details = details

    @property
    def user_message(self) -> str:
        """The message and its hint; a ``backend.messages.Message`` (translatable) when either is."""
        if not self.hint:
            return self.message
        if isinstance(self.message, Message) or isinstance(self.hint, Message):
            return msg("text.joined", first=self.message, second=self.hint)
        return f"{self.message} {self.hint}"

    def __str__(self) -> str:
        return self.user_message


class ConfigError(LabError):
    """A setting is missing, malformed or points at something that does not exist."""

    code = "config"


class DatabaseUnavailable(LabError):
    """Postgres cannot be reached or lacks what the lab needs (pgvector)."""

    code = "database"


class ModelUnavailable(LabError):
    """A configured model cannot be resolved or loaded."""

    code = "model"


class InputError(LabError):
    """Something a user supplied (a file, a form value) cannot be used as it is."""

    code = "input"


class JobCancelled(LabError):
    """Raised inside a job when a user asked to cancel it; the job stops cleanly."""

    code = "cancelled"

    def __init__(self, message: str = "The job was cancelled.") -> None:
        super().__init__(message)


class NotFound(LabError):
    """The thing asked for (a corpus, a job, a model) does not exist (any more)."""

    code = "not_found"
