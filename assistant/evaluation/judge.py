"""The optional LLM judge: its interface, its prompt (``prompts/judge.txt``) and its verdicts.

Only the seam is here: a judge needs the LLM client of the openai/local
backends, and grades nothing until one is configured. Judged figures are
always labelled "judged" in reports.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from assistant.evaluation.dataset import Item

NO_ANSWER = "(none: the documents do not answer this question)"
_OBJECT = re.compile(r"\{.*?\}", re.DOTALL)


class Judge(Protocol):
    """Grades one answer: correctness against the reference, faithfulness to its sources."""

    def grade(self, item: Item, answer: dict[str, Any]) -> dict[str, Any]:
        """``{"correct": 0..1, "faithful": 0..1, "reason": str}`` for ``Answer.to_dict()``."""
        ...


def prompt(item: Item, answer: dict[str, Any]) -> str:
    """The judge prompt for one answer, with its cited sources fenced as untrusted text."""
    from assistant.prompts import render

    sources = "\n".join(
        f'<source n="{s["n"]}" file="{s["source"]}">\n{s["text"]}\n</source>'
        for s in answer["sources"]
    )
    return render(
        "judge",
        question=item.question,
        reference=" / ".join(item.answers) or NO_ANSWER,
        answer=answer["answer"],
        sources=sources or "(no source cited)",
    )


def verdict(reply: str) -> dict[str, Any]:
    """The judge's JSON reply as a verdict; scores clamped to 0..1, unreadable ones None."""
    for match in _OBJECT.finditer(reply):
        try:
            data = json.loads(match.group())
        except ValueError:
            continue
        if isinstance(data, dict):
            return {
                "correct": _score(data.get("correct")),
                "faithful": _score(data.get("faithful")),
                "reason": str(data.get("reason", "")),
            }
    return {"correct": None, "faithful": None, "reason": f"unreadable verdict: {reply[:200]}"}


def _score(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return min(1.0, max(0.0, float(value)))
