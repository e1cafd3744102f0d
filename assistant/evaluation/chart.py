"""The PNG chart of the main metrics by tag (matplotlib's Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from assistant.evaluation.summary import TAG_COLUMNS, label

if TYPE_CHECKING:
    from assistant.core.types import JsonObject


def series(report: JsonObject) -> tuple[list[str], dict[str, list[float]]]:
    """Group names (all questions, then each tag) and each metric's value per group (NaN: none)."""
    groups = {"all": report["metrics"], **report["by_tag"]}
    values = {
        name: [float("nan") if g.get(name) is None else float(g[name]) for g in groups.values()]
        for name in TAG_COLUMNS
    }
    return list(groups), values


def write_chart(report: JsonObject, path: Path) -> None:
    """Grouped bars: one group per tag, one bar per main metric, on a 0-1 scale."""
    # Figure + the Agg canvas directly: no pyplot state, no GUI backend looked for.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    groups, values = series(report)
    width = 0.8 / len(values)
    figure = Figure(figsize=(max(6.0, 1.4 * len(groups) + 2), 4.5), dpi=110)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for i, (name, heights) in enumerate(values.items()):
        xs = [g + (i - (len(values) - 1) / 2) * width for g in range(len(groups))]
        axes.bar(xs, heights, width, label=label(name, report["meta"]["k"]))
    axes.set_xticks(range(len(groups)), groups, rotation=20, ha="right")
    axes.set_ylim(0, 1.05)
    axes.set_ylabel("share (false refusals: lower is better)")
    meta = report["meta"]
    axes.set_title(f"{meta['backend']} backend, k={meta['k']}, {report['metrics']['questions']} q")
    axes.grid(axis="y", alpha=0.3)
    axes.legend(fontsize="small", ncols=3, loc="upper center", bbox_to_anchor=(0.5, -0.22))
    figure.tight_layout()
    figure.savefig(path, format="png")
