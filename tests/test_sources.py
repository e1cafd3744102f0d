"""A document is known by its absolute path: two folders of one name keep their documents,
`assistant sources` lists them, `assistant remove` deletes them, `--dry-run` changes
nothing, and a store written when folders were known by their name moves in place.

Each runs on a real Chroma store, embedded in a temp folder and on a `chroma run` server.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import Invoke, Ran
from fakes import Counting, new_chunks
from legacy_store import write_legacy

from assistant.core.config import Settings
from assistant.evaluation import runner
from assistant.library import Library
from assistant.pipeline import Assistant
from assistant.store.corpus import Corpus
from assistant.store.keyword import KeywordIndex
from assistant.store.records import FILES, record_keys
from assistant.store.sentences import sentences

FACTS = {
    "a": ("a.txt", "The Zorvian lighthouse was painted teal in 1987."),
    "b": ("b.txt", "The Quillon bridge spans 412 metres."),
}
QUESTIONS = {
    "a": ("What colour was the Zorvian lighthouse painted?", "teal"),
    "b": ("How long is the Quillon bridge?", "412"),
}


@pytest.fixture
def counting(embeddings) -> Counting:  # type: ignore[no-untyped-def]
    return Counting(embeddings)


def _notes(root: Path, folder: str = "notes") -> dict[str, Path]:
    """``a/notes/a.txt`` and ``b/notes/b.txt``: two folders of one name, a fact in each."""
    folders = {}
    for side, (name, text) in FACTS.items():
        folders[side] = root / side / folder
        folders[side].mkdir(parents=True)
        (folders[side] / name).write_text(f"{text}\n", encoding="utf-8")
    return folders


def _path(folder: Path, name: str) -> str:
    return (folder / name).resolve().as_posix()


def _answers(assistant: Assistant, side: str) -> bool:
    question, needle = QUESTIONS[side]
    answer = assistant.ask(question)
    return not answer.refused and needle in answer.answer


def _chunks(settings: Settings) -> dict[str, str]:
    """Every chunk in the collection: id -> its file's doc_id."""
    got = Corpus.open(settings).collection().get(include=["metadatas"])
    return {i: str(m["doc_id"]) for i, m in zip(got["ids"], got["metadatas"] or [], strict=True)}


def _state(settings: Settings) -> tuple[dict[str, str], dict[str, set[str]], dict[str, str]]:
    """Chroma's chunks, the record manager's keys and the BM25 index's files."""
    corpus = Corpus.open(settings)
    bm25 = {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(corpus.bm25_dir.iterdir())
    }
    return _chunks(settings), record_keys(corpus), bm25


def _assert_consistent(settings: Settings) -> None:
    """Chroma, the record manager and BM25 hold the same chunk ids."""
    chunks, keys, _ = _state(settings)
    assert set().union(*keys.values()) == set(chunks)
    index = KeywordIndex.load(Corpus.open(settings).bm25_dir)
    assert index is not None and sorted(index.ids) == sorted(chunks)


def _cli(invoke: Invoke, settings: Settings, *args: str) -> Ran:
    """`assistant ARGS` on the store and collection of ``settings`` (in this process)."""
    server = {"ASSISTANT_CHROMA_URL": settings.chroma_url} if settings.chroma_url else {}
    return invoke(
        *args, store=settings.store_dir, ASSISTANT_COLLECTION=settings.collection, **server
    )


def test_two_folders_named_notes_keep_their_documents(
    store_settings: Settings, counting: Counting, tmp_path: Path
) -> None:
    folders = _notes(tmp_path)
    library = Library(store_settings, counting)
    assistant = Assistant(store_settings, counting)
    for folder in folders.values():
        assert library.ingest([folder]).chunks_deleted == 0
    texts = Corpus.open(store_settings).collection().get(include=["documents"])["documents"] or []
    assert len(texts) == 2 and counting.embedded == sum(new_chunks(t) for t in texts)
    assert _answers(assistant, "a") and _answers(assistant, "b")
    embedded = counting.embedded  # the answerer embeds sentences too
    again = library.ingest([folders["a"]])
    assert (again.files_unchanged, again.chunks_deleted) == (1, 0)
    assert counting.embedded == embedded, "an unchanged folder embeds nothing"
    listed = library.sources()
    assert [d.path for d in listed] == [_path(folders["a"], "a.txt"), _path(folders["b"], "b.txt")]
    for doc, (_, text) in zip(listed, FACTS.values(), strict=True):
        facts = (doc.format, doc.chunks, doc.pages, doc.size_bytes)
        assert facts == ("txt", 1, None, len(text) + 1)
        assert doc.present and not doc.legacy and doc.ingested_at
    _assert_consistent(store_settings)


