"""The sidebar's collection picker and document list, driven like a user by Streamlit's AppTest."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import ROOT, SEEDS
from streamlit.testing.v1 import AppTest

from assistant.core.config import Settings
from assistant.core.types import REFUSAL
from assistant.library import Library
from assistant.store.corpus import Corpus

APP = str(ROOT / "assistant" / "ui" / "app.py")
ZORBLAX = "The Zorblax rocket engine was designed by engineers at Acme Propulsion in Tallinn.\n"
ASK_ZORBLAX = "Which company designed the Zorblax rocket engine?"
GIFTS = "What gifts did Putin and Kim exchange?"


@pytest.fixture
def store(tmp_path: Path, seeded_dir: Path, cache_dir: Path, embeddings) -> Path:  # type: ignore[no-untyped-def]
    """The seeded store (collection 'seeds') plus a collection 'facts' holding one file."""
    copy = tmp_path / "store"
    shutil.copytree(seeded_dir, copy)
    docs = tmp_path / "facts"
    docs.mkdir()
    (docs / "zorblax.md").write_text(ZORBLAX, encoding="utf-8")
    settings = Settings(store_dir=copy, cache_dir=cache_dir)
    Library(settings, embeddings, Corpus.open(settings, "facts")).ingest([docs])
    return copy


@pytest.fixture
def page(monkeypatch: pytest.MonkeyPatch, store: Path, cache_dir: Path) -> AppTest:
    monkeypatch.setenv("ASSISTANT_STORE_DIR", str(store))
    monkeypatch.setenv("ASSISTANT_CACHE_DIR", str(cache_dir))
    monkeypatch.setenv("ASSISTANT_SEEDS_DIR", str(SEEDS))
    return _run(AppTest.from_file(APP, default_timeout=120))


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def ask(at: AppTest, question: str) -> str:
    """The answer's text (or the refusal) to ``question``."""
    at.chat_input[0].set_value(question)
    _run(at)
    last = at.chat_message[-1]
    return "\n".join(
        [m.value for m in last.markdown] + [i.value.replace("\\", "") for i in last.info]
    )


def choose(at: AppTest, collection: str) -> AppTest:
    at.sidebar.selectbox(key="collection").set_value(collection)
    return _run(at)


def about(at: AppTest) -> str:
    return "\n".join(m.value for m in at.sidebar.markdown)


def documents(at: AppTest) -> str:
    listed = next(e for e in at.sidebar.expander if e.label.startswith("Documents"))
    texts = [m.value for m in listed.markdown] + [c.value for c in listed.caption]
    return "\n".join([listed.label, *texts]).replace("\\", "")


def test_the_picker_lists_the_stores_collections_with_the_setting_chosen(page: AppTest) -> None:
    picker = page.sidebar.selectbox(key="collection")
    assert picker.options == ["facts", "seeds"] and picker.value == "seeds"
    assert "Collection</b>: seeds" in about(page) and "1 document, 11 chunks" in about(page)


def test_the_answer_comes_from_the_chosen_collection(page: AppTest) -> None:
    assert REFUSAL in ask(page, ASK_ZORBLAX)
    choose(page, "facts")
    assert not page.chat_message  # a new conversation for the other collection
    assert "Collection</b>: facts" in about(page) and "1 document, 1 chunk" in about(page)
    assert "Acme Propulsion" in ask(page, ASK_ZORBLAX)
    assert REFUSAL in ask(page, GIFTS)
    choose(page, "seeds")
    assert "rifles" in ask(page, GIFTS)


def test_a_document_is_removed_after_a_confirmation(page: AppTest, store: Path) -> None:
    choose(page, "facts")
    assert "Documents (1)" in documents(page) and "zorblax.md" in documents(page)
    assert "1 chunk" in documents(page)
    page.sidebar.button(key=f"remove:{store.parent / 'facts' / 'zorblax.md'}").click()
    _run(page)
    assert "Remove zorblax.md and its 1 chunk" in page.sidebar.warning[0].value.replace("\\", "")
    next(b for b in page.sidebar.button if b.label == "Cancel").click()
    _run(page)
    assert not page.sidebar.warning and "Documents (1)" in documents(page)
    page.sidebar.button(key=f"remove:{store.parent / 'facts' / 'zorblax.md'}").click()
    _run(page)
    next(b for b in page.sidebar.button if b.label == "Yes, remove").click()
    _run(page)
    assert "Documents (0)" in documents(page) and "Removed zorblax.md: 1 chunks" in documents(page)
    assert "0 documents, 0 chunks" in about(page)
    assert REFUSAL in ask(page, ASK_ZORBLAX)
    choose(page, "seeds")
    assert "Documents (1)" in documents(page) and "1 document, 11 chunks" in about(page)


def test_uploads_go_to_the_chosen_collection(page: AppTest, store: Path) -> None:
    choose(page, "facts")
    body = b"The Quuxo bridge over the Douro was built by Ferreira Steel in Porto.\n"
    page.sidebar.file_uploader[0].set_value(("quuxo.md", body, "text/markdown"))
    _run(page)
    assert (store / "uploads" / "facts" / "quuxo.md").read_bytes() == body
    assert "2 documents, 2 chunks" in about(page) and "quuxo.md" in documents(page)
    assert "Ferreira Steel" in ask(page, "Who built the Quuxo bridge?")
    choose(page, "seeds")
    assert "1 document, 11 chunks" in about(page)
    assert REFUSAL in ask(page, "Who built the Quuxo bridge?")


def test_a_new_collection_is_made_by_its_first_upload(
    page: AppTest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ASSISTANT_COLLECTION", "notes")  # a name the store does not hold yet
    monkeypatch.setenv("ASSISTANT_SEEDS_DIR", str(tmp_path / "no-seeds"))
    at = _run(AppTest.from_file(APP, default_timeout=120))
    assert at.sidebar.selectbox(key="collection").value == "notes"
    assert "No documents yet" in at.info[0].value and "Documents (0)" in documents(at)
    at.sidebar.file_uploader[0].set_value(("z.md", ZORBLAX.encode(), "text/markdown"))
    _run(at)
    assert at.sidebar.selectbox(key="collection").options == ["facts", "notes", "seeds"]
    assert "Acme Propulsion" in ask(at, ASK_ZORBLAX)


def test_a_bad_collection_name_is_one_message_and_makes_nothing(
    page: AppTest, store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSISTANT_COLLECTION", "my..notes")
    at = _run(AppTest.from_file(APP, default_timeout=120))
    assert [e.value for e in at.error] == [
        "Invalid collection name 'my..notes': use 3-63 characters of letters, digits, '.', "
        "'_' or '-', starting and ending with a letter or digit, without '..', and not an "
        "IPv4 address (e.g. 'seeds' or 'my-docs')."
    ]
    names = sorted(c.name for c in Corpus.every(Settings(store_dir=store)))
    assert names == ["facts", "seeds"] and not (store / "uploads" / "my..notes").exists()
