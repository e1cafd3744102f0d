"""Prompt templates, kept as files in ``prompts/`` and rendered with their variables checked."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.core.errors import AssistantError

if TYPE_CHECKING:
    from langchain_core.prompts import PromptTemplate

PROMPTS_DIR = Path(__file__).resolve().parents[2] / "prompts"


@cache
def template(name: str) -> PromptTemplate:
    """The template ``prompts/NAME.txt``."""
    from langchain_core.prompts import PromptTemplate

    path = PROMPTS_DIR / f"{name}.txt"
    if not path.is_file():
        raise AssistantError(f"Prompt file {path} is missing: reinstall the assistant.")
    return PromptTemplate.from_file(path, encoding="utf-8")


def fence_source(
    n: int, file: str, text: str, location: str = "", before: str = "", after: str = ""
) -> str:
    """Document text fenced as numbered source ``n``; a fence inside it cannot close it early.

    ``before`` and ``after``, the sentences around it in its document, are fenced apart
    as context of source ``n``: outside its fence, as they are not part of what it cites
    (``prompts/system.txt`` tells the model so). Every prompt that quotes documents (the
    answer's and the judge's) fences them here. Without ``file`` the fence names the
    number alone.
    """
    named = f' file="{file}"' if file else ""
    where = f' location="{location}"' if location else ""
    source = f'<source n="{n}"{named}{where}>\n{_unfenced(text)}\n</source>'
    return "\n".join([*_context(n, "before", before), source, *_context(n, "after", after)])


def _context(n: int, side: str, text: str) -> list[str]:
    """The context on one ``side`` of source ``n``, fenced on its own; none when empty."""
    fenced = f'<context source="{n}" side="{side}">\n{_unfenced(text)}\n</context>'
    return [fenced] if text else []


def _unfenced(text: str) -> str:
    """Document text in which no closing tag can end its fence early."""
    return text.replace("</source>", "</ source>").replace("</context>", "</ context>")


def render(name: str, **variables: str) -> str:
    """Fill template ``name``; every variable it names must be given, and no other."""
    prompt = template(name)
    expected = set(prompt.input_variables)
    if expected != set(variables):
        raise ValueError(f"prompt '{name}' takes {sorted(expected)}, got {sorted(variables)}")
    return prompt.format(**variables)
