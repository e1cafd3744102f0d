"""Report writers: the terminal table, report.json, report.md and the per-question CSV."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.core.errors import UsageError
from assistant.evaluation.chart import write_chart
from assistant.evaluation.metrics import short_answer_text
from assistant.evaluation.summary import LOWER_IS_BETTER, METRICS, TAG_COLUMNS, label

if TYPE_CHECKING:
    from rich.console import Console

    from assistant.core.types import JsonObject

# report.md has room for more columns than a terminal.
MD_TAG_COLUMNS = (
    *TAG_COLUMNS,
    "answer_in_top_k",
    "exact_match",
    "short_answer_rate",
    "extra_sentence_rate",
    "verdict_rate",
    "verdict_accuracy",
)
# Narrow headers so the per-tag table fits an 80-column terminal.
SHORT = {
    "contains_answer": "has answer",
    "must_recall": "must",
    "refusal_rate": "refused",
    "false_refusal_rate": "false ref.",
    "citation_precision": "cite prec.",
}
CSV_SCORES = (
    "hit@1",
    "hit@k",
    "answer_in_top_k",
    "recall@k",
    "rr",
    "exact_match",
    "f1",
    "contains_answer",
    "extra_sentence_rate",
    "must_recall",
    "verdict_given",
    "verdict_correct",
    "citation_valid",
    "citation_precision",
    "citation_recall",
    "unsupported_rate",
)


def fmt(name: str, value: object) -> str:
    """A figure for people: rates to three decimals, milliseconds whole, missing as a dash."""
    if value is None:
        return "-"
    if isinstance(value, bool) or name.endswith("_ms") or isinstance(value, int):
        return f"{value:.0f}" if isinstance(value, float) else str(value)
    return f"{value:.3f}"


def fmt_delta(name: str, delta: float | None) -> str:
    """A signed change, marked better or worse for the metric's direction."""
    if delta is None:
        return ""
    if abs(delta) < 1e-9:
        return "="
    better = (delta < 0) if name in LOWER_IS_BETTER else (delta > 0)
    number = f"{delta:+.0f}" if name.endswith("_ms") else f"{delta:+.3f}"
    return f"{number} {'better' if better else 'worse'}"


