"""LLM-judged metrics: faithfulness, response relevancy, context precision and recall, factual
correctness, with Ragas' legacy metric classes and a judge model from the settings.

A judge is configured by ``judge_model`` (with ``judge_api_base``/``judge_api_key`` for an
OpenAI-compatible endpoint, or a local model spec such as ``bundled:smollm2-135m-instruct``).
Without one nothing is judged and the results list these metrics as needing a judge.

``judge_samples`` scores samples the way ``ragas.evaluate`` does (``metric.init(run_config)``, then
``single_turn_ascore`` per sample and metric, concurrently), but keeps every failure with its
reason: ``evaluate`` turns a failure into a bare NaN. A score is never NaN: it is ``ok``,
``not_applicable`` (closed book, unanswerable, no reference) or ``failed`` with why (the judge's
reply was cut off, was not the JSON the prompt asked for, timed out, the endpoint failed...).
``judge_run`` does this for a stored evaluation run, chunk by chunk, with progress, resumable.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Sequence

from backend.errors import ConfigError, InputError, LabError
from backend.evaluate.metrics import (METRICS, REASON_CLOSED_BOOK, REASON_NO_REFERENCE,
                                      REASON_NOTHING_RETRIEVED, REASON_UNANSWERABLE, Sample, Score,
                                      _describe, _run, judge_keys)
from backend.messages import msg

if TYPE_CHECKING:
    from backend.evaluate.judge_llm import LabJudgeLLM
    from backend.lab import Lab

os.environ["RAGAS_DO_NOT_TRACK"] = "true"
log = logging.getLogger(__name__)

JUDGE_CHUNK = 8  # answers judged (and stored) per step of a run
NEEDS_REFERENCE = {"llm_context_precision", "llm_context_recall", "factual_correctness"}
#: why a metric's score is NaN, in words (Ragas returns NaN when the judge gave it nothing to count)
NAN_REASONS = {
    "faithfulness": "the judge found no claims in the answer",
    "response_relevancy": "the judge generated no question from the answer",
    "llm_context_precision": "the judge gave no usable verdict",
    "llm_context_recall": "the judge classified no sentence of the reference",
    "factual_correctness": "the judge found no claims to compare",
}
HOW_TO_CONFIGURE = ("Set a judge in Settings: LAB_JUDGE_API_BASE and LAB_JUDGE_MODEL for an "
                    "OpenAI-compatible endpoint (with LAB_JUDGE_API_KEY if it needs one), or "
                    "LAB_JUDGE_MODEL alone for a local model that returns valid JSON.")


# --- configuration --------------------------------------------------------------------------------
@dataclass(frozen=True)
class JudgeConfig:
    """Which model judges and how hard it is pushed. ``spec`` is ``openai:<model>`` (endpoint at
    ``api_base``) or a local model spec."""

    spec: str
    api_base: str = ""
    api_key: str = field(default="", repr=False)
    max_new_tokens: int = 1024
    concurrency: int = 4
    timeout_s: float = 300.0
    #: parse or network retries Ragas may make per call (its own default, 10, is for big jobs)
    max_retries: int = 2

    @property
    def is_endpoint(self) -> bool:
        return self.spec.startswith("openai:")

    @property
    def record(self) -> str:
        """What judged, for the run record: the endpoint model and URL, or the local spec."""
        return f"{self.spec}@{self.api_base}" if self.is_endpoint else self.spec


def judge_config(settings, **overrides: Any) -> JudgeConfig | None:
    """The judge the settings describe, or None when no judge model is set. ConfigError when the
    settings are half done (an endpoint model without an endpoint URL)."""
    model = (settings.judge_model or "").strip()
    base = (settings.judge_api_base or "").strip()
    if not model:
        if base:
            raise ConfigError("A judge endpoint is set but no judge model.",
                              hint="Set LAB_JUDGE_MODEL to the model name at that endpoint.")
        return None
    if base and not model.startswith("openai:"):
        model = f"openai:{model}"
    if model.startswith("openai:") and not base:
        raise ConfigError(f"The judge {model} runs on an endpoint, but no endpoint URL is set.",
                          hint="Set LAB_JUDGE_API_BASE, e.g. http://localhost:11434/v1.")
    from backend.models.specs import parse_spec

    parse_spec(model)  # a malformed spec says so now, not in the middle of a run
    return JudgeConfig(spec=model, api_base=base, api_key=settings.judge_api_key or "",
                       **overrides)


def build_judge_llm(settings, cfg: JudgeConfig, *, executor: Any = None) -> "LabJudgeLLM":
    """A Ragas LLM for ``cfg``: the endpoint client, or the local model (loaded once per process)."""
    from ragas.run_config import RunConfig

    from backend.errors import ModelUnavailable
    from backend.evaluate.judge_llm import EndpointBackend, LabJudgeLLM, LocalBackend

    if cfg.is_endpoint:
        backend: Any = EndpointBackend(cfg.spec[len("openai:"):], cfg.api_base, cfg.api_key,
                                       cfg.max_new_tokens)
    else:
        from backend.models.registry import get_generator

        backend = LocalBackend(get_generator(settings, cfg.spec), cfg.max_new_tokens,
                               max_batch=max(1, cfg.concurrency))
    # retry only what may pass on a second try (a busy endpoint), never a bad reply or a bug
    run_config = RunConfig(timeout=int(cfg.timeout_s), max_retries=max(1, cfg.max_retries),
                           max_wait=5, exception_types=(ModelUnavailable,))
    # Ragas logs every reply it cannot parse, without saying which sample; each failure is
    # stored with its sample and reason instead
    logging.getLogger("ragas.prompt.pydantic_prompt").setLevel(logging.CRITICAL)
    return LabJudgeLLM(backend, name=cfg.record, run_config=run_config, executor=executor)


def check_reachable(llm: "LabJudgeLLM") -> None:
    """One tiny request to an endpoint judge, so an unreachable one fails the step at once with
    the endpoint's message instead of failing every sample."""
    from backend.evaluate.judge_llm import EndpointBackend

    if isinstance(llm.backend, EndpointBackend):
        llm.backend.complete("Reply with OK.", 1, 0.0)


