"""BM25 keyword search over the collection, persisted beside it so no question rebuilds it."""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from assistant.text.words import terms

if TYPE_CHECKING:
    from bm25s import BM25  # bm25s ships no types: mypy reads BM25 as Any


@dataclass
class KeywordIndex:
    """A bm25s index and the chunk ids of its rows."""

    ids: list[str]
    bm25: BM25

    @classmethod
    def build(cls, ids: list[str], texts: list[str]) -> KeywordIndex:
        """Index ``texts`` (one per chunk id)."""
        import bm25s

        model = bm25s.BM25()
        # bm25s cannot index an empty corpus; one empty row keeps the shape valid.
        model.index([terms(t) or ["\x00"] for t in texts] or [["\x00"]], show_progress=False)
        return cls(ids=ids, bm25=model)

    def save(self, folder: Path) -> None:
        """Write the index atomically enough: a half-written index is never loaded.

        An ingest and a question (which rebuilds a missing index) may save at once:
        each writes a folder of its own and swaps it in; when the other got there
        first, that complete index stays and this one is dropped.
        """
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f"{folder.name}.", suffix=".tmp", dir=folder.parent))
        self.bm25.save(str(tmp))
        (tmp / "ids.json").write_text(json.dumps(self.ids))
        old = tmp.with_suffix(".old")
        with contextlib.suppress(FileNotFoundError):
            folder.rename(old)
        try:
            tmp.rename(folder)
        except OSError:  # another save just put its index in place
            shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path) -> KeywordIndex | None:
        """The saved index, or None when there is none or it cannot be read.

        The index is derived from the collection, so a damaged one is rebuilt from it
        (None makes the caller do so) rather than reported.
        """
        import bm25s

        if not (folder / "ids.json").is_file():
            return None
        try:
            ids = json.loads((folder / "ids.json").read_text())
            bm25 = bm25s.BM25.load(str(folder), mmap=True)
            rows = int(bm25.scores["num_docs"])
        except Exception:  # any damage: json, numpy or bm25s errors, a missing file
            return None
        if not isinstance(ids, list) or rows != max(len(ids), 1):  # an empty index has 1 row
            return None
        return cls(ids=ids, bm25=bm25)

    def search(self, question: str, n: int) -> list[tuple[str, float]]:
        """Up to ``n`` (chunk id, BM25 score) pairs with a positive score, best first.

        Equal scores keep the order the chunks were indexed in (see ``best``).
        """
        known = self.bm25.get_tokens_ids(terms(question))  # a word the index lacks scores 0
        if not known or not self.ids:
            return []
        scores = np.asarray(self.bm25.get_scores(known))
        return [(self.ids[int(d)], float(scores[d])) for d in best(scores, n) if scores[d] > 0]


def best(scores: np.ndarray, n: int) -> np.ndarray:
    """The indices of the ``n`` highest scores, highest first, ties in index order.

    bm25s's own top-k breaks ties one way with NumPy and another when JAX is installed
    (the training extra), so the chunks retrieved, and the answers, would depend on
    whether JAX is there. This order is JAX's (``jax.lax.top_k``), which the committed
    weights were fitted with.
    """
    if n <= 0 or not len(scores):
        return np.zeros(0, dtype=int)
    if n < len(scores):
        cut = np.partition(scores, len(scores) - n)[len(scores) - n]  # the n-th highest
        kept = np.flatnonzero(scores >= cut)  # every tie at the cut, in index order
    else:
        kept = np.arange(len(scores))
    return kept[np.argsort(-scores[kept], kind="stable")][:n]
