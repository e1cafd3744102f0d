"""Corpus formats are plug-ins of the chunker: the first that recognises a file cuts it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT, SEED_FILE

from assistant.core.config import Settings
from assistant.core.types import Chunk, SourceFile
from assistant.library import Library
from assistant.pipeline import Assistant
from assistant.text.formats import FORMATS, PLAIN, format_of, register
from assistant.text.formats.base import chunks_at, trimmed

RECIPES = """Recipe: Pancakes
Whisk flour, milk and two eggs.
Method: let the batter rest for twenty minutes before frying.
---
Recipe: Lemonade
Squeeze four lemons into a jug of cold water.
Method: stir in sugar until it dissolves.
"""


class RecipeFormat:
    """A toy format: recipes between ``---`` lines, each titled by its ``Recipe:`` line."""

    name = "recipes"
    headings: tuple[str, ...] = ("Recipe:",)
    labels: tuple[str, ...] = ("Method:",)

    def detect(self, doc: SourceFile) -> bool:
        return doc.text.startswith("Recipe:")

    def split(self, doc: SourceFile, chunk_tokens: int, overlap: int) -> list[Chunk]:
        spans, start = [], 0
        for part in doc.text.split("\n---\n"):
            spans.append(trimmed(doc.text, start, start + len(part)))
            start += len(part) + len("\n---\n")
        return chunks_at(doc.text, spans)


@pytest.fixture
def recipes() -> Iterator[None]:
    register(RecipeFormat())
    yield
    del FORMATS["recipes"]


def _file(text: str, name: str = "doc.txt", pages: tuple[int, ...] = ()) -> SourceFile:
    return SourceFile(name, f"docs/{name}", text, "docs", True, pages)


def test_seed_file_is_a_story_file_and_anything_else_is_plain() -> None:
    seeds = SEED_FILE.read_text(encoding="utf-8")
    assert format_of(_file(seeds)).name == "stories"
    assert format_of(_file(seeds, "seeds.pdf", pages=(0,))) is PLAIN  # a PDF is cut by page
    assert format_of(_file("# Notes\n\nShort prose.\n", "notes.md")) is PLAIN


@pytest.mark.usefixtures("recipes")
def test_ingest_cuts_a_file_with_a_registered_format(
    tmp_path: Path, settings: Settings, embeddings
) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "recipes.txt").write_text(RECIPES, encoding="utf-8")
    (folder / "notes.txt").write_text("Recipe cards live in the kitchen drawer.\n", "utf-8")
    assistant = Assistant(settings, embeddings)
    library = Library(assistant.settings, assistant.embeddings, assistant.corpus)
    assert library.ingest([folder]).chunks_total == 3  # two recipes, and the note as plain text
    answer = assistant.ask("How long should the pancake batter rest?")
    top = answer.retrieved[0]
    assert (top.metadata["title"], top.lines) == ("Pancakes", (1, 3))
    assert "twenty minutes" in answer.answer
    assert "Method" not in answer.answer, "a format's label is no part of a quoted sentence"


def test_only_the_story_format_knows_its_layout() -> None:
    package = ROOT / "assistant"
    knowing = {
        path.relative_to(package).as_posix()
        for path in package.rglob("*.py")
        for label in ("Main Topic", "Key Points")
        if label in path.read_text(encoding="utf-8")
    }
    assert knowing == {"text/formats/stories.py"}
