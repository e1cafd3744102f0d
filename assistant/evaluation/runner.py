"""Runs a question set through an ``Assistant`` and collects every answer with its scores."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.core.errors import AssistantError
from assistant.evaluation import metrics, summary
from assistant.library import Library
from assistant.pipeline import Assistant
from assistant.store.corpus import Corpus

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from assistant.core.config import Settings
    from assistant.core.types import JsonObject
    from assistant.evaluation.dataset import Item
    from assistant.evaluation.judge import Judge
    from assistant.ingest.indexing import IngestReport


def collection_name(docs: Path) -> str:
    """The collection of ``docs``: ``docs-<name>-<8 hex of sha256 of its absolute path>``.

    The hash keeps two folders of one name (``a/docs``, ``b/docs``) in collections of
    their own; the name is reduced to what Chroma accepts and cut so the whole stays
    within 63 characters.
    """
    path = docs.resolve()
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:8]
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", path.name)
    name = re.sub(r"\.{2,}", ".", name).strip("._-")[:49].rstrip("._-")
    return f"docs-{name}-{digest}" if name else f"docs-{digest}"


def prepare(
    settings: Settings,
    docs: Path | None = None,
    embeddings: Embeddings | None = None,
    collection: str | None = None,
) -> tuple[Assistant, IngestReport | None]:
    """An assistant over ``docs`` (ingested into a collection of their own), else the store.

    ``collection`` names the collection instead (of the docs, or to ask).
    """
    report = None
    if collection is None and docs is not None:
        collection = collection_name(docs)
    corpus = Corpus.open(settings, collection)
    assistant = Assistant(settings, embeddings, corpus)
    _ = assistant.backend  # an unknown or broken backend fails before a long ingest
    if docs is not None:
        # Incremental: an unchanged folder is checked, not embedded again.
        report = Library(settings, assistant.embeddings, corpus).ingest([docs])
    return assistant, report


def run(
    assistant: Assistant,
    items: Sequence[Item],
    k: int,
    on_progress: Callable[[int, int], None] | None = None,
    judge: Judge | None = None,
) -> list[JsonObject]:
    """Ask every question; one record per question with its answer and scores."""
    # Fail before the first question on a store or backend that cannot work at all.
    _ = assistant.retriever, assistant.backend
    records = []
    for done, item in enumerate(items, 1):
        answer = _ask(assistant, item, k)
        record = {
            "id": item.id,
            "tags": item.tags,
            "question": item.question,
            "answerable": item.answerable,
            "reference": item.answers,
            "answer": _slim(answer),
            "scores": metrics.score(item, answer),
            "timings_ms": answer.get("timings_ms", {}),
            "usage": answer.get("usage", {}),
            "error": answer.get("error"),
        }
        if judge is not None and not record["error"]:
            record["judge"] = judge.grade(item, answer)
        records.append(record)
        if on_progress:
            on_progress(done, len(items))
    return records


def _ask(assistant: Assistant, item: Item, k: int) -> JsonObject:
    try:
        return assistant.ask(item.question, item.history, k).to_dict()
    except AssistantError as exc:  # one failed call (a timeout, a 5xx) should not end the run
        return {"answer": "", "refused": False, "sources": [], "retrieved": [], "error": str(exc)}


def _slim(answer: JsonObject) -> JsonObject:
    """The answer for the report: chunk texts left out (the store has them)."""
    keep = (
        "answer",
        "refused",
        "short_answer",
        "verdict",
        "standalone_question",
        "sentences",
        "citations",
    )
    return {
        **{key: answer[key] for key in keep if key in answer},
        "sources": [
            {k: s[k] for k in ("n", "source", "lines", "quote")} for s in answer["sources"]
        ],
        "retrieved": [
            {k: h[k] for k in ("chunk_id", "source", "lines", "score")} for h in answer["retrieved"]
        ],
    }


def evaluate(
    assistant: Assistant,
    items: Sequence[Item],
    k: int,
    dataset: Path | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    judge: Judge | None = None,
) -> JsonObject:
    """The whole report: what was run, the figures overall and per tag, every question."""
    started = datetime.now(UTC)
    clock = time.perf_counter()
    records = run(assistant, items, k, on_progress, judge)
    settings = assistant.settings
    return {
        "meta": {
            "dataset": str(dataset) if dataset else None,
            "backend": assistant.backend.name,
            "k": k,
            "collection": assistant.corpus.name,
            "store": assistant.corpus.chroma_url or str(assistant.corpus.store_dir),
            "embedding_model": settings.embedding_model_name,
            "judged": judge is not None,
            "started": started.isoformat(timespec="seconds"),
            "run_seconds": round(time.perf_counter() - clock, 2),
        },
        "metrics": summary.summarise(records),
        "by_tag": summary.by_tag(records),
        "latency_ms": summary.latency(records),
        "usage": summary.usage(records),
        "questions": records,
    }
