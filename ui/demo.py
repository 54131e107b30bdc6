"""The Load demo panel (on Home): what the demo will do, one button, the job's live progress by
stage, and once it is ready the headline comparison, the redaction it made, links to the pages
that show the rest, and the prepared freshness check (run it, watch it, read who noticed).

The demo is one ``demo`` job (``backend.demo.loader``); the panel finds it in the jobs table, so it
picks up a running demo after a page change or in another browser tab, and a second click while it
runs shows the same job instead of starting another.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import streamlit as st

from backend.errors import LabError
from ui.errors import guard
from ui.i18n import t
from ui.jobs import format_duration, job_progress
from ui.palette import LEGEND_ORDER
from ui.state import env_key, lab_or_none

if TYPE_CHECKING:
    from backend.lab import Lab

#: widget key of the Load demo button (unique across pages)
DEMO_BUTTON_KEY = "demo.load"
#: widget key of the button that runs the demo's freshness check
FRESHNESS_BUTTON_KEY = "demo.freshness.run"
_STAGE_ICON = {"done": "✓", "current": "●", "pending": "○"}
_LINKS = (("pages/evaluate.py", "demo.link.evaluate", ":material/analytics:"),
          ("pages/ask.py", "demo.link.ask", ":material/chat:"),
          ("pages/finetune.py", "demo.link.finetune", ":material/model_training:"),
          ("pages/corpora.py", "demo.link.corpora", ":material/folder_open:"))


def _loader():
    from backend.demo import loader  # lazily: Home renders without the demo's modules loaded

    return loader


def _latest_job(lab: "Lab") -> Any | None:
    from backend.jobs.service import list_jobs

    jobs = list_jobs(lab, kind=_loader().KIND, limit=1)
    return jobs[0] if jobs else None


def stage_line(stages: tuple[str, ...], current: str | None, finished: bool) -> str:
    """"✓ Documents · ● Training · ○ Evaluation ..." (pure): done, current, pending."""
    position = stages.index(current) if current in stages else -1
    parts = []
    for i, name in enumerate(stages):
        state = "done" if finished or i < position else "current" if i == position else "pending"
        parts.append(f"{_STAGE_ICON[state]} {t(f'demo.stage.{name}')}")
    return " · ".join(parts)


def demo_facts() -> dict[str, Any]:
    """The demo's sizes for the "what it will do" text, read from its content files (nothing is
    rendered): documents, formats, questions in each part, freshness questions."""
    from backend.demo import build

    docs = build.document_info()
    questions = build.demo_questions()
    formats = sorted({"Markdown" if d["kind"] == "md" else d["kind"].upper() for d in docs})
    return {"documents": len(docs), "formats": ", ".join(formats),
            "questions": len(questions),
            "train": sum(q["split"] == "train" for q in questions),
            "held_out": sum(q["split"] == "heldout" for q in questions),
            "freshness": len(build.freshness_questions()),
            "planted": len({p["document"] for p in build.planted_personal_data()})}


def _what_it_does() -> None:
    with st.expander(t("demo.what.title"), icon=":material/checklist:"):
        facts = demo_facts()
        st.markdown("\n".join(f"{n}. {t(f'demo.what.{stage}', **facts)}" for n, stage in enumerate(
            _loader().STAGES, start=1)))
        st.caption(t("demo.what.time"))


@st.cache_data(ttl=60, show_spinner=False)
def _headline(run_id: str, env: tuple, _lab: "Lab") -> list[dict]:
    """Each strategy's answer similarity (mean, 95% CI, n) in legend order: bootstrap CIs are
    not free, and Home reruns often."""
    from backend.evaluate.metrics import HEADLINE_METRIC
    from backend.evaluate.results import run_summary

    rows = []
    for s in run_summary(_lab, run_id).strategies:
        e = s.metrics[HEADLINE_METRIC].estimate
        rows.append({"kind": s.kind, "label": s.label, "mean": e.mean, "low": e.low,
                     "high": e.high, "n": e.n, "latency": s.latency_mean})
    rank = {k: i for i, k in enumerate(LEGEND_ORDER)}
    return sorted(rows, key=lambda r: rank.get(r["kind"], len(rank)))


def _link(page: str, key: str, icon: str) -> None:
    from streamlit.errors import StreamlitAPIException

    try:
        st.page_link(page, label=t(key), icon=icon)
    except StreamlitAPIException:  # a page not in this app (yet): no link rather than an error
        pass


def _ready(lab: "Lab", result: dict) -> None:
    summary = result.get("summary") or {}
    st.success(t("demo.ready", documents=summary.get("documents", "?"),
                 questions=summary.get("questions", "?"), held_out=summary.get("held_out", "?"),
                 train=format_duration(summary.get("train_seconds"))),
               icon=":material/check_circle:")
    guard_record = summary.get("guard") or {}
    if guard_record.get("decision") == "redact":
        places = ", ".join(sorted(guard_record.get("where") or {}))
        st.info(t("demo.redacted", n=guard_record.get("examples", 0), places=places,
                  kinds=", ".join(f"{t(f'demo.kind.{k}')} ({n})" for k, n in
                                  sorted((guard_record.get("kinds") or {}).items()))),
                icon=":material/shield:")
    try:
        rows = _headline(result["run_id"], env_key(), lab)
    except LabError:  # the run (or the whole demo) was deleted since
        st.caption(t("demo.gone"))
        return
    base = next((r["mean"] for r in rows if r["kind"] == "base"), None)
    for column, row in zip(st.columns(len(rows) or 1), rows):
        delta = None if base is None or row["kind"] == "base" or row["mean"] is None else (
            f"{row['mean'] - base:+.2f}")
        column.metric(row["label"], "–" if row["mean"] is None else f"{row['mean']:.2f}",
                      delta=delta, help=t("demo.metric_help", low=_num(row["low"]),
                                          high=_num(row["high"]), n=row["n"]))
    st.caption(t("demo.metric_caption"))
    for column, (page, key, icon) in zip(st.columns(len(_LINKS)), _LINKS):
        with column:
            _link(page, key, icon)
    if result.get("freshness_check_id"):
        _freshness(lab, result["freshness_check_id"])


def _freshness(lab: "Lab", check_id: str) -> None:
    """The prepared freshness check: a button to run it, its progress, then per strategy whether
    and how soon its answers reflected the changed policy."""
    from backend.evaluate import freshness_results

    check = next((c for c in freshness_results.list_freshness(lab) if c["id"] == check_id), None)
    if check is None:
        return
    st.markdown(f"**{t('demo.freshness.title')}**")
    if check["status"] == "created" and check["job_id"] is None:
        st.caption(t("demo.freshness.intro", n=demo_facts()["freshness"]))
        if st.button(t("demo.freshness.run"), key=FRESHNESS_BUTTON_KEY,
                     icon=":material/update:", help=t("demo.freshness.run_help")):
            from backend.evaluate.freshness import enqueue_freshness

            enqueue_freshness(lab, check_id)
            st.rerun()
        return
    if check["status"] != "finished":
        if check["job_id"] is not None:
            job_progress(check["job_id"], lab=lab)
        return
    summary = freshness_results.freshness_summary(lab, check_id)
    lines = []
    for strategy in summary["strategies"]:
        seconds = strategy["time_to_update_s"]
        duration = t("demo.freshness.under_second") if seconds is not None and seconds < 1 else (
            format_duration(seconds))
        lines.append("- " + t("demo.freshness." + strategy["status"], label=strategy["label"],
                              duration=duration))
    st.markdown("\n".join(lines))
    if summary.get("retrain_seconds"):
        st.caption(t("demo.freshness.retrain",
                     duration=format_duration(summary["retrain_seconds"])))


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def load_demo_panel() -> None:
    """The Load demo panel: explanation, button (or the running demo's progress by stage), and
    the result of the last demo. Renders nothing when the lab cannot be opened (Home says why)."""
    lab = lab_or_none(show=False)
    if lab is None:
        return
    with guard(), st.container(border=True):
        st.subheader(t("demo.title"), anchor=False)
        st.write(t("demo.intro"))
        _what_it_does()
        from ui.status import check

        loader = _loader()
        job = _latest_job(lab)
        waiting = job is not None and job.status in ("queued", "stalled")
        if (job is None or not job.is_active or waiting) and not check("worker", lab)["alive"]:
            st.warning(t("demo.no_worker"), icon=":material/warning:")
        if job is not None and job.is_active:
            _live_stages(lab, job.id)
            job_progress(job.id, lab=lab)
            return
        done = job is not None and job.status == "succeeded"
        if st.button(t("demo.reload" if done else "demo.load"), key=DEMO_BUTTON_KEY, type="primary",
                     icon=":material/rocket_launch:", help=t("demo.load_help")):
            loader.enqueue_demo(lab)
            st.rerun()
        if job is not None and job.status in ("failed", "cancelled"):
            st.caption(stage_line(loader.STAGES, loader.current_stage(lab, job.id), False))
            job_progress(job.id, lab=lab)
        elif done and job.result:
            _ready(lab, job.result)


def _live_stages(lab: "Lab", job_id: int) -> None:
    @st.fragment(run_every=2)
    def _line() -> None:
        with guard():
            st.caption(stage_line(_loader().STAGES, _loader().current_stage(lab, job_id), False))

    _line()
