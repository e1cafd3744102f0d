"""The optional LLM judge: its interface, its prompt (``prompts/judge.txt``) and its verdicts.

A judge needs the chat model of an LLM backend (openai or local): `assistant
eval --judge` grades with the configured one and fails clearly without one.
Judged figures are always labelled "judged" in reports.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Protocol, TypedDict

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from assistant.core.types import JsonObject
    from assistant.evaluation.dataset import Item

NO_ANSWER = "(none: the documents do not answer this question)"
_OBJECT = re.compile(r"\{.*?\}", re.DOTALL)


class Verdict(TypedDict):
    """A judge's grade of one answer: scores in 0..1 (None when unreadable) and its reason."""

    correct: float | None
    faithful: float | None
    reason: str


class Judge(Protocol):
    """Grades one answer: correctness against the reference, faithfulness to its sources."""

    def grade(self, item: Item, answer: JsonObject) -> Verdict:
        """The verdict on ``answer`` (``Answer.to_dict()``)."""
        ...


def prompt(item: Item, answer: JsonObject) -> str:
    """The judge prompt for one answer, with its cited sources fenced as untrusted text."""
    from assistant.llm.prompts import fence_source, render

    sources = "\n".join(fence_source(s["n"], s["source"], s["text"]) for s in answer["sources"])
    return render(
        "judge",
        question=item.question,
        reference=" / ".join(item.answers) or NO_ANSWER,
        answer=answer["answer"],
        sources=sources or "(no source cited)",
    )


def verdict(reply: str) -> Verdict:
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


def _score(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return min(1.0, max(0.0, float(value)))


class LLMJudge:
    """Grades with the chat model of an LLM answer backend."""

    def __init__(self, chat: BaseChatModel) -> None:
        self.chat = chat

    def grade(self, item: Item, answer: JsonObject) -> Verdict:
        """Ask the model, read its JSON verdict."""
        reply = self.chat.invoke(prompt(item, answer))
        return verdict(str(reply.content))


def judge_for(backend: object) -> LLMJudge:
    """The judge of an LLM backend; the extractive backend has no model to judge with."""
    from assistant.core.errors import UsageError

    chat = getattr(backend, "chat", None)
    if chat is None:
        raise UsageError(
            "--judge needs an LLM backend: set OPENAI_API_KEY or OPENAI_BASE_URL, or pass "
            "--backend local."
        )
    return LLMJudge(chat)