# --- metrics --------------------------------------------------------------------------------------
def _metric(key: str, llm: "LabJudgeLLM", embeddings: Any) -> Any:
    with warnings.catch_warnings():  # the LLM metrics Ragas' evaluate() takes are the legacy ones
        warnings.simplefilter("ignore", DeprecationWarning)
        from ragas import metrics as legacy

        if key == "faithfulness":
            return legacy.Faithfulness(llm=llm)
        if key == "response_relevancy":
            return legacy.ResponseRelevancy(llm=llm, embeddings=embeddings)
        if key == "llm_context_precision":
            return legacy.LLMContextPrecisionWithReference(llm=llm)
        if key == "llm_context_recall":
            return legacy.LLMContextRecall(llm=llm)
        if key == "factual_correctness":
            return legacy.FactualCorrectness(llm=llm)
    raise InputError(f"{key!r} is not an LLM-judged metric.", hint=f"Use {', '.join(judge_keys())}.")


def ragas_embeddings(embedding: Any) -> Any:
    """The lab's llama-index embedding as the legacy Ragas embeddings response relevancy needs."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from ragas.embeddings import LlamaIndexEmbeddingsWrapper

        return LlamaIndexEmbeddingsWrapper(embedding)


def not_applicable_reason(key: str, sample: Sample) -> str | None:
    """Why judged metric ``key`` means nothing for ``sample``; None when it applies."""
    if sample.unanswerable:
        return REASON_UNANSWERABLE
    if METRICS[key].needs_context and sample.contexts is None:
        return REASON_CLOSED_BOOK
    if key in NEEDS_REFERENCE and not (sample.reference or "").strip():
        return REASON_NO_REFERENCE
    if key == "faithfulness" and not sample.contexts:
        return REASON_NOTHING_RETRIEVED  # nothing to be faithful to
    return None


def failure_reason(exc: BaseException, cfg: JudgeConfig, replies: Sequence[str] = ()) -> str:
    """A judge failure in words, quoting the judge's last reply when there was one."""
    from langchain_core.exceptions import OutputParserException
    from pydantic import ValidationError
    from ragas.exceptions import LLMDidNotFinishException, RagasOutputParserException

    if isinstance(exc, LLMDidNotFinishException):
        why = f"the judge's reply was cut off at {cfg.max_new_tokens} tokens"
    elif isinstance(exc, (RagasOutputParserException, OutputParserException, ValidationError)):
        why = "the judge's reply is not JSON in the shape the metric asks for"
    elif isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        why = f"the judge took longer than {cfg.timeout_s:.0f} s"
    elif isinstance(exc, LabError):
        why = f"judge error: {exc.user_message}"
    else:
        why = f"judge error: {_describe(exc)}"
    if replies:
        last = " ".join(replies[-1].split())
        why += f" (last reply: {last[:160]!r}{'…' if len(last) > 160 else ''})"
    return why


