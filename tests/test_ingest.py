"""Incremental ingest into a real Chroma store in a temp folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import SEED_FILE
from fakes import Counting, new_chunks

from assistant.core.config import Settings
from assistant.core.errors import (
    EmbeddingMismatchError,
    NoDocumentsError,
    NothingIndexedError,
    StoreError,
)
from assistant.library import Library
from assistant.pipeline import Assistant
from assistant.store.corpus import Corpus


@pytest.fixture
def counting(embeddings) -> Counting:  # type: ignore[no-untyped-def]
    return Counting(embeddings)


def _chunks(settings: Settings) -> dict[str, dict]:
    got = Corpus.open(settings).collection().get(include=["metadatas", "documents"])
    return {
        i: {**m, "text": d}
        for i, m, d in zip(got["ids"], got["metadatas"], got["documents"], strict=True)
    }


def test_first_ingest_adds_every_story_and_second_embeds_nothing(
    store_settings, counting, corpus
) -> None:  # type: ignore[no-untyped-def]
    library = Library(store_settings, counting)
    first = library.ingest([corpus])
    assert (first.files_new, first.chunks_added, first.chunks_total) == (1, 11, 11)
    embedded = new_chunks(*[c["text"] for c in _chunks(store_settings).values()])
    assert counting.embedded == embedded, "each chunk and each of its sentences, once"
    second = library.ingest([corpus])
    assert (second.chunks_added, second.chunks_unchanged, second.chunks_deleted) == (0, 11, 0)
    assert second.files_unchanged == 1
    assert counting.embedded == embedded, "an unchanged ingest must embed nothing"


def test_changed_story_embeds_only_that_story_and_moves_the_rest(
    store_settings, counting, corpus
) -> None:  # type: ignore[no-untyped-def]
    assistant = Assistant(store_settings, counting)
    library = Library(assistant.settings, assistant.embeddings, assistant.corpus)
    library.ingest([corpus])
    seed = corpus / SEED_FILE.name
    text = seed.read_text(encoding="utf-8")
    old = "exchanged rifles as gifts"
    new = "exchanged hunting rifles and a sword as gifts"
    seed.write_text(text.replace(old, new), encoding="utf-8")
    before = counting.embedded
    report = library.ingest([corpus])
    assert (report.files_changed, report.chunks_added, report.chunks_deleted) == (1, 1, 1)
    chunks = _chunks(store_settings)
    changed = [c["text"] for c in chunks.values() if new in c["text"]]
    assert len(changed) == 1 and counting.embedded - before == new_chunks(*changed)
    assert len(chunks) == 11
    new_text = seed.read_text(encoding="utf-8")
    for meta in chunks.values():  # offsets of the moved chunks were refreshed in place
        assert new_text[meta["start"] : meta["end"]] == meta["text"]
    answer = assistant.ask("Which weapons did Putin and Kim exchange?")
    assert "sword" in answer.answer


def test_new_and_deleted_files(store_settings, counting, corpus) -> None:  # type: ignore[no-untyped-def]
    library = Library(store_settings, counting)
    library.ingest([corpus])
    extra = corpus / "notes.md"
    extra.write_text(
        "# Notes\n\nThe summit took place at the Vostochny Cosmodrome.\n", encoding="utf-8"
    )
    added = library.ingest([corpus])
    assert (added.files_new, added.files_unchanged, added.chunks_added) == (1, 1, 1)
    extra.unlink()
    removed = library.ingest([corpus])
    assert (removed.chunks_deleted, removed.chunks_total) == (1, 11)
    assert {m["source"] for m in _chunks(store_settings).values()} == {SEED_FILE.name}


def test_ingesting_one_file_keeps_the_rest_of_its_folder(store_settings, counting, corpus) -> None:  # type: ignore[no-untyped-def]
    (corpus / "other.txt").write_text("Another story about a train.", encoding="utf-8")
    library = Library(store_settings, counting)
    library.ingest([corpus])
    report = library.ingest([corpus / "other.txt"])
    assert report.chunks_deleted == 0 and report.chunks_total == 12


def test_rebuild_starts_afresh(store_settings, counting, corpus) -> None:  # type: ignore[no-untyped-def]
    library = Library(store_settings, counting)
    library.ingest([corpus])
    report = library.ingest([corpus], rebuild=True)
    assert (report.chunks_added, report.chunks_total) == (11, 11)
    texts = [c["text"] for c in _chunks(store_settings).values()]
    assert counting.embedded == 2 * new_chunks(*texts)


def test_bad_paths_change_nothing(store_settings, counting, corpus, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    library = Library(store_settings, counting)
    library.ingest([corpus])
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "picture.jpg").write_bytes(b"\xff\xd8")
    for bad in (tmp_path / "missing", empty):
        with pytest.raises(NoDocumentsError):
            library.ingest([bad], rebuild=True)
    assert len(_chunks(store_settings)) == 11


def test_a_binary_file_is_skipped_and_the_rest_ingested(store_settings, counting, corpus) -> None:  # type: ignore[no-untyped-def]
    (corpus / "binary.txt").write_bytes(b"\x00\x01\x02binary")
    report = Library(store_settings, counting).ingest([corpus])
    assert [(Path(name).name, why) for name, why in report.skipped] == [
        ("binary.txt", "binary file (NUL bytes)")
    ]
    assert report.chunks_total == 11


def test_another_embedding_model_is_refused_with_the_way_out(
    store_settings, counting, embeddings, corpus
) -> None:  # type: ignore[no-untyped-def]
    Library(store_settings, counting).ingest([corpus])
    other = Counting(embeddings, model_name="some-other-model")
    with pytest.raises(EmbeddingMismatchError, match=r"all-MiniLM-L6-v2.*--rebuild"):
        Library(store_settings, other).ingest([corpus])
    with pytest.raises(EmbeddingMismatchError):
        Assistant(store_settings, other).ask("What gifts did Putin and Kim exchange?")
    assert other.embedded == 0 and len(_chunks(store_settings)) == 11
    rebuilt = Library(store_settings, other).ingest([corpus], rebuild=True)
    assert rebuilt.chunks_added == 11


def test_asking_an_empty_store_says_to_ingest(store_settings, embeddings) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NothingIndexedError, match=r"assistant ingest seeds/"):
        Assistant(store_settings, embeddings).ask("What gifts did Putin and Kim exchange?")


def test_store_folder_survives_a_copy(settings, counting, corpus, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The store is plain files: copied elsewhere, it answers the same."""
    Library(settings, counting).ingest([corpus])
    moved = tmp_path / "moved"
    shutil.copytree(settings.store_dir, moved)
    copy = Assistant(settings.model_copy(update={"store_dir": moved}), counting)
    assert copy.ask("What gifts did Putin and Kim exchange?").sources[0].lines == (16, 16)


def test_unreachable_chroma_server_names_the_url(settings, embeddings) -> None:  # type: ignore[no-untyped-def]
    down = settings.model_copy(update={"chroma_url": "http://127.0.0.1:9"})
    with pytest.raises(
        StoreError, match=r"Cannot reach the Chroma server at http://127\.0\.0\.1:9"
    ):
        Assistant(down, embeddings).ask("What gifts did Putin and Kim exchange?")
