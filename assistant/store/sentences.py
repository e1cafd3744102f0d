"""Sentence vectors of a chunk: embedded once at ingest, kept in the chunk's metadata.

Both answer stages score every sentence of the retrieved chunks by its similarity
to the question. Embedding those sentences per question was most of an answer's
time (about 20-30 short texts, 60-120 ms on 2 cores at 10k chunks); embedding them
when the chunk is ingested moves that work to where it is done once.

A chunk's metadata holds, under ``KEY``, the vectors of its sentences (the spans of
``text.sentence_spans``, in order, each embedded as it stands in the chunk) packed
as text: the dimension, then per sentence a float32 scale and 384 int8 numbers
(vector = numbers x scale), base64-encoded, about 520 characters a sentence. The
int8 rounding moves a cosine similarity by well under 0.001.

A chunk without them (ingested before they were stored, or with another embedder's
dimension) gets its sentences embedded when asked, as before: nothing needs
re-ingesting.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

import numpy as np

from assistant.text.words import sentence_spans

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy.typing as npt
    from langchain_core.embeddings import Embeddings

    from assistant.core.types import Hit

KEY = "sentence_vectors"
INT8_MAX = 127


def sentences(text: str) -> list[str]:
    """The chunk's sentences, each as it stands in the chunk: the texts that are embedded."""
    return [text[s:e] for s, e in sentence_spans(text)]


def pack(vectors: npt.NDArray[np.float32]) -> str:
    """``vectors`` (n, d) as text: d (uint16), n float32 scales, n x d int8 numbers; base64."""
    top = np.abs(vectors).max(axis=1) if len(vectors) else np.zeros(0)
    scales = np.where(top > 0, top / INT8_MAX, 1.0).astype("<f4")
    numbers = np.rint(vectors / scales[:, None]).astype(np.int8)
    header = np.uint16(vectors.shape[1]).astype("<u2").tobytes()
    return base64.b64encode(header + scales.tobytes() + numbers.tobytes()).decode("ascii")


def unpack(packed: str, count: int) -> npt.NDArray[np.float32] | None:
    """The ``count`` vectors ``pack`` wrote, or None when the text does not hold that many
    (the chunk's sentences were split otherwise when they were stored)."""
    try:
        raw = base64.b64decode(packed, validate=True)
    except ValueError:
        return None
    dimension = int(np.frombuffer(raw[:2], dtype="<u2")[0]) if len(raw) >= 2 else 0
    if count == 0 or dimension == 0 or len(raw) != 2 + count * (4 + dimension):
        return None
    scales = np.frombuffer(raw[2 : 2 + 4 * count], dtype="<f4")
    numbers = np.frombuffer(raw[2 + 4 * count :], dtype=np.int8).reshape(count, dimension)
    vectors: npt.NDArray[np.float32] = (numbers * scales[:, None]).astype(np.float32)
    return vectors


def embed(embeddings: Embeddings, texts: Sequence[str]) -> npt.NDArray[np.float32]:
    """Vectors of ``texts`` (n, d), each distinct text embedded once."""
    distinct = list(dict.fromkeys(texts))
    if not distinct:
        return np.zeros((0, 0), dtype=np.float32)
    vectors = np.asarray(embeddings.embed_documents(distinct), dtype=np.float32)
    row = {text: i for i, text in enumerate(distinct)}
    return vectors[[row[t] for t in texts]]


def with_sentences(
    embeddings: Embeddings, chunks: Sequence[str]
) -> tuple[npt.NDArray[np.float32], list[npt.NDArray[np.float32]]]:
    """The vectors of ``chunks`` (n, d) and of each chunk's sentences, in one batch.

    One call of the embedder tokenizes every text at once and sorts chunks and sentences
    together by length, so its batches are fuller than in two calls. Each sentence is
    embedded on its own, as the answer stages were fitted (docs/performance.md says
    why they are not pooled out of the chunk's pass).
    """
    split = [sentences(chunk) for chunk in chunks]
    vectors = embed(embeddings, [*chunks, *(s for parts in split for s in parts)])
    out, start = [], len(chunks)
    for parts in split:
        out.append(vectors[start : start + len(parts)])
        start += len(parts)
    return vectors[: len(chunks)], out


def packed_for(embeddings: Embeddings, chunks: Sequence[str]) -> list[str]:
    """The packed sentence vectors of each chunk text (one stored without them), in one batch."""
    split = [sentences(chunk) for chunk in chunks]
    vectors = embed(embeddings, [s for parts in split for s in parts])
    out, start = [], 0
    for parts in split:
        out.append(pack(vectors[start : start + len(parts)]))
        start += len(parts)
    return out


def stored(hit: Hit) -> npt.NDArray[np.float32] | None:
    """The vectors of the hit's sentences stored at ingest, or None when it has none."""
    packed = hit.metadata.get(KEY)
    return unpack(packed, len(sentence_spans(hit.text))) if isinstance(packed, str) else None


def of_hits(embeddings: Embeddings, hits: Sequence[Hit]) -> list[npt.NDArray[np.float32]]:
    """The sentence vectors of each hit, (sentences, dimension): stored ones where the
    chunk has them, the rest embedded now in one batch."""
    texts = [sentences(hit.text) for hit in hits]
    found = [stored(hit) for hit in hits]
    missing = [s for parts, got in zip(texts, found, strict=True) if got is None for s in parts]
    fresh = embed(embeddings, missing)
    out, start = [], 0
    for parts, got in zip(texts, found, strict=True):
        if got is None:
            got = fresh[start : start + len(parts)]  # (0, 0) for a chunk with no sentence
            start += len(parts)
        out.append(got)
    return out