async def _score_one(metric: Any, key: str, sample: Sample, cfg: JudgeConfig,
                     gate: asyncio.Semaphore) -> Score:
    from ragas.dataset_schema import SingleTurnSample

    from backend.evaluate.judge_llm import REPLIES

    async with gate:
        replies: list[str] = []
        REPLIES.set(replies)  # this task's own context: the LLM wrapper appends its replies here
        row = SingleTurnSample(user_input=sample.question, response=sample.answer or "",
                               retrieved_contexts=list(sample.contexts or []),
                               reference=sample.reference or "")
        try:
            value = await metric.single_turn_ascore(row, timeout=cfg.timeout_s)
        except Exception as exc:  # noqa: BLE001 - a failed sample is recorded, the run goes on
            return Score.failed(failure_reason(exc, cfg, replies))
        if value is None or not math.isfinite(float(value)):
            return Score.failed(NAN_REASONS.get(key, "the metric returned NaN"))
        if key in ("llm_context_precision", "llm_context_recall") and not sample.contexts:
            return Score.of(float(value), REASON_NOTHING_RETRIEVED)
        return Score.of(float(value))


async def _score_all(samples: Sequence[Sample], keys: list[str], llm: "LabJudgeLLM", embeddings: Any,
                     cfg: JudgeConfig) -> list[dict[str, Score]]:
    from ragas.run_config import RunConfig

    results: list[dict[str, Score]] = [{} for _ in samples]
    metrics: dict[str, Any] = {}
    for key in keys:
        metrics[key] = _metric(key, llm, embeddings)
        metrics[key].init(llm.run_config if isinstance(llm.run_config, RunConfig) else RunConfig())
    gate = asyncio.Semaphore(max(1, cfg.concurrency))
    tasks = []
    for i, sample in enumerate(samples):
        for key in keys:
            reason = not_applicable_reason(key, sample)
            if reason is not None:
                results[i][key] = Score.not_applicable(reason)
            else:
                tasks.append((i, key, asyncio.ensure_future(
                    _score_one(metrics[key], key, sample, cfg, gate))))
    for i, key, task in tasks:
        results[i][key] = await task
    return [{k: r[k] for k in keys} for r in results]


def judge_samples(samples: Sequence[Sample], metric_keys: Sequence[str] | None = None, *,
                  llm: "LabJudgeLLM", cfg: JudgeConfig, embedding: Any = None) -> list[dict[str, Score]]:
    """One ``{metric: Score}`` per sample (judged metrics only, in the order asked for), ``cfg
    .concurrency`` judge calls at a time. ``embedding`` (a llama-index embedding) is needed for
    response relevancy. Never raises for a sample: a failure is a failed Score with its reason."""
    keys = list(dict.fromkeys(metric_keys or judge_keys()))
    unknown = [k for k in keys if k not in METRICS or not METRICS[k].needs_judge]
    if unknown:
        raise InputError(f"Not LLM-judged metric(s): {', '.join(unknown)}.",
                         hint=f"Judged metrics: {', '.join(judge_keys())}.")
    embeddings = None
    if "response_relevancy" in keys:
        if embedding is None:
            raise InputError("Response relevancy needs an embedding model, and none was given.")
        embeddings = ragas_embeddings(embedding)
    return _run(_score_all(samples, keys, llm, embeddings, cfg))


# --- judging a stored run -------------------------------------------------------------------------
def _pending(lab: "Lab", run_id: str, keys: list[str], retry_failed: bool) -> list[dict]:
    done = "s.status <> 'failed'" if retry_failed else "true"
    return lab.db.fetchall(
        "SELECT a.strategy, a.position, a.answer, a.contexts, a.error, q.question, q.reference,"
        " q.reference_contexts, q.language, q.unanswerable FROM eval_answers a JOIN eval_questions q"
        " ON q.run_id = a.run_id AND q.position = a.position WHERE a.run_id = %s AND (SELECT count(*)"
        f" FROM eval_scores s WHERE s.run_id = a.run_id AND s.strategy = a.strategy AND s.position ="
        f" a.position AND s.metric = ANY(%s) AND {done}) < %s ORDER BY a.strategy, a.position",
        (run_id, keys, len(keys)))