def test_reingesting_after_a_file_is_deleted_removes_only_its_chunks(
    store_settings: Settings, counting: Counting, tmp_path: Path
) -> None:
    folders = _notes(tmp_path)
    extra = folders["a"] / "c.txt"
    extra.write_text("The Merrow ferry leaves at dawn.\n", encoding="utf-8")
    library = Library(store_settings, counting)
    assistant = Assistant(store_settings, counting)
    library.ingest([folders["a"]])
    library.ingest([folders["b"]])
    before = _chunks(store_settings)
    extra.unlink()
    report = library.ingest([folders["a"]])
    assert (report.files_deleted, report.files_unchanged, report.chunks_deleted) == (1, 1, 1)
    assert report.deleted == [_path(folders["a"], "c.txt")]
    gone = _path(folders["a"], "c.txt")
    assert _chunks(store_settings) == {i: d for i, d in before.items() if d != gone}
    # One file on its own: the rest of its folder, and every other folder, stay.
    single = library.ingest([folders["b"] / "b.txt"])
    assert (single.files_unchanged, single.chunks_deleted, single.chunks_total) == (1, 0, 2)
    assert _answers(assistant, "a") and _answers(assistant, "b")
    _assert_consistent(store_settings)


def test_a_moved_folder_is_new_and_its_old_entry_is_missing(
    settings: Settings, counting: Counting, tmp_path: Path
) -> None:
    folders = _notes(tmp_path)
    library = Library(settings, counting)
    library.ingest([folders["a"]])
    moved = tmp_path / "moved" / "notes"
    shutil.move(folders["a"].parent, moved.parent)
    report = library.ingest([moved])
    assert (report.files_new, report.chunks_added, report.chunks_deleted) == (1, 1, 0)
    listed = {d.path: d.present for d in library.sources()}
    assert listed == {_path(moved, "a.txt"): True, f"{tmp_path.resolve()}/a/notes/a.txt": False}
    # The missing entry is removed by the path it was stored under.
    assert library.remove([folders["a"]]).files_removed == 1
    assert [d.path for d in library.sources()] == [_path(moved, "a.txt")]


