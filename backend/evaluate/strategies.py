"""Strategies: the ways the lab answers a question, as small registered objects (STYLE habit 9).

- ``base``       the base model, closed book (no documents);
- ``rag``        the base model with passages retrieved from a corpus index;
- ``finetuned``  a registered fine-tuned model (LoRA adapter or full weights), closed book;
- ``hybrid``     a registered fine-tuned model with retrieved passages.

A ``StrategyConfig`` records everything that decides an answer (model or registered model, corpus
index, retrieval mode and k, prompt template, generation settings), so a run can be reported and
repeated. ``answer_batch`` answers many questions at once: retrieval per question, then the model
generates ``batch_size`` prompts per call, which is several times faster than one at a time.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from backend.errors import InputError
from backend.models.generation import GenerationConfig
from backend.rag.prompts import TEMPLATES, PromptTemplate, detect_language

if TYPE_CHECKING:
    from backend.lab import Lab
    from backend.models.llm import Generator

DEFAULT_BATCH_SIZE = 8
#: evaluation answers are one or two sentences; 64 new tokens keeps a 50-question run short
EVAL_MAX_NEW_TOKENS = 64
RETRIEVAL_MODES = ("vector", "text", "hybrid")  # as backend.rag.retrieval.MODES (imported lazily)
MAX_K = 20

# Closed-book prompts: the same instructions as the cited template, without sources. The "I don't
# know" sentences are ones backend.evaluate.abstention recognises.
CLOSED_BOOK = PromptTemplate(
    name="closed-book-v1",
    system={"en": "Answer the question in one or two sentences. If you do not know the answer, "
                  "reply exactly: I don't know.",
            "es": "Responde a la pregunta en una o dos frases. Si no sabes la respuesta, responde "
                  "exactamente: No lo sé."},
    user={"en": "{question}", "es": "{question}"},
)
# The question alone, as fine-tuning examples built from question-answer pairs are formatted.
QUESTION_ONLY = PromptTemplate(name="question-only", system={"en": "", "es": ""},
                               user={"en": "{question}", "es": "{question}"})
CLOSED_BOOK_TEMPLATES = {t.name: t for t in (CLOSED_BOOK, QUESTION_ONLY)}


def _help(default: Any, help: str, **kw: Any) -> Any:
    if isinstance(default, (dict, list)):
        return field(default_factory=lambda: type(default)(default), metadata={"help": help, **kw})
    return field(default=default, metadata={"help": help, **kw})


@dataclass(frozen=True)
class StrategyConfig:
    """Everything that decides how a strategy answers; validated and filled in on creation."""

    kind: str = _help("base", "base, rag, finetuned or hybrid.")
    label: str = _help("", "Name shown in results (default: from the kind).")
    model: str | None = _help(None, "Model spec for base and RAG (default: the generation model "
                                    "in Settings).")
    model_id: int | None = _help(None, "Registered fine-tuned model id (fine-tuned and hybrid).")
    corpus_id: str | None = _help(None, "Corpus to retrieve from (RAG and hybrid; an evaluation "
                                        "run fills in its own).")
    index_id: str | None = _help(None, "Corpus index to search (default: the active one, pinned "
                                       "when the run starts).")
    mode: str = _help("hybrid", "Retrieval: vector, text (full-text) or hybrid (both, fused).")
    k: int = _help(3, "How many passages to retrieve per question.", minimum=1, maximum=MAX_K)
    template: str = _help("", "Prompt template (default: cited-v1 with retrieval; closed book: "
                              "closed-book-v1 for base models, question-only for fine-tuned ones, "
                              "as they were trained).")
    generation: dict = _help({}, "Generation settings (max_new_tokens, temperature, top_p, seed).")

    def __post_init__(self) -> None:
        impl = get_strategy(self.kind)
        label = (self.label or "").strip() or impl.default_label
        generation = dict(self.generation or {})
        generation.setdefault("max_new_tokens", EVAL_MAX_NEW_TOKENS)
        unknown = sorted(set(generation) - {f.name for f in fields(GenerationConfig)})
        if unknown:
            raise InputError(f"Unknown generation setting(s): {', '.join(unknown)}.",
                             hint="Use max_new_tokens, temperature, top_p and seed.")
        generation = GenerationConfig(**generation).as_dict()  # validates the values
        template = self.template or impl.default_template
        templates = TEMPLATES if impl.retrieves else CLOSED_BOOK_TEMPLATES
        if template not in templates:
            raise InputError(f"Unknown prompt template {template!r} for a {self.kind} strategy.",
                             hint=f"Use one of: {', '.join(templates)}.")
        if self.mode not in RETRIEVAL_MODES:
            raise InputError(f"Unknown retrieval mode {self.mode!r}.", hint="Use vector, text or hybrid.")
        if isinstance(self.k, bool) or not isinstance(self.k, int) or not 1 <= self.k <= MAX_K:
            raise InputError(f"k must be a whole number from 1 to {MAX_K}, not {self.k!r}.")
        model_id = self.model_id
        if model_id is not None and not isinstance(model_id, bool):
            try:
                model_id = int(model_id)  # registry ids are numbers; the CLI passes text
            except (TypeError, ValueError):
                raise InputError(f"{self.model_id!r} is not a registered model id.") from None
        if impl.finetuned and not model_id:
            raise InputError(f"A {self.kind} strategy needs a registered fine-tuned model.",
                             hint="Train one on the Fine-tune page, then pick it here.")
        if impl.finetuned and self.model:
            raise InputError(f"A {self.kind} strategy runs its registered model; leave the model "
                             "spec empty (the registered model names its base model).")
        if not impl.finetuned and model_id:
            raise InputError(f"A {self.kind} strategy runs a base model; model_id is for fine-tuned "
                             "and hybrid strategies.")
        for name, value in (("label", label), ("generation", generation), ("template", template),
                            ("model_id", model_id)):
            object.__setattr__(self, name, value)

    @property
    def retrieves(self) -> bool:
        """True when the strategy reads retrieved passages (RAG, hybrid)."""
        return get_strategy(self.kind).retrieves

    @property
    def is_endpoint(self) -> bool:
        """True when an OpenAI-compatible endpoint generates (priced per token, not per hour)."""
        return bool(self.model) and str(self.model).startswith("openai:")

    def generation_config(self) -> GenerationConfig:
        return GenerationConfig(**self.generation)

    def as_dict(self) -> dict[str, Any]:
        """Plain values for run records and JSON; ``from_dict`` reads them back."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "StrategyConfig":
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise InputError(f"Unknown strategy setting(s): {', '.join(unknown)}.",
                             hint=f"Known: {', '.join(sorted(names))}.")
        return cls(**dict(data))

    def describe(self) -> str:
        """One line: "RAG · bundled:smollm2-135m-instruct · hybrid k=3 · cited-v1 · 64 tokens"."""
        parts = [self.label, self.model_id and f"model {self.model_id}" or self.model or "default model"]
        if self.retrieves:
            parts.append(f"{self.mode} k={self.k}")
        parts += [self.template, f"{self.generation['max_new_tokens']} tokens"]
        if self.generation["temperature"]:
            parts.append(f"T={self.generation['temperature']}")
        return " · ".join(parts)


