"""Aggregate figures over a question set, per tag, thresholds (--min/--max) and deltas."""

from __future__ import annotations

from collections.abc import Sequence
from statistics import fmean
from typing import TYPE_CHECKING

from assistant.core.errors import UsageError
from assistant.evaluation.metrics import percentile

if TYPE_CHECKING:
    from assistant.core.types import JsonObject

STAGES = ("condense", "retrieve", "first_token", "answer", "total")
# The figures --min and --max accept, in the order reports show them.
METRICS = (
    "hit@1",
    "hit@k",
    "answer_in_top_k",
    "recall@k",
    "mrr",
    "exact_match",
    "f1",
    "short_answer_rate",
    "extra_sentence_rate",
    "contains_answer",
    "must_recall",
    "must_all",
    "verdict_rate",
    "verdict_accuracy",
    "refusal_rate",
    "false_refusal_rate",
    "citation_validity",
    "citation_precision",
    "citation_recall",
    "unsupported_rate",
    "latency_p50_ms",
    "latency_p95_ms",
    "judged_correctness",
    "judged_faithfulness",
)
LOWER_IS_BETTER = frozenset(
    {
        "false_refusal_rate",
        "unsupported_rate",
        "extra_sentence_rate",
        "latency_p50_ms",
        "latency_p95_ms",
    }
)


def mean(values: Sequence[float | bool | None]) -> float | None:
    """Mean of the values that are not None; None when there are none."""
    present = [float(v) for v in values if v is not None]
    return fmean(present) if present else None


def summarise(records: Sequence[JsonObject]) -> JsonObject:
    """The headline figures of ``records`` (each with ``answerable`` and its ``scores``)."""
    answerable = [r["scores"] for r in records if r["answerable"]]
    unanswerable = [r["scores"] for r in records if not r["answerable"]]
    scores = [r["scores"] for r in records]
    must = [s["must_recall"] for s in answerable if s.get("must_recall") is not None]
    totals = [r["timings_ms"]["total"] for r in records if "total" in r["timings_ms"]]
    figures: JsonObject = {
        "questions": len(records),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "errors": sum(bool(r.get("error")) for r in records),
        "hit@1": mean([s.get("hit@1") for s in scores]),
        "hit@k": mean([s.get("hit@k") for s in scores]),
        # Needs a reference answer, not evidence: set on the answerable questions only.
        "answer_in_top_k": mean([s.get("answer_in_top_k") for s in scores]),
        "recall@k": mean([s.get("recall@k") for s in scores]),
        "mrr": mean([s.get("rr") for s in scores]),
        "exact_match": mean([s["exact_match"] for s in answerable]),
        "f1": mean([s["f1"] for s in answerable]),
        "short_answer_rate": mean([s.get("has_short_answer") for s in answerable]),
        # Over the answers that hold a reference: their sentences that hold none.
        "extra_sentence_rate": mean([s.get("extra_sentence_rate") for s in answerable]),
        "contains_answer": mean([s["contains_answer"] for s in answerable]),
        "must_recall": mean(must),
        "must_all": mean([m == 1.0 for m in must]),
        # Over the questions whose reference is a bare yes or no.
        "verdict_rate": mean([s.get("verdict_given") for s in scores]),
        "verdict_accuracy": mean([s.get("verdict_correct") for s in scores]),
        "refusal_rate": mean([s["refused"] for s in unanswerable]),
        "false_refusal_rate": mean([s["refused"] for s in answerable]),
        "citation_validity": mean([s.get("citation_valid") for s in scores]),
        "citation_precision": mean([s.get("citation_precision") for s in scores]),
        "citation_recall": mean([s.get("citation_recall") for s in scores]),
        "unsupported_rate": mean([s.get("unsupported_rate") for s in scores]),
        "latency_p50_ms": percentile(totals, 50),
        "latency_p95_ms": percentile(totals, 95),
    }
    judged = [r["judge"] for r in records if r.get("judge")]
    if judged:  # only with a judge configured, and labelled "judged" wherever shown
        figures["judged_correctness"] = mean([j.get("correct") for j in judged])
        figures["judged_faithfulness"] = mean([j.get("faithful") for j in judged])
    return figures


