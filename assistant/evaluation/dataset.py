"""Question sets in JSON Lines: loading and validation, with errors that name the line."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from assistant.core.errors import UsageError
from assistant.core.types import JsonObject, Turn

KNOWN = ("id", "question", "answer", "must", "evidence", "sources", "history", "tags")


class DatasetError(UsageError):
    """The question set cannot be read: the message names the file and line."""


@dataclass
class Item:
    """One question of the set, with what a good answer and good retrieval look like."""

    id: str
    question: str
    answers: list[str]  # accepted reference answers; empty: the assistant should refuse
    must: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    history: list[Turn] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    extra: JsonObject = field(default_factory=dict)  # unknown fields, kept as they were
    line: int = 0

    @property
    def answerable(self) -> bool:
        """False when the documents do not answer the question (``answer`` is null)."""
        return bool(self.answers)


def load(path: Path) -> list[Item]:
    """Every question of the JSON Lines file at ``path``; blank lines are skipped."""
    if not path.is_file():
        raise DatasetError(f"{path}: no such question set (a .jsonl file, one question a line).")
    items: list[Item] = []
    seen: dict[str, int] = {}
    text = path.read_text(encoding="utf-8")
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        item = parse_row(line, f"{path} line {number}")
        item.line = number
        if item.id in seen:
            raise DatasetError(
                f"{path} line {number}: id '{item.id}' is already used on line {seen[item.id]}."
            )
        seen[item.id] = number
        items.append(item)
    if not items:
        raise DatasetError(f"{path} holds no questions.")
    return items


def tagged(items: list[Item], tags: list[str], path: Path) -> list[Item]:
    """The questions of ``items`` that carry every one of ``tags`` (all of them when none)."""
    chosen = [item for item in items if set(tags) <= set(item.tags)]
    if not chosen:
        known = ", ".join(sorted({t for item in items for t in item.tags})) or "none"
        raise DatasetError(f"{path}: no question is tagged {' and '.join(tags)} (tags: {known}).")
    return chosen


def parse_row(line: str, where: str) -> Item:
    """One question from one line of JSON; ``where`` names the line in errors."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{where}: not valid JSON ({exc.msg}, column {exc.colno}).") from None
    if not isinstance(row, dict):
        raise DatasetError(f"{where}: expected a JSON object with 'id', 'question' and 'answer'.")
    if "answer" not in row:
        raise DatasetError(
            f"{where}: 'answer' is missing; give the reference answer, "
            "or null when the documents do not answer the question."
        )
    return Item(
        id=_id(row.get("id"), where),
        question=_text(row.get("question"), "question", where),
        answers=_answers(row["answer"], where),
        must=_strings(row, "must", where),
        evidence=_strings(row, "evidence", where),
        sources=_strings(row, "sources", where),
        history=_history(row.get("history"), where),
        tags=_strings(row, "tags", where),
        extra={k: v for k, v in row.items() if k not in KNOWN},
    )


def _id(value: object, where: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return _text(value, "id", where)


def _text(value: object, name: str, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise DatasetError(f"{where}: '{name}' must be a non-empty string, got {value!r}.")
    return value.strip()


def _answers(value: object, where: str) -> list[str]:
    # A list holds alternatives that are all correct (SQuAD gives several spans).
    if value is None:
        return []
    if isinstance(value, str):
        return [_text(value, "answer", where)]
    if isinstance(value, list) and value and all(isinstance(v, str) and v.strip() for v in value):
        return [v.strip() for v in value]
    raise DatasetError(
        f"{where}: 'answer' must be a string, a list of accepted strings, or null, got {value!r}."
    )


def _strings(row: JsonObject, name: str, where: str) -> list[str]:
    value = row.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DatasetError(f"{where}: '{name}' must be a list of strings, got {value!r}.")
    return [v for v in value if v.strip()]


def _history(value: object, where: str) -> list[Turn]:
    if value is None:
        return []
    turns = []
    for turn in value if isinstance(value, list) else [None]:
        if not (
            isinstance(turn, dict)
            and isinstance(turn.get("question"), str)
            and isinstance(turn.get("answer"), str)
        ):
            raise DatasetError(
                f'{where}: \'history\' must be a list of {{"question": ..., "answer": ...}} '
                f"turns, got {value!r}."
            )
        turns.append(Turn(turn["question"], turn["answer"]))
    return turns