def parse_strategy(text: str) -> StrategyConfig:
    """``kind[:name=value,...]`` -> a config, for the command line: ``rag:mode=vector,k=5``,
    ``finetuned:model_id=...,label=LoRA``, ``base:max_new_tokens=32`` (generation settings go
    into ``generation``)."""
    kind, _, rest = (text or "").strip().partition(":")
    values: dict[str, Any] = {"kind": kind.strip()}
    generation: dict[str, Any] = {}
    gen_fields = {f.name: f.type for f in fields(GenerationConfig)}
    for item in filter(None, (p.strip() for p in rest.split(","))):
        name, eq, value = item.partition("=")
        name = name.strip()
        if not eq:
            raise InputError(f"{item!r} is not name=value.", hint="e.g. rag:mode=vector,k=5")
        if name in gen_fields:
            generation[name] = int(value) if gen_fields[name] in (int, "int") else float(value)
        elif name == "k":
            values["k"] = int(value)
        else:
            values[name] = value.strip()
    if generation:
        values["generation"] = generation
    return StrategyConfig.from_dict(values)


@dataclass
class StrategyAnswer:
    """One answer. ``contexts`` None means closed book (nothing was meant to be retrieved);
    ``latency_s`` is the wall time of its batch plus its retrieval, ``compute_s`` its share of
    that time (what it cost). ``error`` says why there is no answer."""

    text: str
    contexts: list[str] | None
    chunk_ids: list[str] | None
    latency_s: float
    compute_s: float
    retrieval_s: float
    tokens_in: int
    tokens_out: int
    error: str | None = None


