"""The sensitive-data guard: every training example goes through the corpus scanner first.

Training on personal or sensitive data (e-mail addresses, phone numbers, IBANs, ID numbers, ...)
bakes it into weights that cannot forget it. A run whose examples hold any is refused, listing the
documents (or questions) and the kinds of data, unless the user chose one of two ways on:
``redact`` (each finding replaced by its typed placeholder, e.g. ``[EMAIL]``, before training) or
``acknowledge`` (train on it as it is, accepting the risk). The decision and the counts are
recorded with the run and shown in its lineage and in the report.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from backend.errors import InputError

DECISIONS = ("refuse", "redact", "acknowledge")


@dataclass
class GuardReport:
    kinds: dict[str, int] = field(default_factory=dict)      # kind -> findings
    where: dict[str, dict[str, int]] = field(default_factory=dict)  # document -> kind -> n
    examples: int = 0                                         # examples with findings

    @property
    def clean(self) -> bool:
        return not self.kinds

    def as_dict(self) -> dict:
        return asdict(self)


def _where(source: dict, position: int) -> str:
    if source.get("document_name"):
        return str(source["document_name"])
    if "question_position" in source:
        return f"question {source['question_position'] + 1} of the question set"
    return f"example {position + 1}"


def _texts(example: dict) -> list[str]:
    if "messages" in example:
        return [m["content"] for m in example["messages"]]
    return [example.get("text", "")]


def scan_examples(examples: list[dict], sources: list[dict]) -> GuardReport:
    """What the corpus scanner finds in the examples, by kind and by document."""
    from backend.corpus.sensitive import counts, scan

    report = GuardReport()
    for i, (example, source) in enumerate(zip(examples, sources)):
        found: dict[str, int] = {}
        for text in _texts(example):
            for kind, n in counts(scan(text)).items():
                found[kind] = found.get(kind, 0) + n
        if not found:
            continue
        report.examples += 1
        place = report.where.setdefault(_where(source, i), {})
        for kind, n in found.items():
            report.kinds[kind] = report.kinds.get(kind, 0) + n
            place[kind] = place.get(kind, 0) + n
    return report


def redact_example(example: dict) -> dict:
    """The example with every finding replaced by its typed placeholder."""
    from backend.corpus.sensitive import redact

    if "messages" in example:
        return {"messages": [{**m, "content": redact(m["content"])} for m in example["messages"]]}
    return {**example, "text": redact(example.get("text", ""))}


def apply_guard(examples: list[dict], sources: list[dict], decision: str = "refuse"
                ) -> tuple[list[dict], dict]:
    """The examples to train on and the record of the decision; InputError when sensitive data
    was found and the decision is ``refuse``."""
    if decision not in DECISIONS:
        raise InputError(f"Unknown sensitive-data decision {decision!r}.",
                         hint=f"Use one of {', '.join(DECISIONS)}.")
    report = scan_examples(examples, sources)
    record = {"decision": "clean" if report.clean else decision, **report.as_dict()}
    if report.clean:
        return examples, record
    if decision == "refuse":
        from backend.corpus.sensitive import LABELS

        places = "; ".join(f"{place}: " + ", ".join(f"{n} {LABELS.get(kind, kind)}"
                                                    for kind, n in sorted(k.items()))
                           for place, k in list(report.where.items())[:10])
        more = f" and {len(report.where) - 10} more" if len(report.where) > 10 else ""
        raise InputError(
            f"{report.examples} training example(s) hold personal or sensitive data ({places}"
            f"{more}).", hint="Redact it (each item becomes a placeholder such as [EMAIL]) or "
            "acknowledge the risk to train on it as it is; the choice is recorded with the run.",
            guard=record)
    if decision == "redact":
        examples = [redact_example(e) for e in examples]
    return examples, record
