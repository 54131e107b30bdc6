"""The lab's health on screen: a one-line status in the sidebar and the status strip on Home.

Checks come from ``backend.status`` (which never raises); reads are cached for a few seconds so
moving between pages does not hit the database or the model resolver on every rerun.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import streamlit as st

from backend import status as backend_status
from ui.i18n import t
from ui.state import env_key, lab_or_none

if TYPE_CHECKING:
    from backend.lab import Lab

_DOT = {True: ":green[●]", False: ":red[●]"}


@st.cache_data(ttl=5, show_spinner=False)
def _check(name: str, env: tuple, _lab: "Lab") -> dict[str, Any]:
    return backend_status.CHECKS[name](_lab)


@st.cache_data(ttl=60, show_spinner=False)
def _slow_check(name: str, env: tuple, _lab: "Lab") -> dict[str, Any]:
    return backend_status.CHECKS[name](_lab)


def check(name: str, lab: "Lab") -> dict[str, Any]:
    """One ``backend.status`` check, cached briefly (the model check for a minute)."""
    read = _slow_check if name == "models" else _check
    return read(name, env_key(), lab)


def sidebar_status() -> None:
    """A small two-line status in the sidebar: database version and whether a worker runs."""
    lab = lab_or_none(show=False)  # the page body shows the full message
    if lab is None:
        st.sidebar.caption(f"{_DOT[False]} {t('sidebar.database_down')}")
        return
    db, worker = check("database", lab), check("worker", lab)
    db_line = (f"{_DOT[True]} {t('sidebar.database_ok', version=db['version'])}" if db["ok"]
               else f"{_DOT[False]} {t('sidebar.database_down')}")
    worker_line = (f"{_DOT[True]} {t('sidebar.worker_ok')}" if worker["alive"]
                   else f"{_DOT[False]} {t('sidebar.worker_down')}")
    st.sidebar.caption(f"{db_line}  \n{worker_line}")


def _badge(text: str, ok: bool, *, neutral: bool = False) -> None:
    colour = "blue" if neutral and ok else ("green" if ok else "red")
    st.badge(text, color=colour, icon=":material/check_circle:" if ok else ":material/error:")


def _problem(part: dict[str, Any]) -> None:
    if not part["ok"] and part.get("detail"):
        st.caption(part["detail"])


def status_strip(lab: "Lab") -> None:
    """Postgres and pgvector versions, which models resolve, worker alive, jobs queued/running.

    Each part is green when healthy and red with what is wrong otherwise.
    """
    parts = {name: check(name, lab) for name in backend_status.CHECKS}
    st.subheader(t("status.title"))
    cols = st.columns(5)
    with cols[0]:
        db, schema = parts["database"], parts["migrations"]
        st.markdown(f"**{t('status.postgres')}**")
        _badge(db.get("version") or t("status.unavailable"), db["ok"])
        st.caption(t(f"status.kind.{db['kind']}"))
        _problem(db)
        if db["ok"]:
            pending = len(schema.get("pending") or [])
            _badge(t("status.schema_ok", count=len(schema.get("applied") or [])) if schema["ok"]
                   else t("status.schema_pending", count=pending), schema["ok"])
            _problem(schema)
    with cols[1]:
        vec = parts["pgvector"]
        st.markdown(f"**{t('status.pgvector')}**")
        _badge(t("status.version", version=vec["version"]) if vec.get("version")
               else t("status.unavailable"), vec["ok"])
        _problem(vec)
    with cols[2]:
        models = parts["models"]
        required = [i for i in models["items"] if i["required"]]
        st.markdown(f"**{t('status.models')}**")
        _badge(t("status.models_count", ok=sum(i["ok"] for i in required), total=len(required))
               if required else t("status.unavailable"), models["ok"])
        _problem(models)
    with cols[3]:
        worker = parts["worker"]
        st.markdown(f"**{t('status.worker')}**")
        _badge(t("status.worker_alive") if worker["alive"] else t("status.worker_dead"), worker["ok"])
        if not worker["alive"]:
            st.caption(t("status.worker_hint"))
    with cols[4]:
        jobs = parts["jobs"]
        st.markdown(f"**{t('status.jobs')}**")
        _badge(t("status.jobs_counts", queued=jobs["queued"], running=jobs["running"]), jobs["ok"],
               neutral=True)
        _problem(jobs)
    if models["items"]:
        with st.expander(t("status.model_details"), expanded=not models["ok"]):
            for item in models["items"]:
                mark = _DOT[item["ok"]] if item["ok"] or item["required"] else ":gray[●]"
                detail = f" — {item['detail']}" if item["detail"] else ""
                optional = "" if item["required"] else f" ({t('status.optional')})"
                spec = f"`{item['spec']}`" if item["spec"] else ""
                st.markdown(f"{mark} **{item['role']}**{optional}: {spec}{detail}")


@st.fragment(run_every=10)
def live_status_strip(lab: "Lab") -> None:
    """``status_strip`` refreshed every 10 s without rerunning the rest of the page."""
    status_strip(lab)