# --- the registry ---------------------------------------------------------------------------------
class Strategy:
    """How one kind of strategy gets its model; ``answer_batch`` below does the rest."""

    kind = ""
    default_label = ""
    retrieves = False
    finetuned = False

    @property
    def default_template(self) -> str:
        if self.retrieves:
            return "cited-v1"
        # models fine-tuned on question-answer pairs saw the bare question (backend.finetune
        # .datasets.qa_pair_examples without a system prompt): ask them the same way
        return QUESTION_ONLY.name if self.finetuned else CLOSED_BOOK.name

    def generator(self, lab: "Lab", cfg: StrategyConfig) -> "Generator":
        from backend.models.registry import get_generator

        return get_generator(lab.settings, cfg.model)


_STRATEGIES: dict[str, Strategy] = {}


def strategy(kind: str, label: str) -> Callable[[type[Strategy]], type[Strategy]]:
    """Register a strategy class under ``kind`` with its default display label."""
    def register(cls: type[Strategy]) -> type[Strategy]:
        instance = cls()
        instance.kind, instance.default_label = kind, label
        _STRATEGIES[kind] = instance
        return cls
    return register


def get_strategy(kind: str) -> Strategy:
    try:
        return _STRATEGIES[kind]
    except KeyError:
        raise InputError(f"Unknown strategy {kind!r}.",
                         hint=f"Use one of: {', '.join(_STRATEGIES)}.") from None


def strategy_kinds() -> list[str]:
    """The registered kinds, in legend order."""
    return list(_STRATEGIES)


@strategy("base", "Base")
class BaseStrategy(Strategy):
    pass


@strategy("rag", "RAG")
class RagStrategy(BaseStrategy):
    retrieves = True


_finetuned: "OrderedDict[tuple, Generator]" = OrderedDict()
_finetuned_lock = threading.Lock()
#: fine-tuned models kept loaded per process (each is a full copy of the base model)
FINETUNED_CACHE_SIZE = 2


@strategy("finetuned", "Fine-tuned")
class FinetunedStrategy(Strategy):
    finetuned = True

    def generator(self, lab: "Lab", cfg: StrategyConfig) -> "Generator":
        key = (lab.db.url, cfg.model_id)
        with _finetuned_lock:  # also keeps two threads from loading the same model twice
            if key in _finetuned:
                _finetuned.move_to_end(key)
                return _finetuned[key]
            from backend.finetune.registry import generator_for

            _finetuned[key] = generator_for(lab, cfg.model_id)
            while len(_finetuned) > FINETUNED_CACHE_SIZE:
                _finetuned.popitem(last=False)
            return _finetuned[key]


@strategy("hybrid", "Hybrid")
class HybridStrategy(FinetunedStrategy):
    retrieves = True


def training_seconds(lab: "Lab", model_id: int) -> float | None:
    """How long the registered model took to train (its one-off cost); None when not recorded.
    NotFound when there is no such model, ModelUnavailable when it has no usable weights."""
    from backend.finetune.registry import get_model

    record = get_model(lab, model_id)
    if record.status != "ready":
        from backend.errors import ModelUnavailable

        raise ModelUnavailable(f"Model {record.name} cannot answer: its run is {record.status}.",
                               hint="Pick a model whose fine-tune finished.")
    return record.duration_s


def forget_finetuned(model_id: int | None = None) -> None:
    """Drop cached fine-tuned generators (all, or one model's), e.g. after a model is deleted."""
    with _finetuned_lock:
        for key in [k for k in _finetuned if model_id is None or k[1] == int(model_id)]:
            del _finetuned[key]


# --- answering ------------------------------------------------------------------------------------
def _question(item: Any) -> tuple[str, str]:
    """(text, language) of a question given as text or as a mapping with question/language."""
    if isinstance(item, str):
        text, language = item, None
    else:
        text, language = item.get("question", ""), item.get("language")
    text = (text or "").strip()
    if not text:
        raise InputError("A question is empty.")
    language = (language or detect_language(text)).lower()[:2]
    return text, language if language in ("en", "es") else "en"


