"""Reading freshness checks: the timeline, every answer, and per strategy whether and when it
reflected the change (for the Evaluate page's Freshness tab and the report). Nothing here runs
models; see ``freshness`` for how the rows are made and what "reflects" means."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from backend.errors import LabError

if TYPE_CHECKING:
    from backend.lab import Lab

#: the step that can bring a strategy up to date in each phase
_UPDATED_BY = {"after_ingest": "ingestion", "after_retrain": "retrain"}


def get_freshness(lab: "Lab", check_id: str) -> list[dict[str, Any]]:
    """The check's timeline, in order: one row per event with ``seq``, ``at`` (timestamp),
    ``elapsed_s`` (since the check started), ``event`` (started, asked, change_started,
    ingest_finished, retrain_started, dataset_built, retrain_finished or retrain_failed,
    finished, cancelled), ``phase``, ``strategy`` (key), ``label`` and ``detail`` (for asked:
    how many questions reflected v2 and seconds since the change; for ingest and retrain: their
    seconds, corpus version, model id)."""
    from backend.evaluate.freshness import _check_row

    check = _check_row(lab, check_id)
    labels = {s["key"]: s["label"] for s in check["strategies"]}
    rows = lab.db.fetchall("SELECT seq, at, elapsed_s, event, phase, strategy, detail FROM"
                           " freshness_events WHERE check_id = %s ORDER BY seq", (check["id"],))
    for r in rows:
        r["label"] = labels.get(r["strategy"]) if r["strategy"] else None
    return rows


def freshness_answers(lab: "Lab", check_id: str) -> list[dict[str, Any]]:
    """Every answer, by question, phase and strategy (legend order), with the question, both
    references, the retrieved passages and what was found in them and in the answer."""
    from backend.evaluate.freshness import PHASES, _check_row

    check = _check_row(lab, check_id)
    questions = {q["qid"]: q for q in check["questions"]}
    order = {s["key"]: i for i, s in enumerate(check["strategies"])}
    labels = {s["key"]: s["label"] for s in check["strategies"]}
    rows = lab.db.fetchall("SELECT * FROM freshness_answers WHERE check_id = %s", (check["id"],))
    qorder = list(questions)
    rows.sort(key=lambda r: (qorder.index(r["qid"]), PHASES.index(r["phase"]), order[r["strategy"]]))
    for r in rows:
        q = questions[r["qid"]]
        r.pop("check_id", None)
        r.update(label=labels[r["strategy"]], question=q["question"],
                 reference_v1=q["reference_v1"], reference_v2=q["reference_v2"])
    return rows


def _status(shares: dict[str, float | None], threshold: float) -> tuple[str, str | None]:
    if (shares.get("before") or 0) > threshold:
        return "already_current", None
    for phase in ("after_ingest", "after_retrain"):
        if shares.get(phase) is not None and shares[phase] > threshold:
            return f"updated_{phase}", _UPDATED_BY[phase]
    return "not_updated", None


def freshness_summary(lab: "Lab", check_id: str) -> dict[str, Any]:
    """The check (name, corpus and versions, files, status, error, ingest and retrain seconds,
    the retrained model) and per strategy: ``shares`` (per phase, the share of questions
    reflecting v2 by the strategy's criterion), ``answer_shares`` (by the answers alone),
    ``status`` (already_current, updated_after_ingest, updated_after_retrain, not_updated),
    ``updated_by`` (ingestion or retrain) and ``time_to_update_s``: from the start of the change
    to the end of the step that updated it (None when not updated)."""
    from backend.evaluate.freshness import PHASES, _check_row

    check = _check_row(lab, check_id)
    answers = lab.db.fetchall(
        "SELECT phase, strategy, count(*) AS n, count(*) FILTER (WHERE reflects) AS reflecting,"
        " count(*) FILTER (WHERE answer_reflects) AS answers_reflecting FROM freshness_answers"
        " WHERE check_id = %s GROUP BY phase, strategy", (check["id"],))
    events = get_freshness(lab, check["id"])
    at = {e["event"]: e["elapsed_s"] for e in events}
    change = at.get("change_started")
    ready = {"ingestion": at.get("ingest_finished"), "retrain": at.get("retrain_finished")}
    strategies = []
    for s in check["strategies"]:
        mine = {a["phase"]: a for a in answers if a["strategy"] == s["key"]}
        shares = {p: (mine[p]["reflecting"] / mine[p]["n"]) if p in mine else None for p in PHASES}
        answer_shares = {p: (mine[p]["answers_reflecting"] / mine[p]["n"]) if p in mine else None
                         for p in PHASES}
        status, by = _status(shares, check["threshold"])
        seconds = None
        if status == "already_current":
            seconds = 0.0
        elif by is not None and change is not None and ready[by] is not None:
            seconds = ready[by] - change
        strategies.append({"key": s["key"], "label": s["label"], "kind": s["kind"],
                           "retrieves": bool(s["config"].get("kind") in ("rag", "hybrid")),
                           "shares": shares, "answer_shares": answer_shares, "status": status,
                           "updated_by": by, "time_to_update_s": seconds})
    keep = ("id", "name", "corpus_id", "corpus_name", "version_before", "version_after", "files",
            "retrain", "threshold", "status", "error", "job_id", "ingest_seconds",
            "retrain_seconds", "retrained_model_id", "created_at", "started_at", "finished_at")
    info = {k: check[k] for k in keep}
    info["files"] = [{k: f[k] for k in ("name", "sha256", "bytes")} for f in check["files"]]
    return {**info, "questions": check["questions"], "strategies": strategies}


def list_freshness(lab: "Lab") -> list[dict[str, Any]]:
    """Every freshness check, newest first: id, name, corpus, status, versions, timings."""
    return lab.db.fetchall(
        "SELECT id::text, name, corpus_name, status, error, version_before, version_after,"
        " ingest_seconds, retrain_seconds, job_id, created_at, finished_at FROM freshness_checks"
        " ORDER BY created_at DESC")


def delete_freshness(lab: "Lab", check_id: str) -> None:
    """Delete a check with its answers and timeline (cancelling its job if it still runs)."""
    from backend.evaluate.freshness import _check_row
    from backend.storage import ArtifactStore

    check = _check_row(lab, check_id)
    if check["job_id"] is not None:
        from backend.jobs.service import cancel, get_job

        try:
            if get_job(lab, check["job_id"]).is_active:
                cancel(lab, check["job_id"])
        except LabError:  # gone or finished: nothing to stop
            pass
    artifacts = ArtifactStore(lab.db, lab.settings.artifact_dir or None)
    for f in check["files"]:
        try:
            artifacts.delete(f["artifact_id"])
        except LabError:  # already deleted once ingested
            pass
    lab.db.execute("DELETE FROM freshness_checks WHERE id = %s", (check["id"],))
