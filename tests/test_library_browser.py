"""The collection picker and document list in Debian's chromium, on a real `streamlit run`."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import CHROMIUM, CHROMIUM_INSTALL, CHROMIUM_MISSING
from playwright.sync_api import Page, expect, sync_playwright
from test_browser import CHROMIUM_ARGS, _streamlit, settled

from assistant.core.config import Settings
from assistant.core.types import REFUSAL
from assistant.library import Library
from assistant.store.corpus import Corpus

ZORBLAX = "The Zorblax rocket engine was designed by engineers at Acme Propulsion in Tallinn.\n"
ASK_ZORBLAX = "Which company designed the Zorblax rocket engine?"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM_MISSING} at {CHROMIUM}: {CHROMIUM_INSTALL}"
)


@pytest.fixture
def page_url(tmp_path: Path, seeded_dir: Path, cache_dir: Path, embeddings: Any) -> Iterator[str]:
    """The page over the seeded store plus a collection 'facts' holding one file."""
    store = tmp_path / "store"
    shutil.copytree(seeded_dir, store)
    (tmp_path / "facts").mkdir()
    (tmp_path / "facts" / "zorblax.md").write_text(ZORBLAX, encoding="utf-8")
    settings = Settings(store_dir=store, cache_dir=cache_dir)
    Library(settings, embeddings, Corpus.open(settings, "facts")).ingest([tmp_path / "facts"])
    with _streamlit(store, cache_dir, tmp_path) as url:
        yield url


@pytest.fixture
def page(page_url: str) -> Iterator[Page]:
    """A tab of Debian's chromium on the page, its chat input ready."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        tab = chromium.new_page(viewport={"width": 1280, "height": 1000})
        tab.goto(page_url)
        tab.get_by_placeholder("Ask about the documents").wait_for(timeout=60_000)
        yield tab
        chromium.close()


def ask(page: Page, question: str) -> str:
    """Send ``question``; the text of the answer once it is in, with its sources."""
    answers = page.get_by_test_id("stChatMessage")
    before = answers.count()
    box = page.get_by_placeholder("Ask about the documents")
    box.fill(question)
    box.press("Enter")
    answer = answers.nth(before + 1)  # after the question's own message
    answer.get_by_test_id("stExpander").wait_for(timeout=120_000)  # its sources: it is done
    settled(page)  # the run goes on to save the conversation
    return answer.inner_text()


def choose(page: Page, collection: str) -> None:
    """Pick ``collection`` in the sidebar's picker and wait for the page to show it."""
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_test_id("stSelectbox").click()
    page.get_by_role("option", name=collection, exact=True).click()
    expect(sidebar.get_by_text(f"Collection: {collection}")).to_be_visible(timeout=60_000)
    expect(page.get_by_test_id("stChatMessage")).to_have_count(0)  # a new conversation
    settled(page)


def test_switch_collection_then_remove_a_document(page: Page) -> None:
    sidebar = page.get_by_test_id("stSidebar")
    assert REFUSAL in ask(page, ASK_ZORBLAX)
    choose(page, "facts")
    expect(sidebar.get_by_text("1 document, 1 chunk")).to_be_visible()
    assert "Acme Propulsion" in ask(page, ASK_ZORBLAX)

    sidebar.get_by_text("Documents (1)").click()
    expect(sidebar.get_by_text("zorblax.md")).to_be_visible()
    sidebar.get_by_role("button", name="Remove").click()
    expect(sidebar.get_by_text("Remove zorblax.md and its 1 chunk")).to_be_visible()
    settled(page)
    sidebar.get_by_role("button", name="Yes, remove").click()
    expect(sidebar.get_by_text("Documents (0)")).to_be_visible(timeout=60_000)
    expect(sidebar.get_by_text("0 documents, 0 chunks")).to_be_visible()
    assert REFUSAL in ask(page, ASK_ZORBLAX)


def test_a_typed_name_starts_a_collection_and_a_bad_one_is_refused(page: Page) -> None:
    sidebar = page.get_by_test_id("stSidebar")
    picker = sidebar.get_by_test_id("stSelectbox")
    picker.click()
    page.keyboard.type("my..notes")
    page.keyboard.press("Enter")
    alert = page.get_by_test_id("stAlertContentError")
    expect(alert).to_contain_text("Invalid collection name 'my..notes'", timeout=60_000)
    picker.click()
    page.keyboard.type("notes")
    page.keyboard.press("Enter")
    expect(sidebar.get_by_text("Collection: notes")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("No documents yet")).to_be_visible()
    expect(sidebar.get_by_text("Documents (0)")).to_be_visible()