def answer_batch(lab: "Lab", cfg: StrategyConfig, questions: Sequence[Any], *,
                 batch_size: int = DEFAULT_BATCH_SIZE,
                 check_cancelled: Callable[[], None] | None = None,
                 on_batch: Callable[[list[int], list[StrategyAnswer]], None] | None = None,
                 ) -> list[StrategyAnswer]:
    """One ``StrategyAnswer`` per question, in order.

    Retrieval runs per question (RAG, hybrid: ``cfg.corpus_id`` and ``cfg.index_id``), then the
    model generates ``batch_size`` prompts per call, prompts of similar length together. A
    question whose retrieval or generation fails gets an answer with ``error`` set; the others are
    still answered. ``check_cancelled`` is called between batches; ``on_batch(indices, answers)``
    after each one, with the positions (in ``questions``) of the answers it made, so a caller can
    store them as they come.
    """
    from backend.rag.answer import MAX_CONTEXT_TOKENS, build_prompt

    if batch_size < 1:
        raise InputError(f"batch_size must be at least 1, not {batch_size}.")
    impl = get_strategy(cfg.kind)
    if impl.retrieves and not cfg.corpus_id:
        raise InputError(f"The {cfg.label} strategy retrieves passages but has no corpus.",
                         hint="Pick the corpus to retrieve from.")
    generator = impl.generator(lab, cfg)
    template = (TEMPLATES if impl.retrieves else CLOSED_BOOK_TEMPLATES)[cfg.template]
    check = check_cancelled or (lambda: None)
    prepared: list[tuple[list[dict] | None, list | None, float, str | None]] = []
    for item in questions:
        text, language = _question(item)
        if not impl.retrieves:
            prepared.append((_closed_book(template, text, language), None, 0.0, None))
            continue
        began = time.perf_counter()
        try:
            from backend.rag.retrieval import retrieve

            chunks = retrieve(lab, cfg.corpus_id, text, mode=cfg.mode, k=cfg.k, index_id=cfg.index_id)
            prompt, kept = build_prompt(text, chunks, template=template, language=language,
                                        count_tokens=generator.count_tokens,
                                        max_context_tokens=MAX_CONTEXT_TOKENS)
            prepared.append((prompt, kept, time.perf_counter() - began, None))
        except Exception as exc:  # noqa: BLE001 - one question's failure is recorded, not fatal
            prepared.append((None, [], time.perf_counter() - began, f"retrieval failed: {_why(exc)}"))

    answers: dict[int, StrategyAnswer] = {}
    config = cfg.generation_config()
    # Batches of prompts of similar length: a batch decodes as long as its longest prompt needs
    # (its padded cache is read at every step), so mixing 400- and 1,800-token prompts wastes most
    # of the work. Answers come back in the questions' order.
    order = sorted(range(len(prepared)), key=lambda i: _prompt_chars(prepared[i][0]))
    for start in range(0, len(order), batch_size):
        check()
        members = order[start:start + batch_size]
        batch = [prepared[i] for i in members]
        todo = [i for i, p in enumerate(batch) if p[0] is not None]
        generations = _generate(generator, [batch[i][0] for i in todo], config)
        by_index = dict(zip(todo, generations))
        position = {i: j for j, i in enumerate(members)}
        for i, (prompt, kept, retrieval_s, error) in zip(members, batch):
            contexts = None if kept is None else [c.text for c in kept]
            chunk_ids = None if kept is None else [c.chunk_id for c in kept]
            gen, share = by_index.get(position[i], (error, 0.0))
            if isinstance(gen, str):
                answers[i] = StrategyAnswer("", contexts, chunk_ids, retrieval_s + share,
                                            retrieval_s + share, retrieval_s, 0, 0, gen)
                continue
            answers[i] = StrategyAnswer(gen.text.strip(), contexts, chunk_ids,
                                        gen.latency_s + retrieval_s, share + retrieval_s,
                                        retrieval_s, gen.tokens_in, gen.tokens_out)
        if on_batch is not None:
            on_batch(members, [answers[i] for i in members])
    return [answers[i] for i in range(len(prepared))]


def _prompt_chars(prompt: list[dict] | None) -> int:
    """The length of a prompt in characters (a cheap stand-in for its tokens); 0 when none."""
    return sum(len(m["content"]) for m in prompt) if prompt else 0


def _closed_book(template: PromptTemplate, question: str, language: str) -> list[dict]:
    messages = template.conversation(question, "", language)
    return [m for m in messages if m["content"].strip()]  # question-only has no system message


def _generate(generator: "Generator", prompts: list[list[dict]],
              config: GenerationConfig) -> list[tuple[Any, float]]:
    """``(Generation, share of the call's wall time)`` per prompt, from one call; if the batch
    fails, one call per prompt, so a single bad prompt (too long for the model) costs only its own
    answer: its entry is then the error text instead of a Generation."""
    if not prompts:
        return []
    began = time.perf_counter()
    try:
        generations = generator.generate(prompts, config, batch_size=len(prompts))
    except Exception as exc:  # noqa: BLE001 - retried one by one below to find the culprit
        if len(prompts) == 1:
            return [(f"generation failed: {_why(exc)}", time.perf_counter() - began)]
        return [item for prompt in prompts for item in _generate(generator, [prompt], config)]
    share = (time.perf_counter() - began) / len(prompts)
    return [(g, share) for g in generations]


def _why(exc: BaseException) -> str:
    return getattr(exc, "user_message", None) or f"{type(exc).__name__}: {exc}"
