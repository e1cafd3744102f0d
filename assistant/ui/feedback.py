"""Thumbs up / down from the page, kept as JSON Lines so real questions can become eval cases."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.core.types import Answer, JsonObject

RATINGS = {0: "down", 1: "up"}  # the values of st.feedback("thumbs")
_write_lock = threading.Lock()  # every browser session runs in a thread of one process


def feedback_record(answer: Answer, rating: int) -> JsonObject:
    """One line of the feedback file: what was asked, what was answered, from which chunks."""
    return {
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "rating": RATINGS[rating],
        "question": answer.question,
        "standalone_question": answer.standalone_question or answer.question,
        "answer": answer.answer,
        "refused": answer.refused,
        "backend": answer.backend,
        "cited_chunk_ids": [s.chunk_id for s in answer.sources],
        "retrieved_chunk_ids": [h.id for h in answer.retrieved],
    }


def append_feedback(path: Path, record: JsonObject) -> None:
    """Append ``record`` as one JSON line (a later line for the same answer supersedes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, ensure_ascii=False) + "\n"
    with _write_lock, path.open("a", encoding="utf-8") as out:
        out.write(line)
