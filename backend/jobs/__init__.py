"""The job system: long work (ingestion, training, evaluation) runs in worker processes.

A page never runs long work in its script run: it enqueues a job and polls it.

Write a handler (in a module listed in ``registry.HANDLER_MODULES``; import torch & co. inside it)::

    from backend.jobs.registry import handler

    @handler("finetune.train", queue="default")
    def train(ctx, params: dict) -> dict:
        start = ctx.load_state().get("step", 0)          # resume after a crash or a retry
        for step in range(start, params["steps"]):
            ...
            ctx.progress(step + 1, params["steps"], unit="steps", metrics={"loss": loss})
            if (step + 1) % 50 == 0:
                ctx.save_state({"step": step + 1})       # e.g. after writing a checkpoint
        return {"adapter_id": ...}                       # JSON: stored as the job's result

A progress message a user reads is a ``backend.messages.msg(key, **values)``: stored in English
and by key, so the interface shows it in the reader's language (add the key to
``backend/messages.py`` and its Spanish text to ``ui/strings_backend_es.py``).

``ctx.progress`` raises ``JobCancelled`` when a user cancels: let it propagate. Raise a
``LabError`` (e.g. ``InputError``) to fail the job with a message the user can act on.

Use it from a page: ``service.enqueue(lab, kind, params) -> job_id``; ``service.get_job``,
``job_events``, ``cancel``, ``retry``, ``list_jobs``, ``queue_counts``, ``workers``,
``worker_alive``. Run the workers with ``python -m backend.jobs.worker [--queues default,gpu]``.
In a test of a handler, ``runner.run_inline(lab, enqueue(lab, kind, params))`` runs the job in the
test process with the same bookkeeping, no worker needed.

Modules: ``registry`` (handlers by kind), ``context`` (``JobContext``), ``service`` (the API),
``runner`` (one attempt of a job), ``worker`` (the process), ``recovery`` (dead workers),
``queue`` (procrastinate), ``store`` (status changes), ``progress`` (rate and time left).
"""
