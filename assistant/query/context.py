"""Context windows: the sentences just before and after a retrieved chunk, from its neighbours.

A chunk cut mid-story loses the sentence before or after it. An answerer that
declares it wants them (``Answerer.context_sentences``, the LLM answerers) is given
each chunk with up to n sentences of the chunks beside it in the same document, in
``Hit.before`` and ``Hit.after``. They help a model read the passage; they are not
part of it: the citation, the lines shown and the check keep the chunk's own text.

The neighbours are the chunks of the same ``doc_id`` at ``chunk_index`` - 1 and + 1,
fetched with one Chroma ``get`` per question. Split chunks overlap by a few tokens
(``chunk_overlap``): each chunk's ``start`` offset in its document says by how much,
so only a neighbour's text outside the shown chunk is used. A sentence the cut splits
counts as the first one: a chunk that begins mid-sentence gets that sentence's start.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from assistant.core.types import Hit
from assistant.text.words import sentence_spans

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection
    from chromadb.base_types import InclusionExclusionOperator, LiteralValue, Where

Place = tuple[str, int]  # (doc_id, chunk_index)
_WORDY = re.compile(r"\w")
_LEADING_PUNCTUATION = re.compile(r"^[\s.,;:!?)\]\"”’]+")


def with_context(collection: Collection, hits: Sequence[Hit], sentences: int) -> list[Hit]:
    """``hits`` with up to ``sentences`` sentences of their document before and after each."""
    if sentences <= 0 or not hits:
        return list(hits)
    found = neighbours(collection, hits)
    windowed = []
    for hit in hits:
        place = place_of(hit)
        if place is None:  # a chunk without its document's offsets: no window
            windowed.append(hit)
            continue
        doc_id, index = place
        previous, following = found.get((doc_id, index - 1)), found.get((doc_id, index + 1))
        windowed.append(
            replace(
                hit,
                before=before(previous, hit, sentences) if previous else "",
                after=after(following, hit, sentences) if following else "",
            )
        )
    return windowed


def place_of(hit: Hit) -> Place | None:
    """Where the chunk is in its document, or None when its metadata does not say."""
    meta = hit.metadata
    if not {"doc_id", "chunk_index", "start"} <= meta.keys():
        return None
    return str(meta["doc_id"]), int(meta["chunk_index"])


def neighbours(collection: Collection, hits: Sequence[Hit]) -> dict[Place, Hit]:
    """The chunks beside ``hits`` in their own documents, by place, in one ``get``."""
    wanted: dict[str, list[LiteralValue]] = {}
    for hit in hits:
        place = place_of(hit)
        if place is not None:
            doc_id, index = place
            wanted.setdefault(doc_id, []).extend(i for i in (index - 1, index + 1) if i >= 0)
    if not wanted:
        return {}
    got = collection.get(where=_where(wanted), include=["documents", "metadatas"])
    texts, metas = got["documents"] or [], got["metadatas"] or []  # both were asked for
    found = (
        Hit(cid, text or "", dict(meta or {}), 0.0)
        for cid, text, meta in zip(got["ids"], texts, metas, strict=True)
    )
    return {place: hit for hit in found if (place := place_of(hit)) is not None}


def _where(wanted: dict[str, list[LiteralValue]]) -> Where:
    """The Chroma filter for the chunks at ``wanted`` indexes of each document."""
    clauses: list[Where] = []
    for doc_id, indexes in wanted.items():
        among: dict[InclusionExclusionOperator, list[LiteralValue]] = {"$in": indexes}
        clauses.append({"$and": [{"doc_id": doc_id}, {"chunk_index": among}]})
    return clauses[0] if len(clauses) == 1 else {"$or": clauses}


def before(previous: Hit, hit: Hit, sentences: int) -> str:
    """The last ``sentences`` sentences of ``previous`` that are not in ``hit``."""
    cut = _start(hit) - _start(previous)  # where ``hit`` begins, in previous's text
    if cut <= 0:
        return ""
    # Overlapping or touching, the two texts are one stretch of the document, so a
    # sentence the cut splits is seen whole; with a gap between them, previous alone.
    joined = previous.text[:cut] + hit.text if cut <= len(previous.text) else previous.text
    cut = min(cut, len(previous.text))
    spans = [s for s in _spans(joined) if s[0] < cut]
    if spans and spans[-1][1] > cut and not _WORDY.search(joined[spans[-1][0] : cut]):
        spans.pop()  # the sentence the chunk opens in has no word outside it
    return joined[spans[-sentences:][0][0] : cut].strip() if spans else ""


def after(following: Hit, hit: Hit, sentences: int) -> str:
    """The first ``sentences`` sentences of ``following`` that are not in ``hit``."""
    skip = _start(hit) + len(hit.text) - _start(following)  # following's text hit holds
    if skip >= len(following.text):
        return ""
    joined = hit.text + following.text[skip:] if skip >= 0 else following.text
    cut = len(hit.text) if skip >= 0 else 0
    spans = [s for s in _spans(joined) if s[1] > cut]
    if spans and spans[0][0] < cut and not _WORDY.search(joined[cut : spans[0][1]]):
        spans.pop(0)  # the sentence the chunk closes in has no word outside it
    text = joined[cut : spans[:sentences][-1][1]] if spans else ""
    return _LEADING_PUNCTUATION.sub("", text).strip()


def _spans(text: str) -> list[tuple[int, int]]:
    """The sentence spans of ``text`` that hold a word (not a stray full stop)."""
    return [(s, e) for s, e in sentence_spans(text) if _WORDY.search(text[s:e])]


def _start(hit: Hit) -> int:
    return int(hit.metadata["start"])