def test_two_eval_docs_folders_keep_their_chunks(
    settings: Settings, embeddings, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    folders = _notes(tmp_path, "docs")
    runner.prepare(settings, folders["a"], embeddings)
    second, _ = runner.prepare(settings, folders["b"], embeddings)
    again, report = runner.prepare(settings, folders["a"], embeddings)
    assert report is not None and (report.chunks_added, report.chunks_unchanged) == (0, 1)
    assert _answers(again, "a") and _answers(second, "b")
    # Both folders into one collection: each keeps its chunks there too.
    for folder in folders.values():
        shared, _ = runner.prepare(settings, folder, embeddings, collection="shared")
    assert _answers(shared, "a") and _answers(shared, "b")


def test_dry_run_changes_nothing(
    store_settings: Settings, counting: Counting, tmp_path: Path, invoke: Invoke
) -> None:
    folders = _notes(tmp_path)
    library = Library(store_settings, counting)
    library.ingest([folders["a"]])
    (folders["a"] / "a.txt").write_text("The Zorvian lighthouse was painted red.\n")
    (folders["a"] / "new.txt").write_text("The Merrow ferry leaves at dawn.\n")
    before, embedded = _state(store_settings), counting.embedded
    report = library.ingest([folders["a"], folders["b"]], dry_run=True)
    assert report.dry_run
    assert (report.files_new, report.files_changed, report.files_unchanged) == (2, 1, 0)
    assert (report.chunks_added, report.chunks_deleted, report.chunks_total) == (3, 1, 3)
    assert report.changed == [_path(folders["a"], "a.txt")]
    assert _state(store_settings) == before and counting.embedded == embedded
    (folders["a"] / "new.txt").unlink()
    out = _cli(invoke, store_settings, "ingest", "--dry-run", str(folders["a"]))
    assert out.returncode == 0, out.stderr
    assert f"would update {_path(folders['a'], 'a.txt')}" in out.stdout
    assert "chunks: 1 to add, 0 unchanged, 1 to delete" in out.stdout
    assert "dry run: nothing was changed" in out.stdout
    assert _state(store_settings) == before


def test_remove_a_file_and_a_folder(
    store_settings: Settings, counting: Counting, tmp_path: Path, invoke: Invoke
) -> None:
    folders = _notes(tmp_path)
    (folders["a"] / "c.txt").write_text("The Merrow ferry leaves at dawn.\n", encoding="utf-8")
    assistant = Assistant(store_settings, counting)
    library = Library(assistant.settings, assistant.embeddings, assistant.corpus)
    for folder in folders.values():
        library.ingest([folder])
    report = library.remove([folders["a"] / "a.txt"])
    assert (report.files_removed, report.chunks_removed, report.not_found) == (1, 1, [])
    assert assistant.ask(QUESTIONS["a"][0]).refused and _answers(assistant, "b")
    _assert_consistent(store_settings)

    nowhere = _cli(invoke, store_settings, "remove", str(folders["b"]), str(tmp_path / "x"))
    assert nowhere.returncode == 1 and "Traceback" not in nowhere.stderr
    assert nowhere.stderr.strip().splitlines() == [
        f"error: not in collection '{store_settings.collection}': {tmp_path / 'x'}; nothing "
        "was removed (`assistant sources` lists what it holds)."
    ]
    assert _answers(Assistant(store_settings, counting), "b"), "nothing may be removed"

    removed = _cli(invoke, store_settings, "remove", str(folders["b"]), "--json")
    assert removed.returncode == 0, removed.stderr
    assert json.loads(removed.stdout)["removed"] == [_path(folders["b"], "b.txt")]
    assert Assistant(store_settings, counting).ask(QUESTIONS["b"][0]).refused
    listed = _cli(invoke, store_settings, "sources", "--json")
    assert [d["path"] for d in json.loads(listed.stdout)] == [_path(folders["a"], "c.txt")]
    _assert_consistent(store_settings)


def test_a_store_written_by_folder_name_moves_in_place_without_embedding(
    store_settings: Settings, embeddings, tmp_path: Path, invoke: Invoke
) -> None:  # type: ignore[no-untyped-def]
    folders = _notes(tmp_path)
    corpus = Corpus.open(store_settings)
    old_ids = write_legacy(corpus, folders["a"], embeddings)
    old_vectors = corpus.collection().get(ids=old_ids, include=["embeddings"])["embeddings"]
    counting = Counting(embeddings)
    library = Library(store_settings, counting)
    assistant = Assistant(store_settings, counting)
    (legacy,) = library.sources()
    assert (legacy.path, legacy.legacy, legacy.present) == ("notes/a.txt", True, False)
    assert (legacy.format, legacy.size_bytes, legacy.ingested_at) == ("unknown", None, None)
    listed = _cli(invoke, store_settings, "sources")
    assert "notes/a.txt  unknown, 1 chunk, size unknown" in listed.stdout

    preview = library.ingest([folders["b"], folders["a"]], dry_run=True)
    assert (preview.migrated, preview.chunks_added, preview.chunks_unchanged) == (1, 1, 1)
    assert counting.embedded == 0 and set(_chunks(store_settings)) == set(old_ids)

    report = library.ingest([folders["a"]])
    assert (report.migrated, report.chunks_added, report.chunks_unchanged) == (1, 0, 1)
    # No chunk is embedded again: only the moved chunk's sentences, which an earlier
    # version did not store (once).
    (text,) = corpus.collection().get(include=["documents"])["documents"] or []
    assert report.vectors_added == 1 and counting.embedded == len(set(sentences(text)))
    clean = store_settings.model_copy(update={"collection": f"{store_settings.collection}-clean"})
    Library(clean, embeddings).ingest([folders["a"]])
    assert set(_chunks(store_settings)) == set(_chunks(clean)), "the ids of a clean ingest"
    (new_id,) = _chunks(store_settings)
    moved = corpus.collection().get(ids=[new_id], include=["embeddings"])["embeddings"]
    assert np.allclose(moved, old_vectors), "the stored vector was carried over"
    assert record_keys(corpus) == {FILES: {new_id}}
    (doc,) = library.sources()
    assert (doc.path, doc.legacy, doc.present) == (_path(folders["a"], "a.txt"), False, True)
    assert (doc.format, doc.ingested_at) == ("txt", None)

    library.ingest([folders["b"]])
    assert _answers(assistant, "a") and _answers(assistant, "b")
    _assert_consistent(store_settings)


def test_a_legacy_folder_of_another_place_is_not_claimed(
    settings: Settings, embeddings, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """A folder of the same name that holds none of its files leaves the legacy one alone."""
    folders = _notes(tmp_path)
    write_legacy(Corpus.open(settings), folders["a"], embeddings)
    counting = Counting(embeddings)
    assistant = Assistant(settings, counting)
    library = Library(assistant.settings, assistant.embeddings, assistant.corpus)
    report = library.ingest([folders["b"]])
    assert (report.migrated, report.chunks_deleted, report.chunks_added) == (0, 0, 1)
    assert [(d.path, d.legacy) for d in library.sources()] == [
        (_path(folders["b"], "b.txt"), False),
        ("notes/a.txt", True),
    ]
    assert _answers(assistant, "a") and _answers(assistant, "b")
    removed = library.remove([Path("notes/a.txt")])  # by the id `sources` lists
    assert (removed.files_removed, removed.chunks_removed) == (1, 1)
    assert assistant.ask(QUESTIONS["a"][0]).refused
