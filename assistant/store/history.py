"""Saved conversations: every turn asked on the page or in `assistant chat`, kept in SQLite.

One file beside the vector store, ``<store_dir>/conversations.sqlite3``. A turn is
kept as ``Answer.to_dict()`` (the answer, its citations, sources and retrieved
chunks) with the collection it was asked of and its thumbs, so a conversation
reopened later shows what was shown then and continues with the same history.
A connection is opened per call: the page's sessions run in threads of one
process, and the CLI may write at the same time; SQLite's lock orders them.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.core.errors import StoreError, UsageError
from assistant.core.types import Answer, Hit, Quote, Sentence, ShortAnswer, Source, Turn
from assistant.store.client import sqlite_problem

HISTORY_FILE = "conversations.sqlite3"
SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS turns (
    conversation TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    id TEXT NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    collection TEXT NOT NULL,
    feedback TEXT,
    asked REAL NOT NULL,
    PRIMARY KEY (conversation, position)
);
"""


@dataclass(frozen=True)
class Conversation:
    """A saved conversation as listed: titled by its first question unless renamed."""

    id: str
    title: str
    turns: int
    collection: str  # of its latest turn
    updated: float


@dataclass(frozen=True)
class SavedTurn:
    """One saved turn: its answer as it was shown, the collection asked and the thumbs."""

    id: str
    answer: Answer
    collection: str
    feedback: str | None  # "up", "down" or None


def new_id() -> str:
    """A short id for a new conversation, typed after `assistant chat --resume`."""
    return uuid.uuid4().hex[:8]


