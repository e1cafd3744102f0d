"""BM25 keyword search over the collection, persisted beside it so no question rebuilds it."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from assistant.text import terms


@dataclass
class KeywordIndex:
    """A bm25s index and the chunk ids of its rows."""

    ids: list[str]
    bm25: object

    @classmethod
    def build(cls, ids: list[str], texts: list[str]) -> KeywordIndex:
        """Index ``texts`` (one per chunk id)."""
        import bm25s

        model = bm25s.BM25()
        # bm25s cannot index an empty corpus; one empty row keeps the shape valid.
        model.index([terms(t) or ["\x00"] for t in texts] or [["\x00"]], show_progress=False)
        return cls(ids=ids, bm25=model)

    def save(self, folder: Path) -> None:
        """Write the index atomically enough: a half-written index is never loaded."""
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        self.bm25.save(str(tmp))  # type: ignore[attr-defined]
        (tmp / "ids.json").write_text(json.dumps(self.ids))
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)

    @classmethod
    def load(cls, folder: Path) -> KeywordIndex | None:
        """The saved index, or None when there is none."""
        import bm25s

        if not (folder / "ids.json").is_file():
            return None
        ids = json.loads((folder / "ids.json").read_text())
        return cls(ids=ids, bm25=bm25s.BM25.load(str(folder), mmap=True))

    def search(self, question: str, n: int) -> list[tuple[str, float]]:
        """Up to ``n`` (chunk id, BM25 score) pairs with a positive score, best first."""
        query = terms(question)
        if not query or not self.ids:
            return []
        docs, scores = self.bm25.retrieve(  # type: ignore[attr-defined]
            [query], k=min(n, len(self.ids)), show_progress=False, n_threads=1
        )
        return [
            (self.ids[int(d)], float(s)) for d, s in zip(docs[0], scores[0], strict=True) if s > 0
        ]