def judge_run(lab: "Lab", run_id: str, *, judge: JudgeConfig | None = None,
              metric_keys: Sequence[str] | None = None, retry_failed: bool = False,
              progress: Callable[..., None] | None = None,
              check_cancelled: Callable[[], None] | None = None,
              chunk: int = JUDGE_CHUNK) -> dict[str, Any]:
    """Judge every stored answer of the run lacking a judged score, ``chunk`` answers a step
    (stored as each step ends, so a stopped run resumes). ``retry_failed`` judges failed scores
    again. Without a configured judge nothing happens (``judged`` 0, ``configured`` False).
    Returns what was done: judged answers, ok / failed / not-applicable scores, judge usage."""
    from backend.evaluate.runner import get_run

    report = progress or (lambda *a, **k: None)
    check = check_cancelled or (lambda: None)
    cfg = judge or judge_config(lab.settings)
    keys = list(dict.fromkeys(metric_keys or judge_keys()))
    outcome: dict[str, Any] = {"configured": cfg is not None, "judged": 0, "ok": 0, "failed": 0,
                               "not_applicable": 0, "judge": cfg.record if cfg else None}
    if cfg is None:
        return outcome
    run = get_run(lab, run_id)
    pending = _pending(lab, run.id, keys, retry_failed)
    if not pending:
        return outcome
    embedding = None
    if "response_relevancy" in keys:
        from backend.models.embeddings import get_embedding

        embedding = get_embedding(lab.settings, run.embed_spec)
    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max(1, cfg.concurrency), thread_name_prefix="judge") as pool:
        llm = build_judge_llm(lab.settings, cfg, executor=pool)
        check_reachable(llm)
        judge_row = lab.db.fetchone(
            "INSERT INTO eval_judges (run_id, judge, metric_keys, config) VALUES (%s, %s, %s, %s)"
            " RETURNING id", (run.id, cfg.record, keys, _jsonb(_public(cfg))))["id"]
        report(0, len(pending), message=msg("evaluate.judging_count", answers=len(pending)),
               unit="answers")
        for start in range(0, len(pending), max(1, chunk)):
            check()
            rows = pending[start:start + chunk]
            ok = [r for r in rows if r["error"] is None]
            samples = [Sample(question=r["question"], answer=r["answer"], reference=r["reference"],
                              contexts=r["contexts"], unanswerable=r["unanswerable"],
                              language=r["language"]) for r in ok]
            computed = iter(judge_samples(samples, keys, llm=llm, cfg=cfg, embedding=embedding))
            values = []
            for r in rows:
                scores = next(computed) if r["error"] is None else {
                    k: Score.failed(f"no answer: {r['error']}") for k in keys}
                for k, s in scores.items():
                    outcome[s.status] += 1
                    values.append((run.id, r["strategy"], r["position"], k, s.value, s.status,
                                   s.reason))
            _store(lab, values)
            outcome["judged"] += len(rows)
            lab.db.execute(
                "UPDATE eval_judges SET judged = %s, ok = %s, failed = %s, usage = %s,"
                " seconds = %s, finished_at = now() WHERE id = %s",
                (outcome["judged"], outcome["ok"], outcome["failed"], _jsonb(llm.usage.as_dict()),
                 time.perf_counter() - began, judge_row))
            report(start + len(rows), len(pending), message=msg("evaluate.judging"), unit="answers",
                   metrics={"judge_failed": outcome["failed"], "judge_ok": outcome["ok"]})
    outcome["usage"] = llm.usage.as_dict()
    return outcome


def _store(lab: "Lab", values: list[tuple]) -> None:
    with lab.db.connect() as conn:
        # a retried failure replaces the failed score; a score that is ok stays as it was
        conn.cursor().executemany(
            "INSERT INTO eval_scores (run_id, strategy, position, metric, value, status, reason)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (run_id, strategy, position, metric)"
            " DO UPDATE SET value = EXCLUDED.value, status = EXCLUDED.status, reason ="
            " EXCLUDED.reason, created_at = now() WHERE eval_scores.status = 'failed'", values)


def _public(cfg: JudgeConfig) -> dict[str, Any]:
    return {"spec": cfg.spec, "api_base": cfg.api_base, "max_new_tokens": cfg.max_new_tokens,
            "concurrency": cfg.concurrency, "timeout_s": cfg.timeout_s,
            "max_retries": cfg.max_retries}


def _jsonb(value: Any) -> Any:
    from psycopg.types.json import Jsonb

    return Jsonb(value)