class History:
    """The conversation store of one store folder."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def open(cls, store_dir: Path) -> History:
        """The store in ``store_dir``, created if absent; a StoreError says why it is unusable."""
        history = cls(store_dir / HISTORY_FILE)
        if problem := sqlite_problem(history.path):
            raise history.damaged(problem)
        with history._connect() as db:
            db.executescript(SCHEMA)
            db.execute("SELECT count(*) FROM turns").fetchone()  # reads a malformed file
        for target in (history.path, store_dir):
            if not os.access(target, os.W_OK):  # checked now: SQLite fails only on the write
                raise history.read_only("permission denied")
        return history

    def save(self, conversation: str, turn_id: str, answer: Answer, collection: str) -> None:
        """Append a turn; the conversation is created, titled by its question, with its first."""
        now = time.time()
        with self._connect() as db:
            db.execute(
                "INSERT INTO conversations VALUES (?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET updated = excluded.updated",
                (conversation, answer.question, now, now),
            )
            db.execute(
                "INSERT INTO turns SELECT ?, coalesce(max(position), -1) + 1, ?, ?, ?, ?, NULL, ? "
                "FROM turns WHERE conversation = ?",
                (conversation, turn_id, answer.question, json.dumps(answer.to_dict()),
                 collection, now, conversation),
            )  # fmt: skip

    def rate(self, conversation: str, turn_id: str, feedback: str | None) -> None:
        """Record a turn's thumbs ("up", "down"), or None when taken back."""
        with self._connect() as db:
            db.execute(
                "UPDATE turns SET feedback = ? WHERE conversation = ? AND id = ?",
                (feedback, conversation, turn_id),
            )

    def conversations(self) -> list[Conversation]:
        """Every saved conversation, the most recently continued first."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT c.id, c.title, count(*), "
                "(SELECT collection FROM turns WHERE conversation = c.id "
                " ORDER BY position DESC LIMIT 1), c.updated "
                "FROM conversations c JOIN turns t ON t.conversation = c.id "
                "GROUP BY c.id ORDER BY c.updated DESC, c.rowid DESC"
            ).fetchall()
        return [Conversation(*row) for row in rows]

    def find(self, conversation: str) -> Conversation | None:
        """The conversation of that id, or None."""
        return next((c for c in self.conversations() if c.id == conversation), None)

    def turns(self, conversation: str) -> list[SavedTurn]:
        """The turns of a conversation, in the order they were asked."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT id, answer, collection, feedback FROM turns "
                "WHERE conversation = ? ORDER BY position",
                (conversation,),
            ).fetchall()
        return [SavedTurn(i, answer_from_dict(json.loads(a)), c, f) for i, a, c, f in rows]

    def resume(self, conversation: str) -> list[SavedTurn]:
        """The turns of a conversation to continue; a UsageError when there is none of that id."""
        if earlier := self.turns(conversation):
            return earlier
        raise UsageError(
            f"No saved conversation '{conversation}': `assistant chat --list` shows their ids."
        )

    def rename(self, conversation: str, title: str) -> None:
        """Give a conversation another title (a blank one is ignored)."""
        if title.strip():
            with self._connect() as db:
                db.execute(
                    "UPDATE conversations SET title = ? WHERE id = ?", (title.strip(), conversation)
                )

    def delete(self, conversation: str) -> None:
        """Forget a conversation and its turns."""
        with self._connect() as db:
            db.execute("DELETE FROM conversations WHERE id = ?", (conversation,))

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A connection, committed on success; an SQLite failure becomes a StoreError."""
        try:
            with closing(sqlite3.connect(self.path, timeout=10)) as db, db:
                db.execute("PRAGMA foreign_keys = ON")
                yield db
        except sqlite3.Error as exc:
            raise self._failure(str(exc)) from exc

    def _failure(self, text: str) -> StoreError:
        if "readonly" in text or "read-only" in text:
            return self.read_only(text)
        if "unable to open" in text:
            return self.damaged(f"permission denied: {text}")
        return self.damaged(text)

    def damaged(self, problem: str) -> StoreError:
        """The error for a conversation file that is not SQLite, malformed or unreadable."""
        folder = self.path.parent
        if "permission" in problem:
            return StoreError(
                f"Cannot read the conversation store file {self.path} ({problem}). Give your "
                f"user read and write access to {folder}/ (`chmod -R u+rw {folder}`), or set "
                "ASSISTANT_STORE_DIR to another folder."
            )
        return StoreError(
            f"The conversation store file {self.path} is damaged ({problem}); nothing was "
            "changed. Restore it from a backup, or move it aside to start a new one "
            "(its saved conversations are then lost)."
        )

    def read_only(self, problem: str) -> StoreError:
        """The error for a conversation file (or its folder) that cannot be written."""
        folder = self.path.parent
        return StoreError(
            f"The conversation store file {self.path} is read-only ({problem}). Make it "
            f"writable (`chmod -R u+w {folder}`), or set ASSISTANT_STORE_DIR to a writable folder."
        )


def history_of(turns: list[SavedTurn]) -> list[Turn]:
    """The turns a follow-up question is rewritten with."""
    return [Turn(t.answer.question, t.answer.answer) for t in turns]


# -- reading an answer back ----------------------------------------------------------


def answer_from_dict(data: dict[str, Any]) -> Answer:
    """The ``Answer`` that ``Answer.to_dict()`` wrote (scores as rounded there)."""
    checks = data.get("citations", {})
    short = data.get("short_answer")
    return Answer(
        question=data["question"],
        answer=data["answer"],
        refused=data["refused"],
        backend=data["backend"],
        sources=[_source(s) for s in data["sources"]],
        retrieved=[_hit(h) for h in data["retrieved"]],
        timings_ms=data.get("timings_ms", {}),
        standalone_question=data.get("standalone_question"),
        sentences=[Sentence(**s) for s in data.get("sentences", [])],
        invalid_markers=checks.get("invalid_markers", 0),
        corrected_markers=checks.get("corrected_markers", 0),
        usage=data.get("usage", {}),
        short_answer=None if short is None else ShortAnswer(**short),
        verdict=data.get("verdict"),
    )


def _source(data: dict[str, Any]) -> Source:
    fields = {k: v for k, v in data.items() if k != "quote"}  # `quote` is derived
    first, last = fields.pop("lines")
    quotes = [Quote(**q) for q in fields.pop("quotes")]
    return Source(**fields, lines=(first, last), quotes=quotes)


def _hit(data: dict[str, Any]) -> Hit:
    first, last = data["lines"]
    metadata = {"source": data["source"], "line_start": first, "line_end": last}
    metadata |= {"title": data.get("title", "")}
    if data.get("page") is not None:
        metadata["page"] = data["page"]
    return Hit(
        data["chunk_id"],
        data["text"],
        metadata,
        data["score"],
        data["dense"],
        data["keyword"],
        data.get("rerank"),  # absent in turns saved before the rerank stage
    )
