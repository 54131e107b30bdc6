"""The lab context: settings plus a migrated database, built once per process.

Pages (through a cached resource), the worker, the CLI and tests all start from ``open_lab()``;
services receive what they need from it (STYLE habit 6: dependencies passed in).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field, replace
from typing import Mapping

from backend import config
from backend.config import Settings
from backend.db import Database, database_url
from backend.db.migrate import migrate

log = logging.getLogger(__name__)

# Nothing in the lab may reach a model hub at run time.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("RAGAS_DO_NOT_TRACK", "true")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# oneDNN keeps the kernels it builds for each input shape (up to 1,024 of them). Training with
# dynamic padding meets a new shape at almost every step: that cache grew a LoRA job from 1.0 to
# 1.66 GB over 90 steps. 64 entries keep it at 1.38 GB; 8 (1.32 GB) were too few for the kernels
# of one step's forward and backward, which then rebuilt them every step: 8% fewer tokens/s.
os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "64")


@dataclass(frozen=True)
class Lab:
    settings: Settings
    db: Database
    #: the environment this lab was opened with (None: the process environment)
    environ: Mapping[str, str] | None = field(default=None, compare=False, hash=False, repr=False)

    def reload_settings(self) -> "Lab":
        """A copy with the settings users saved since (workers call this when a job starts)."""
        from backend.db.settings_store import load_saved

        return replace(self, settings=config.build(self.environ, load_saved(self.db)))


def open_lab(environ: Mapping[str, str] | None = None, *, apply_migrations: bool = True) -> Lab:
    """Resolve the database (starting the embedded one if needed), migrate, load settings."""
    base = config.build(environ)
    url = database_url(base)
    if apply_migrations:
        applied = migrate(url)
        if applied:
            log.info("database migrated: %s", ", ".join(applied))
    db = Database(url)
    from backend.db.settings_store import load_saved

    frozen_env = dict(environ) if environ is not None else None
    return Lab(settings=config.build(environ, load_saved(db)), db=db, environ=frozen_env)
