"""BM25 keyword search over the collection, persisted beside it so no question rebuilds it.

The index is bm25s's: per term, the chunks holding it and their precomputed BM25
scores (a CSC matrix in three ``.npy`` files), memory-mapped when loaded, so a
question reads only the postings of its own terms. At 1M chunks the files take
about 400 MB (``docs/performance.md``). ``Postings`` builds the same arrays as
bm25s's own ``index`` a page of chunks at a time, in about a quarter of its memory.
"""

from __future__ import annotations

import contextlib
import json
import math
import shutil
import tempfile
from array import array
from collections import Counter
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
        postings = Postings()
        postings.add(ids, texts)
        return postings.index()

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
        # Ranking only the chunks that hold a term: at 1M chunks, sorting every score
        # took 16 ms of a 17 ms search. Same order, as ``best`` keeps index order.
        matched = np.flatnonzero(scores > 0)
        return [(self.ids[int(d)], float(scores[d])) for d in matched[best(scores[matched], n)]]


class Postings:
    """The term counts of chunks, added a page at a time, and the BM25 index built from them.

    The scores are bm25s's (Lucene's BM25, k1 1.5, b 0.75; float32), computed with the
    same operations in the same precision, so rankings are bm25s's to the bit
    (``tests/test_keyword.py`` checks it against ``bm25s.BM25.index``). bm25s keeps
    every chunk's terms as Python lists while it builds: about 4 GiB at 1M chunks.
    Here they are two flat arrays of 4 bytes a (chunk, term) pair, one row per chunk,
    and the texts need not be held at all.
    """

    K1, B = 1.5, 0.75  # bm25s's defaults, which the saved params record
    BLOCK = 1 << 16  # chunks scored at once, to bound the float64 copies

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.vocab: dict[str, int] = {}
        self.terms, self.counts = array("i"), array("f")  # per (chunk, term), chunk by chunk
        self.widths, self.lengths = array("i"), array("q")  # per chunk: distinct terms, terms

    def add(self, ids: list[str], texts: list[str]) -> None:
        """Count the terms of ``texts`` (one per chunk id)."""
        for text in texts:
            self._add_row(terms(text) or ["\x00"])  # a chunk without a term: bm25s's way
        self.ids += ids

    def _add_row(self, words: list[str]) -> None:
        vocab = self.vocab
        counted = Counter(words)
        self.terms.extend([vocab.setdefault(w, len(vocab)) for w in counted])
        self.counts.extend(counted.values())
        self.widths.append(len(counted))
        self.lengths.append(len(words))

    def index(self) -> KeywordIndex:
        """The BM25 index of every chunk added."""
        import bm25s

        if not self.lengths:  # bm25s cannot load an empty matrix; one empty row keeps it valid
            self._add_row(["\x00"])
        data, indices, indptr = self._matrix()
        model = bm25s.BM25(k1=self.K1, b=self.B)
        model.scores = {"data": data, "indices": indices, "indptr": indptr,
                        "num_docs": len(self.lengths)}  # fmt: skip
        model.vocab_dict = {**self.vocab, "": len(self.vocab)}  # bm25s's empty token
        model.unique_token_ids_set = set(model.vocab_dict.values())
        model.nonoccurrence_array = None  # Lucene's BM25 scores no absent term
        return KeywordIndex(ids=self.ids, bm25=model)

    def _matrix(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The scores as a CSC matrix (rows: chunks, columns: terms), chunks in order.

        Scored and put in place a block of chunks at a time: each pair goes to the next
        free slot of its term's column (a counting sort), so within a column the chunks
        keep their order, as in bm25s's matrix, and no full-size sort order is held.
        """
        n, term_ids = len(self.lengths), np.frombuffer(self.terms, dtype=np.int32)
        widths = np.frombuffer(self.widths, dtype=np.int32)
        starts = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(widths, out=starts[1:])
        df = np.bincount(term_ids, minlength=len(self.vocab))
        indptr = np.zeros(len(df) + 1, dtype=np.int64)
        np.cumsum(df, out=indptr[1:])
        idf, norm = self._weights(df)
        counts = np.frombuffer(self.counts, dtype=np.float32)
        data = np.empty(len(term_ids), dtype=np.float32)
        indices = np.empty(len(term_ids), dtype=np.int32)
        free = indptr[:-1].copy()  # the next free slot of each term's column
        for first in range(0, n, self.BLOCK):
            last = min(first + self.BLOCK, n)
            pairs = slice(starts[first], starts[last])
            block, tf = term_ids[pairs], counts[pairs]
            docs = np.repeat(np.arange(first, last, dtype=np.int32), widths[first:last])
            # bm25s: per pair idf * tf / (norm + tf) in float64, rounded to float32
            scores = idf[block] * (tf / (norm[docs] + tf))
            order = np.argsort(block, kind="stable")
            ranked = block[order]
            nth = np.arange(len(ranked)) - np.searchsorted(ranked, ranked)  # rank in its term
            slots = free[ranked] + nth
            data[slots], indices[slots] = scores[order], docs[order]
            free += np.bincount(block, minlength=len(df))
        return data, indices, indptr

    def _weights(self, df: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each term's idf (float32) and each chunk's length norm (float64), as bm25s's."""
        n = len(self.lengths)
        # bm25s: math.log of Python floats per term, stored as float32
        idf = [math.log(1 + (n - f + 0.5) / (f + 0.5)) for f in df.tolist()]
        lengths = np.frombuffer(self.lengths, dtype=np.int64)
        average = np.array(lengths).mean()  # bm25s: the mean of an int array (pairwise sum)
        # bm25s: k1 * ((1 - b) + b * l_d / l_avg) per chunk, in float64
        norm = self.K1 * ((1 - self.B) + self.B * lengths.astype(np.float64) / average)
        return np.array(idf, dtype=np.float32), norm


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
