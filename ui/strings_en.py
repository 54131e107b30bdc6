"""English interface strings. Keys are stable identifiers; ``ui/strings_es.py`` has the same keys.

Short sentences, plain words first. The help texts of settings come from ``backend.config`` (their
single source), so they are added at the bottom rather than copied here.
"""

from backend.config import describe

STRINGS: dict[str, str] = {
    # --- frame ---------------------------------------------------------------------------------
    "app.title": "Strategy Lab",
    "nav.home": "Home",
    "nav.corpora": "Corpora",
    "nav.ask": "Ask",
    "nav.finetune": "Fine-tune",
    "nav.evaluate": "Evaluate",
    "nav.report": "Report",
    "nav.settings": "Settings",
    "sidebar.language": "Language · Idioma",
    "language.en": "English",
    "language.es": "Español",
    "sidebar.database_ok": "Database {version}",
    "sidebar.database_down": "Database unavailable",
    "sidebar.worker_ok": "Worker running",
    "sidebar.worker_down": "Worker not running",

    # --- strategies (legend names) ---------------------------------------------------------------
    "strategy.base": "Base model",
    "strategy.rag": "RAG",
    "strategy.finetuned": "Fine-tuned",
    "strategy.hybrid": "Hybrid",

    # --- home --------------------------------------------------------------------------------------
    "home.headline": "Which way should your model learn your documents?",
    "home.intro": "Strategy Lab builds three ways for a language model to answer from your "
                  "documents and measures them on the same questions. You see which one answers "
                  "best, how fast, and at what cost.",
    "home.card.what": "What it is",
    "home.card.strengths": "Strengths",
    "home.card.risks": "Risks",
    "home.card.rag.title": "Retrieval-augmented generation (RAG)",
    "home.card.rag.what": "Finds the passages that match the question and gives them to the model "
                          "with the question.",
    "home.card.rag.strengths": "Answers cite their sources. A changed document counts at once, "
                               "with no training.",
    "home.card.rag.risks": "Only as good as what it finds. Longer prompts make each answer slower.",
    "home.card.finetuned.title": "Fine-tuning",
    "home.card.finetuned.what": "Trains the model on questions and answers made from your "
                                "documents, so it answers from memory.",
    "home.card.finetuned.strengths": "Short prompts and fast answers. It learns your vocabulary "
                                     "and tone.",
    "home.card.finetuned.risks": "Training takes time. It can invent facts, and it must be "
                                 "retrained when documents change.",
    "home.card.hybrid.title": "Hybrid",
    "home.card.hybrid.what": "A fine-tuned model that also receives the retrieved passages.",
    "home.card.hybrid.strengths": "Knows the domain and still reads the evidence. Often the most "
                                  "accurate.",
    "home.card.hybrid.risks": "Pays both costs: training once, and retrieval at every answer.",
    "home.models_note": "The bundled models are small (a 135-million-parameter language model) and "
                        "work best in English. They show how the strategies compare, not what a "
                        "large model would score. You can configure any stronger model or an "
                        "OpenAI-compatible endpoint on Settings.",
    "home.open_settings": "Open Settings",

    # --- status strip -------------------------------------------------------------------------------
    "status.title": "System status",
    "status.postgres": "PostgreSQL",
    "status.pgvector": "pgvector",
    "status.models": "Models",
    "status.worker": "Worker",
    "status.jobs": "Jobs",
    "status.version": "version {version}",
    "status.unavailable": "unavailable",
    "status.kind.embedded": "embedded",
    "status.kind.external": "external",
    "status.models_count": "{ok} of {total} resolve",
    "status.worker_alive": "running",
    "status.worker_dead": "not running",
    "status.worker_hint": "Jobs wait in the queue until a worker starts.",
    "status.jobs_counts": "{queued} queued · {running} running",
    "status.schema_ok": "up to date ({count} migrations)",
    "status.schema_pending": "{count} migrations pending",
    "status.optional": "optional",
    "status.model_details": "Model details",

    # --- errors ---------------------------------------------------------------------------------------
    "error.generic": "Something went wrong; details are in the log.",
    "error.details": "Details: {details}",
    "error.error": "Something went wrong.",
    "error.config": "A setting needs attention.",
    "error.database": "The database is not available.",
    "error.model": "A model is not available.",
    "error.input": "This input cannot be used.",
    "error.cancelled": "The job was cancelled.",
    "error.not_found": "It was not found.",

    # --- jobs ----------------------------------------------------------------------------------------
    "job.status.queued": "Queued",
    "job.status.running": "Running",
    "job.status.cancelling": "Cancelling",
    "job.status.succeeded": "Done",
    "job.status.failed": "Failed",
    "job.status.cancelled": "Cancelled",
    "job.status.stalled": "Stalled",
    "job.progress": "{step} of {total} {unit}",
    "job.progress_open": "{step} {unit} so far",
    "job.rate_second": "{rate} {unit}/s",
    "job.rate_minute": "{rate} {unit}/min",
    "job.eta": "about {duration} left",
    "job.took": "took {duration}",
    "job.attempt": "attempt {attempt}",
    "job.cancel": "Cancel",
    "job.cancel_help": "Stops the job after the current step. Finished work is kept.",
    "job.failed": "The job failed: {error}",
    "job.unit_default": "steps",
    "jobs.none": "No jobs yet.",
    "jobs.col.title": "Job",
    "jobs.col.kind": "Kind",
    "jobs.col.status": "Status",
    "jobs.col.progress": "Progress",
    "jobs.col.created": "Created",
    "jobs.col.duration": "Duration",
    "jobs.col.message": "Message",
    "unit.steps": "steps",
    "unit.documents": "documents",
    "unit.files": "files",
    "unit.chunks": "chunks",
    "unit.questions": "questions",
    "unit.examples": "examples",
    "unit.batches": "batches",
    "unit.items": "items",
    "duration.hours": "{h} h {m:02d} min",
    "duration.minutes": "{m} min {s:02d} s",
    "duration.seconds": "{s} s",

    # --- settings ---------------------------------------------------------------------------------------
    "settings.title": "Settings",
    "settings.intro": "Saved values override the environment and apply to new jobs. "
                      "Environment-only fields are read when the lab starts.",
    "settings.where": "Where things live",
    "settings.data_folder": "Data folder",
    "settings.database": "Database",
    "settings.embedded": "embedded Postgres in the data folder",
    "settings.group.storage": "Storage",
    "settings.group.models": "Models",
    "settings.group.judge": "Judge model",
    "settings.group.limits": "Limits",
    "settings.group.cost": "Cost",
    "settings.group.interface": "Interface",
    "settings.group.general": "General",
    "settings.env_only": "Set with the environment variable `{env}`; restart the lab to change it.",
    "settings.env_var": "Environment variable: `{env}`.",
    "settings.source.saved": "Saved here.",
    "settings.source.env": "From the environment (`{env}`).",
    "settings.secret_set": "Set (hidden). Type a new value to replace it.",
    "settings.secret_unset": "Not set.",
    "settings.save": "Save",
    "settings.reset": "Reset to default",
    "settings.reset_help": "Forget the saved value; the environment or the default applies again.",
    "settings.saved": "Saved: {names}.",
    "settings.reset_done": "Back to the default: {name}.",
    "settings.nothing_changed": "Nothing changed.",
    "settings.field.data_dir": "Data folder",
    "settings.field.database_url": "Database URL",
    "settings.field.artifact_dir": "Shared artifact folder",
    "settings.field.llm_model": "Generation model",
    "settings.field.llm_api_base": "Generation endpoint URL",
    "settings.field.llm_api_key": "Generation API key",
    "settings.field.embed_model_en": "Embedding model (English)",
    "settings.field.embed_model_multi": "Embedding model (Spanish and mixed)",
    "settings.field.embed_api_base": "Embeddings endpoint URL",
    "settings.field.embed_api_key": "Embeddings API key",
    "settings.field.dtype": "Number format",
    "settings.field.device": "Device",
    "settings.field.judge_api_base": "Judge endpoint URL",
    "settings.field.judge_model": "Judge model",
    "settings.field.judge_api_key": "Judge API key",
    "settings.field.max_upload_mb": "Largest upload (MB)",
    "settings.field.max_zip_uncompressed_mb": "Largest unpacked ZIP (MB)",
    "settings.field.max_zip_files": "Most files in a ZIP",
    "settings.field.worker_threads": "Worker threads",
    "settings.field.heartbeat_seconds": "Heartbeat (seconds)",
    "settings.field.stalled_after_seconds": "Stalled after (seconds)",
    "settings.field.max_job_attempts": "Attempts per job",
    "settings.field.checkpoints_keep": "Checkpoints kept",
    "settings.field.price_per_hour": "Machine price per hour (USD)",
    "settings.field.price_per_1k_tokens_in": "Price per 1,000 prompt tokens (USD)",
    "settings.field.price_per_1k_tokens_out": "Price per 1,000 generated tokens (USD)",
    "settings.field.language": "Default language",
    "settings.field.port": "Port",
}

# One source for the help texts: the settings' own declarations.
STRINGS.update({f"settings.help.{f['name']}": f["help"] for f in describe()})