def load_previous(path: Path) -> JsonObject:
    """The figures of an earlier report.json, for --compare."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return dict(data["metrics"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UsageError(
            f"--compare {path}: not a report.json written by `assistant eval` ({exc})."
        ) from None


def rows(report: JsonObject) -> list[tuple[str, str, str]]:
    """(label, value, delta) for every headline metric that has a value."""
    k = report["meta"]["k"]
    figures = report["metrics"]
    changes = report.get("compare", {}).get("deltas", {})
    return [
        (label(name, k), fmt(name, figures.get(name)), fmt_delta(name, changes.get(name)))
        for name in METRICS
        if name in figures
    ]


def headline(report: JsonObject) -> str:
    """One line saying what was run."""
    meta, figures = report["meta"], report["metrics"]
    return (
        f"{meta['dataset'] or 'questions'}: {figures['questions']} questions "
        f"({figures['answerable']} answerable, {figures['unanswerable']} unanswerable), "
        f"backend {meta['backend']}, k={meta['k']}, collection '{meta['collection']}', "
        f"{meta['run_seconds']:.1f} s"
    )


def tokens(report: JsonObject) -> str:
    """The token counts summed over the answers, when an LLM answered; else empty."""
    used = report.get("usage") or {}
    return ("tokens: " + ", ".join(f"{k} {v:,}" for k, v in used.items())) if used else ""


def show(report: JsonObject, console: Console) -> None:
    """The metrics and the per-tag breakdown as rich tables."""
    from rich.table import Table

    compare = "compare" in report
    console.print(headline(report))
    table = Table()
    table.add_column("metric")
    table.add_column("value", justify="right")
    if compare:
        table.add_column(f"vs {Path(report['compare']['against']).name}", justify="right")
    for name, value, delta in rows(report):
        table.add_row(name, value, *([delta] if compare else []))
    console.print(table)
    k = report["meta"]["k"]
    tags = Table(title="By tag", title_justify="left")
    for column in ("tag", "n", *(SHORT.get(c, label(c, k)) for c in TAG_COLUMNS)):
        tags.add_column(column, justify="left" if column == "tag" else "right")
    for tag, figures in report["by_tag"].items():
        cells = [fmt(c, figures.get(c)) for c in TAG_COLUMNS]
        tags.add_row(tag, str(figures["questions"]), *cells)
    console.print(tags)
    if tokens(report):
        console.print(tokens(report))


def write_json(report: JsonObject, path: Path) -> None:
    """Everything, machine-readable (the input of a later --compare)."""
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_markdown(report: JsonObject, path: Path, chart: str | None = None) -> None:
    """The figures, per-tag table, latency and failed questions as Markdown."""
    k = report["meta"]["k"]
    compare = "compare" in report
    out = [f"# Evaluation\n\n{headline(report)}\n", "## Metrics\n"]
    out += _md_table(
        ["metric", "value", *(["change"] if compare else [])],
        [[n, v, *([d] if compare else [])] for n, v, d in rows(report)],
    )
    out += ["", "## By tag\n"]
    out += _md_table(
        ["tag", "n", *(label(c, k) for c in MD_TAG_COLUMNS)],
        [
            [tag, str(f["questions"]), *(fmt(c, f.get(c)) for c in MD_TAG_COLUMNS)]
            for tag, f in report["by_tag"].items()
        ],
    )
    if chart:
        out += ["", f"![metrics by tag]({chart})"]
    out += ["", "## Latency (ms)\n"] + ([tokens(report), ""] if tokens(report) else [])
    out += _md_table(
        ["stage", "p50", "p95"],
        [[s, fmt("_ms", v["p50"]), fmt("_ms", v["p95"])] for s, v in report["latency_ms"].items()],
    )
    failed = [q for q in report["questions"] if q["scores"]["failed"]]
    out += ["", f"## Questions with a failure ({len(failed)} of {len(report['questions'])})\n"]
    out += _md_table(
        ["id", "what failed", "answer"],
        [
            [q["id"], "; ".join(q["scores"]["failed"]), _short(q["answer"]["answer"])]
            for q in failed
        ],
    )
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


def _md_table(header: list[str], body: list[list[str]]) -> list[str]:
    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |"

    return [line(header), line(["---"] * len(header)), *(line(r) for r in body)]


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def citations(answer: JsonObject) -> str:
    """The cited sources as ``[n] file:first-last``."""
    return "; ".join(
        f"[{s['n']}] {s['source']}:{s['lines'][0]}-{s['lines'][1]}" for s in answer["sources"]
    )


def write_csv(report: JsonObject, path: Path) -> None:
    """One row per question: its answer, citations, scores and what failed."""
    head = ["id", "tags", "question", "reference", "refused", "answer", "short_answer", "verdict"]
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow([*head, "citations", *CSV_SCORES, "total_ms", "failed"])
        for q in report["questions"]:
            scores = q["scores"]
            writer.writerow(
                [
                    q["id"],
                    " ".join(q["tags"]),
                    q["question"],
                    " | ".join(q["reference"]) or "(should refuse)",
                    scores["refused"],
                    q["answer"]["answer"],
                    short_answer_text(q["answer"]),
                    q["answer"].get("verdict") or "",
                    citations(q["answer"]),
                    *(_cell(scores.get(name)) for name in CSV_SCORES),
                    _cell(q["timings_ms"].get("total")),
                    "; ".join(scores["failed"]),
                ]
            )


def _cell(value: object) -> str:
    if value is None:
        return ""
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def write_all(report: JsonObject, out: Path) -> dict[str, Path]:
    """report.json, report.md, questions.csv and chart.png under ``out``."""

    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": out / "report.json",
        "markdown": out / "report.md",
        "csv": out / "questions.csv",
        "chart": out / "chart.png",
    }
    write_chart(report, paths["chart"])
    write_json(report, paths["json"])
    write_markdown(report, paths["markdown"], chart=paths["chart"].name)
    write_csv(report, paths["csv"])
    return paths
