"""Sentence vectors stored at ingest: kept in each chunk, used by both answer stages."""

from __future__ import annotations

import numpy as np
from conftest import SEED_FILE, Invoke
from fakes import Counting

from assistant.core.config import Settings
from assistant.library import Library
from assistant.pipeline import Assistant
from assistant.store import sentences
from assistant.store.corpus import Corpus

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
    library = Library(store_settings, embeddings)
    library.ingest([corpus])
    seed = corpus / SEED_FILE.name
    text = seed.read_text(encoding="utf-8")
    # A longer first story moves every chunk after it (kept, offsets refreshed in place).
    seed.write_text(text.replace("visits North Korea", "visits North Korea for three days", 1))
    report = library.ingest([corpus])
    assert report.chunks_added == 1 and report.chunks_unchanged == 10
    chunks = _stored(store_settings)
    assert len(chunks) == 11
    for chunk, meta in chunks:
        stored = sentences.unpack(meta[sentences.KEY], len(sentences.sentences(chunk)))
        assert stored is not None, chunk
        fresh = np.asarray(embeddings.embed_documents(sentences.sentences(chunk)))
        assert ((stored * fresh).sum(axis=1) / np.linalg.norm(stored, axis=1)).min() > 0.999


def test_answers_read_the_stored_vectors_and_match_an_older_store(
    settings: Settings, embeddings, corpus
) -> None:  # type: ignore[no-untyped-def]
    Library(settings, embeddings).ingest([corpus])
    settings = settings.model_copy(update={"backend": "extractive"})

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


def test_an_older_store_gets_its_sentence_vectors_on_the_next_ingest(
    store_settings: Settings, embeddings, corpus
) -> None:  # type: ignore[no-untyped-def]
    Library(store_settings, embeddings).ingest([corpus])
    _as_older(store_settings)
    assert all(sentences.KEY not in meta for _, meta in _stored(store_settings))

    counting = Counting(embeddings)
    report = Library(store_settings, counting).ingest([corpus])
    assert (report.chunks_added, report.vectors_added) == (0, 11)
    chunks = _stored(store_settings)
    assert all(sentences.unpack(m[sentences.KEY], len(sentences.sentences(t))) is not None
               for t, m in chunks)  # fmt: skip
    assert counting.embedded == len({s for t, _ in chunks for s in sentences.sentences(t)})
    again = Counting(embeddings)
    report = Library(store_settings, again).ingest([corpus])
    assert (report.chunks_added, report.vectors_added, again.embedded) == (0, 0, 0)
    # Cosine distances still: the nearest chunk of a chunk's own vector is at distance 0.
    got = Corpus.open(store_settings).collection().query(
        query_embeddings=[embeddings.embed_query(chunks[0][0])], n_results=1,
        include=["distances"],
    )  # fmt: skip
    assert got["distances"][0][0] < 0.01


def _as_older(settings: Settings) -> None:
    """Strip the sentence vectors and the collection's mark, as an earlier version left it."""
    collection = Corpus.open(settings).collection()
    ids = collection.get()["ids"]
    collection.update(ids=ids, metadatas=[{sentences.KEY: None} for _ in ids])
    collection.modify(metadata={"embedding_model": "all-MiniLM-L6-v2"})


def test_the_cli_says_when_it_stored_an_older_stores_vectors(
    settings: Settings, embeddings, corpus, invoke: Invoke
) -> None:  # type: ignore[no-untyped-def]
    Library(settings, embeddings).ingest([corpus])
    _as_older(settings)
    dry = invoke("ingest", str(corpus), "--dry-run", store=settings.store_dir)
    assert dry.returncode == 0, dry.stderr
    assert (
        "would store the sentence vectors of the chunks an earlier version ingested "
        "(11 in the collection now)" in dry.stdout
    )
    assert all(sentences.KEY not in meta for _, meta in _stored(settings)), "a dry run"
    first = invoke("ingest", str(corpus), store=settings.store_dir)
    assert first.returncode == 0, first.stderr
    assert "stored the sentence vectors of 11 chunks ingested by an earlier version" in first.stdout
    again = invoke("ingest", str(corpus), store=settings.store_dir)
    assert again.returncode == 0 and "sentence vectors" not in again.stdout
