"""Job handlers registered by kind (STYLE habit 9: adding a kind of job touches one file).

A handler is ``fn(ctx: JobContext, params: dict) -> dict``: it reports progress through ``ctx``,
stops when ``ctx`` raises ``JobCancelled`` and returns a JSON-serialisable result. Modules that
define handlers must import heavy libraries (torch, transformers) inside the handler, not at module
level: the dashboard imports them too, to learn each kind's queue when it enqueues.
"""

from __future__ import annotations

import importlib
import logging
import os
import traceback
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from backend.errors import NotFound

if TYPE_CHECKING:
    from backend.jobs.context import JobContext

log = logging.getLogger(__name__)

Handler = Callable[["JobContext", dict], "dict[str, Any] | None"]

#: Modules whose import registers the lab's handlers. Extend this tuple when adding a module.
HANDLER_MODULES: tuple[str, ...] = ("backend.corpus.ingest", "backend.finetune.jobs", "backend.evaluate.runner",
                                    "backend.evaluate.freshness", "backend.demo.loader")

#: Comma-separated extra modules to import (tests use ``tests.jobs_fixtures``).
EXTRA_ENV = "LAB_EXTRA_HANDLERS"
DEFAULT_QUEUE = "default"


@dataclass(frozen=True)
class HandlerSpec:
    kind: str
    fn: Handler
    queue: str


_handlers: dict[str, HandlerSpec] = {}
_import_errors: dict[str, str] = {}


def handler(kind: str, *, queue: str = DEFAULT_QUEUE) -> Callable[[Handler], Handler]:
    """Register the decorated function as the handler of jobs of ``kind``, run on ``queue``
    unless the job was enqueued on another one. Registering a different function under a kind
    that is taken raises ``ValueError`` (re-importing the same module is fine)."""
    if not kind or not isinstance(kind, str):
        raise ValueError("a job kind is a non-empty string")

    def register(fn: Handler) -> Handler:
        existing = _handlers.get(kind)
        same = existing is not None and (existing.fn.__module__, existing.fn.__qualname__) == (
            fn.__module__, fn.__qualname__)
        if existing is not None and not same:
            raise ValueError(f"job kind {kind!r} is already handled by "
                             f"{existing.fn.__module__}.{existing.fn.__qualname__}")
        _handlers[kind] = HandlerSpec(kind, fn, queue)
        return fn

    return register


def get_handler(kind: str) -> Handler:
    """The handler of ``kind``; raises ``NotFound`` saying which kinds exist (and which handler
    modules failed to import, the usual reason a kind is missing)."""
    spec = _handlers.get(kind)
    if spec is None:
        known = ", ".join(sorted(_handlers)) or "none"
        hint = f"Known kinds: {known}."
        if _import_errors:
            hint += " Handler modules that failed to import: " + "; ".join(
                f"{m} ({err})" for m, err in _import_errors.items())
        raise NotFound(f"There is no handler for jobs of kind {kind!r} in this worker.", hint=hint)
    return spec.fn


def handler_queue(kind: str) -> str | None:
    """The queue ``kind`` is registered on, or None if the kind is not known in this process."""
    spec = _handlers.get(kind)
    return spec.queue if spec else None


def known_kinds() -> list[str]:
    """The registered kinds, sorted."""
    return sorted(_handlers)


def handler_module_names(environ: dict[str, str] | None = None) -> list[str]:
    """``HANDLER_MODULES`` plus the modules named in ``LAB_EXTRA_HANDLERS``, without duplicates."""
    environ = os.environ if environ is None else environ
    extra = [m.strip() for m in environ.get(EXTRA_ENV, "").split(",") if m.strip()]
    return list(dict.fromkeys([*HANDLER_MODULES, *extra]))


def load_handler_modules() -> None:
    """Import every handler module so its handlers register themselves.

    A module that fails to import is logged with its traceback and remembered (``get_handler``
    names it), instead of taking the whole worker or page down with it.
    """
    for name in handler_module_names():
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - reported, and named again by get_handler
            _import_errors[name] = f"{type(exc).__name__}: {exc}"
            log.error("cannot import job handler module %s:\n%s", name, traceback.format_exc())
        else:
            _import_errors.pop(name, None)
