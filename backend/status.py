"""Health of a running lab, for the status strip and the CLI (no Streamlit here).

Every check is independent: it catches its own failure and reports it as ``ok: False`` with a
message a user can act on, so one broken part (say, a missing model) never hides the others.
Each check returns a dict with at least ``ok`` (bool) and ``detail`` (str).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Callable

from backend.config import mask_url
from backend.errors import LabError

if TYPE_CHECKING:
    from backend.lab import Lab

log = logging.getLogger(__name__)


def _describe(exc: BaseException, lab: "Lab | None" = None) -> str:
    """A one-line, secret-free description of a failure."""
    text = exc.user_message if isinstance(exc, LabError) else f"{type(exc).__name__}: {exc}"
    text = (text.strip().splitlines() or [type(exc).__name__])[0]
    if lab is not None and lab.db.url and lab.db.url in text:
        text = text.replace(lab.db.url, mask_url(lab.db.url))
    return text


def _run(name: str, check: Callable[[], dict[str, Any]], lab: "Lab") -> dict[str, Any]:
    try:
        out = check()
    except Exception as exc:  # noqa: BLE001 - a failing check is reported, never raised
        log.warning("status check %s failed", name, exc_info=True)
        return {"ok": False, "detail": _describe(exc, lab)}
    out.setdefault("ok", True)
    out.setdefault("detail", "")
    return out


def check_database(lab: "Lab") -> dict[str, Any]:
    """Postgres reachable: ``version`` (server_version), ``kind`` (embedded/external), masked ``url``."""
    kind = "external" if lab.settings.database_url else "embedded"

    def check() -> dict[str, Any]:
        row = lab.db.fetchone("SELECT current_setting('server_version') AS version, version() AS full")
        return {"version": row["version"], "detail": row["full"]}

    out = _run("database", check, lab)
    out.update(kind=kind, url=mask_url(lab.db.url))
    return out


def check_pgvector(lab: "Lab") -> dict[str, Any]:
    """The ``vector`` extension is installed in the lab's database: ``version``."""
    def check() -> dict[str, Any]:
        row = lab.db.fetchone("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        if row is None:
            return {"ok": False, "version": None,
                    "detail": "The pgvector extension is not installed in this database; "
                              "install pgvector on the server (CREATE EXTENSION vector)."}
        return {"version": row["extversion"]}

    return _run("pgvector", check, lab)


def check_migrations(lab: "Lab") -> dict[str, Any]:
    """Every shipped migration is applied: ``applied`` and ``pending`` lists of names."""
    def check() -> dict[str, Any]:
        from backend.db.migrate import available

        rows = lab.db.fetchall("SELECT version, name FROM schema_migrations ORDER BY version")
        done = {r["version"] for r in rows}
        applied = [f"{r['version']:04d}_{r['name']}" for r in rows]
        pending = [f"{m.version:04d}_{m.name}" for m in available() if m.version not in done]
        queue = lab.db.fetchone("SELECT to_regclass('procrastinate_jobs') IS NOT NULL AS present")
        ok = not pending and bool(queue and queue["present"])
        detail = "" if ok else (
            "The database schema is behind this version of the lab; restart the lab to migrate it.")
        return {"ok": ok, "applied": applied, "pending": pending, "detail": detail}

    return _run("migrations", check, lab)


def _normalise_model(entry: Any) -> dict[str, Any]:
    entry = dict(entry) if isinstance(entry, dict) else {"role": str(entry)}
    return {"role": str(entry.get("role", "")), "spec": str(entry.get("spec", "")),
            "ok": bool(entry.get("ok", False)), "required": bool(entry.get("required", True)),
            "detail": str(entry.get("detail", "") or "")}


def check_models(lab: "Lab") -> dict[str, Any]:
    """Each configured model resolves: ``items`` = [{role, spec, ok, required, detail}].

    ok when every required model resolves; an optional one (the judge) that is not configured is
    listed but does not make the lab unhealthy.
    """
    def check() -> dict[str, Any]:
        try:
            from backend.models.status import model_status
        except ImportError as exc:
            return {"ok": False, "items": [],
                    "detail": f"The model checks are not available in this install ({exc})."}
        items = [_normalise_model(e) for e in model_status(lab.settings)]
        bad = [i["role"] for i in items if i["required"] and not i["ok"]]
        return {"ok": bool(items) and not bad, "items": items,
                "detail": ("Not resolved: " + ", ".join(bad)) if bad else ""}

    out = _run("models", check, lab)
    out.setdefault("items", [])
    return out


def _jobs_service():
    from backend.jobs import service  # imported lazily: the job system may be absent or broken

    return service


def check_worker(lab: "Lab") -> dict[str, Any]:
    """A worker process is alive: ``alive`` (bool), ``workers`` (how many report in)."""
    def check() -> dict[str, Any]:
        service = _jobs_service()
        alive = bool(service.worker_alive(lab))
        try:
            count = len(service.workers(lab))
        except Exception:  # noqa: BLE001 - the count is a nicety; liveness is what matters
            count = int(alive)
        return {"ok": alive, "alive": alive, "workers": count,
                "detail": "" if alive else "No worker is running; queued jobs wait until one starts."}

    out = _run("worker", check, lab)
    out.setdefault("alive", False)
    out.setdefault("workers", 0)
    return out


def check_jobs(lab: "Lab") -> dict[str, Any]:
    """Jobs by status: ``counts`` (status -> number), ``queued`` and ``running`` totals."""
    def check() -> dict[str, Any]:
        counts = {str(k): int(v) for k, v in _jobs_service().queue_counts(lab).items()}
        return {"counts": counts, "queued": counts.get("queued", 0),
                "running": counts.get("running", 0) + counts.get("cancelling", 0)}

    out = _run("jobs", check, lab)
    for key, default in (("counts", {}), ("queued", 0), ("running", 0)):
        out.setdefault(key, default)
    return out


CHECKS: dict[str, Callable[["Lab"], dict[str, Any]]] = {
    "database": check_database,
    "pgvector": check_pgvector,
    "migrations": check_migrations,
    "models": check_models,
    "worker": check_worker,
    "jobs": check_jobs,
}


def system_status(lab: "Lab") -> dict[str, Any]:
    """All checks by name (database, pgvector, migrations, models, worker, jobs) plus ``ok``.

    Never raises: a failing part is reported as ``ok: False`` with its ``detail``.
    """
    out: dict[str, Any] = {name: check(lab) for name, check in CHECKS.items()}
    out["ok"] = all(part["ok"] for part in out.values())
    return out
