"""The pipelined ingest as a user sees it: stage times, progress, sentence vectors, failures."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import Invoke
from rich.console import Console

from assistant.cli.corpora import ingest_progress, rate_text
from assistant.core.config import Settings
from assistant.core.errors import FeedError
from assistant.core.types import Hit
from assistant.ingest import loaders
from assistant.library import Library
from assistant.store import sentences
from assistant.store.corpus import Corpus
from assistant.store.records import record_keys

STAGES = {"load", "split", "embed", "write", "index", "refresh", "keyword", "total"}


def test_ingest_json_reports_each_stage_in_seconds(
    settings: Settings, corpus: Path, invoke: Invoke
) -> None:
    ran = invoke("ingest", str(corpus), "--json", store=settings.store_dir)
    assert ran.returncode == 0, ran.stderr
    report = json.loads(ran.stdout)
    assert (report["files_new"], report["chunks_added"], report["chunks_total"]) == (1, 11, 11)
    seconds = report["seconds"]
    assert set(seconds) == STAGES
    assert all(value >= 0 for value in seconds.values())
    assert 0 < seconds["embed"] <= seconds["index"] <= seconds["total"]


@pytest.mark.parametrize(
    ("done", "total", "rate", "shown"),
    [
        (0, None, None, "0 chunks"),
        (120, 10158.0, None, "120/10,158 chunks"),
        (1200, 10158.0, 41.3, "1,200/10,158 chunks, 41.3 chunks/s, ETA 3:37"),
        (10158, 10158.0, 41.3, "10,158/10,158 chunks, 41.3 chunks/s, ETA 0:00"),
    ],
)
def test_progress_text_gives_chunks_per_second_and_time_left(
    done: int, total: float | None, rate: float | None, shown: str
) -> None:
    assert rate_text(done, total, rate) == shown


def test_the_progress_bar_shows_the_rate_and_eta() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120)
    with ingest_progress(console) as progress:
        task = progress.add_task("Indexing", total=None)
        for done in range(0, 400, 50):
            progress.update(task, completed=done, total=1000)
            time.sleep(0.01)
        progress.refresh()
    assert "350/1,000 chunks" in out.getvalue()
    assert " chunks/s, ETA " in out.getvalue()


def test_stored_sentence_vectors_are_what_an_answer_would_compute(
    settings: Settings, embeddings, corpus: Path
) -> None:  # type: ignore[no-untyped-def]
    Library(settings, embeddings).ingest([corpus])
    got = Corpus.open(settings).collection().get(include=["documents", "metadatas"])
    texts, metas = got["documents"] or [], got["metadatas"] or []
    bare = [Hit(id=str(i), text=t, metadata={}, score=0.0) for i, t in enumerate(texts)]
    computed = sentences.of_hits(embeddings, bare)  # as for a chunk stored without them
    for text, meta, fresh in zip(texts, metas, computed, strict=True):
        stored = sentences.unpack(str(meta[sentences.KEY]), len(sentences.sentences(text)))
        assert stored is not None and stored.shape == fresh.shape
        cosines = (stored * fresh).sum(axis=1) / np.linalg.norm(stored, axis=1)
        assert cosines.min() > 0.999, text


def _files(folder: Path, count: int) -> Path:
    folder.mkdir()
    for i in range(count):
        (folder / f"note{i:03d}.txt").write_text(
            f"Note {i} says the harbour crane number {i} was inspected on day {i}.\n",
            encoding="utf-8",
        )
    return folder


def test_a_reader_failing_midway_is_named_and_loses_nothing(
    settings: Settings, embeddings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, invoke: Invoke
) -> None:  # type: ignore[no-untyped-def]
    folder = _files(tmp_path / "notes", 150)
    read_text = loaders.READERS[".txt"]

    def failing(path: Path) -> loaders.Loaded:
        if path.name == "note140.txt":
            raise RuntimeError("the disk went away")
        return read_text(path)

    monkeypatch.setitem(loaders.READERS, ".txt", failing)
    ran = invoke("ingest", str(folder), store=settings.store_dir)
    assert ran.returncode == 1
    assert "note140.txt failed (RuntimeError: the disk went away)" in ran.stderr
    assert "run `assistant ingest` again" in ran.stderr
    # Every chunk the record manager lists is in Chroma: the files before it are stored.
    collection = Corpus.open(settings).collection()
    in_chroma = set(collection.get(include=[])["ids"])
    assert set().union(*record_keys(Corpus.open(settings)).values()) == in_chroma
    assert len(in_chroma) == 140

    monkeypatch.setitem(loaders.READERS, ".txt", read_text)
    report = Library(settings, embeddings).ingest([folder])
    assert (report.chunks_added, report.chunks_unchanged, report.chunks_total) == (10, 140, 150)


def test_a_failure_with_nothing_readable_changes_nothing(
    settings: Settings, embeddings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    folder = _files(tmp_path / "notes", 3)

    def failing(path: Path) -> loaders.Loaded:
        raise RuntimeError("the disk went away")

    monkeypatch.setitem(loaders.READERS, ".txt", failing)
    with pytest.raises(FeedError, match=r"note000\.txt failed"):
        Library(settings, embeddings).ingest([folder])
    assert not Corpus.open(settings).exists(), "the store was touched"


def test_the_ingest_batch_changes_how_fast_not_what_is_stored(
    settings: Settings, embeddings, corpus: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    def stored(batch: int) -> dict[str, tuple[str | None, dict]]:
        folder = settings.model_copy(
            update={"store_dir": tmp_path / str(batch), "ingest_batch": batch}
        )
        report = Library(folder, embeddings).ingest([corpus])
        assert report.chunks_added == 11
        got = Corpus.open(folder).collection().get(include=["documents", "metadatas"])
        return {
            cid: (text, {k: v for k, v in meta.items() if k != "ingested_at"})
            for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        }

    one_at_a_time, default = stored(1), stored(512)
    assert one_at_a_time.keys() == default.keys()
    for cid, (text, meta) in default.items():
        other = one_at_a_time[cid][1]
        assert one_at_a_time[cid][0] == text
        assert other.pop(sentences.KEY) and meta.pop(sentences.KEY)
        assert other == meta, "the same facts (files, places, pages) for every chunk"