def latency(records: Sequence[JsonObject]) -> dict[str, dict[str, float | None]]:
    """p50 and p95 in milliseconds of each stage of answering."""
    out = {}
    for stage in STAGES:
        values = [r["timings_ms"][stage] for r in records if stage in r["timings_ms"]]
        if values:
            out[stage] = {"p50": percentile(values, 50), "p95": percentile(values, 95)}
    return out


def usage(records: Sequence[JsonObject]) -> dict[str, int]:
    """Token counts summed over the answers (empty unless an LLM answered)."""
    total: dict[str, int] = {}
    for record in records:
        for key, value in record.get("usage", {}).items():
            total[key] = total.get(key, 0) + int(value)
    return total


def by_tag(records: Sequence[JsonObject]) -> dict[str, JsonObject]:
    """The headline figures for the questions of each tag ("untagged" for the rest)."""
    tags = dict.fromkeys(t for r in records for t in (r["tags"] or ["untagged"]))
    return {
        tag: summarise([r for r in records if tag in (r["tags"] or ["untagged"])]) for tag in tags
    }


def metric_name(name: str, k: int) -> str:
    """The report key for ``name``; ``hit@4`` means ``hit@k`` when k is 4."""
    return {f"hit@{k}": "hit@k", f"recall@{k}": "recall@k"}.get(name, name)


def parse_threshold(text: str, k: int) -> tuple[str, float]:
    """``METRIC=VALUE`` as (metric, value); a usage error names the valid metrics."""
    name, _, value = text.partition("=")
    name = metric_name(name.strip(), k)
    if name not in METRICS:
        raise UsageError(
            f"unknown metric '{name}' in '{text}': choose one of {', '.join(METRICS)}."
        )
    try:
        return name, float(value)
    except ValueError:
        raise UsageError(f"'{text}' is not METRIC=NUMBER (e.g. hit@k=0.9).") from None


def thresholds(texts: Sequence[str] | None, k: int) -> dict[str, float]:
    """Every ``METRIC=VALUE`` of a repeated option, by metric."""
    return dict(parse_threshold(text, k) for text in texts or [])


def missed(
    figures: JsonObject, minimum: dict[str, float], maximum: dict[str, float], k: int
) -> list[str]:
    """A message for every threshold the figures miss (a metric with no value misses)."""
    out = []
    for bound, limits in (("at least", minimum), ("at most", maximum)):
        for name, limit in limits.items():
            value, shown = figures.get(name), name.replace("@k", f"@{k}")
            if value is None:
                out.append(f"{shown} has no value for this question set (required {bound} {limit})")
            elif (value < limit) if bound == "at least" else (value > limit):
                out.append(f"{shown} is {value:.4g}, required {bound} {limit:g}")
    return out


def deltas(current: JsonObject, previous: JsonObject) -> dict[str, float]:
    """Current minus previous for every figure both reports have a number for."""
    return {
        name: current[name] - previous[name]
        for name in current
        if isinstance(current[name], int | float)
        and isinstance(previous.get(name), int | float)
        and not isinstance(current[name], bool)
    }


# The columns of the per-tag tables, and the bars of the chart.
TAG_COLUMNS = (
    "hit@k",
    "contains_answer",
    "must_recall",
    "refusal_rate",
    "false_refusal_rate",
    "citation_precision",
)


def label(name: str, k: int) -> str:
    """How a metric is shown: ``hit@k`` as ``hit@4``, judged figures marked as such."""
    name = name.replace("@k", f"@{k}")
    return f"{name} (judged)" if name.startswith("judged_") else name
