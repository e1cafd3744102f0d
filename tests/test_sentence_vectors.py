"""Sentence vectors stored at ingest: kept in each chunk, used by both answer stages."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SEED_FILE
from fakes import Counting

from assistant import sentences
from assistant.config import Settings
from assistant.corpus import Corpus
from assistant.pipeline import Assistant

QUESTIONS = [
    "How did Kim Jong Un travel to Russia?",
    "What gifts did Putin and Kim exchange?",
    "Did Kim Jong Un visit Russia?",
    "Who won the 2022 World Cup?",  # refused: the detector reads the vectors too
]


def test_packed_vectors_come_back_within_int8_rounding() -> None:
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(5, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    back = sentences.unpack(sentences.pack(vectors), 5)
    assert back is not None and back.shape == (5, 384)
    cosines = (back * vectors).sum(axis=1) / np.linalg.norm(back, axis=1)
    assert cosines.min() > 0.9999
    assert sentences.unpack(sentences.pack(vectors), 4) is None, "another sentence count"
    assert sentences.unpack("not base64!", 5) is None
    assert sentences.unpack(sentences.pack(vectors[:0]), 0) is None


def _stored(settings: Settings) -> list[tuple[str, dict]]:
    got = Corpus.open(settings).collection().get(include=["documents", "metadatas"])
    return list(zip(got["documents"] or [], got["metadatas"] or [], strict=True))


def test_every_chunk_keeps_its_sentence_vectors_through_a_change(
    store_settings: Settings, embeddings, corpus
) -> None:  # type: ignore[no-untyped-def]
    assistant = Assistant(store_settings, embeddings)
    assistant.ingest([corpus])
    seed = corpus / SEED_FILE.name
    text = seed.read_text(encoding="utf-8")
    # A longer first story moves every chunk after it (kept, offsets refreshed in place).
    seed.write_text(text.replace("visits North Korea", "visits North Korea for three days", 1))
    report = assistant.ingest([corpus])
    assert report.chunks_added == 1 and report.chunks_unchanged == 10
    chunks = _stored(store_settings)
    assert len(chunks) == 11
    for chunk, meta in chunks:
        stored = sentences.unpack(meta[sentences.KEY], len(sentences.sentences(chunk)))
        assert stored is not None, chunk
        fresh = np.asarray(embeddings.embed_documents(sentences.sentences(chunk)))
        assert ((stored * fresh).sum(axis=1) / np.linalg.norm(stored, axis=1)).min() > 0.999


@pytest.mark.parametrize("backend", ["extractive", "learned"])
def test_answers_read_the_stored_vectors_and_match_an_older_store(
    settings: Settings, embeddings, corpus, backend: str
) -> None:  # type: ignore[no-untyped-def]
    Assistant(settings, embeddings).ingest([corpus])
    settings = settings.model_copy(update={"backend": backend})

    def ask() -> tuple[list[str], set[str]]:
        counting = Counting(embeddings)
        answers = [Assistant(settings, counting).ask(q) for q in QUESTIONS]
        quoted = {s for a in answers for hit in a.retrieved for s in sentences.sentences(hit.text)}
        return [a.answer for a in answers], quoted & set(counting.texts)

    answers, embedded = ask()
    assert embedded == set(), "a sentence stored at ingest was embedded again"
    # A store ingested before the vectors were stored: its chunks have none.
    collection = Corpus.open(settings).collection()
    ids = collection.get()["ids"]
    collection.update(ids=ids, metadatas=[{sentences.KEY: None} for _ in ids])
    older, embedded = ask()
    assert embedded, "without stored vectors the sentences are embedded per question"
    assert older == answers
    assert answers[0] and answers[-1].startswith("The documents")
