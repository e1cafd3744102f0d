"""End to end: the real `streamlit run` server, Debian's chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from conftest import CHROMIUM, CHROMIUM_INSTALL, CHROMIUM_MISSING, ROOT, SEEDS
from playwright.sync_api import Browser, Locator, Page, sync_playwright

from assistant.core.config import Settings
from assistant.core.types import REFUSAL
from assistant.library import Library

# Nothing but the page: no GPU, no first-run wizard, no update or sync traffic.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
GIFTS = "What gifts did Putin and Kim exchange?"
EVIL = (
    "The Zorblax rocket engine was built by engineers at Acme <script>alert(1)</script>, "
    "<img src=x onerror=\"document.title='pwned'\"> says [the report](https://evil.example/x).\n"
)

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM_MISSING} at {CHROMIUM}: {CHROMIUM_INSTALL}"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_serving(url: str, server: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"streamlit exited with status {server.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as reply:
                if reply.read() == b"ok":
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"streamlit did not serve {url} within {timeout:.0f}s")


@pytest.fixture(scope="module")
def page_url(
    tmp_path_factory: pytest.TempPathFactory, seeded_dir: Path, cache_dir: Path, embeddings: Any
) -> Iterator[str]:
    """The page served by a real `streamlit run` over a seeded store (plus one hostile file)."""
    work = tmp_path_factory.mktemp("page")
    store = work / "store"
    shutil.copytree(seeded_dir, store)
    (work / "evil.md").write_text(EVIL, encoding="utf-8")
    Library(Settings(store_dir=store, cache_dir=cache_dir), embeddings).ingest([work / "evil.md"])
    with _streamlit(store, cache_dir, work) as url:
        yield url


@contextmanager
def _streamlit(store: Path, cache_dir: Path, work: Path) -> Iterator[str]:
    """A real `streamlit run` of the page over ``store`` on a free port; stopped on exit."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OPENAI_"))}
    env |= {
        "ASSISTANT_STORE_DIR": str(store),
        "ASSISTANT_CACHE_DIR": str(cache_dir),
        "ASSISTANT_SEEDS_DIR": str(SEEDS),
    }
    command = [
        *(sys.executable, "-m", "streamlit", "run", str(ROOT / "assistant" / "ui" / "app.py")),
        *("--server.headless", "true", "--server.address", "127.0.0.1"),
        *("--server.port", str(port), "--browser.gatherUsageStats", "false"),
        *("--server.fileWatcherType", "none"),
    ]
    log = (work / "server.log").open("ab")
    server = subprocess.Popen(command, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(url, server)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's chromium, headless, never a downloaded browser."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, page_url: str) -> Iterator[Page]:
    """A fresh browser tab on the chat page, its chat input ready."""
    tab = browser.new_page(viewport={"width": 1280, "height": 1000})
    tab.goto(page_url)
    tab.get_by_placeholder("Ask about the documents").wait_for(timeout=60_000)
    yield tab
    tab.close()


def settled(page: Page) -> None:
    """Wait until the page's script run is over, so a click starts a run of its own.

    Streamlit marks its app element with the script's state; a click that lands while a
    run is still drawing the page can be folded into that run and have no visible effect.
    """
    app = page.locator("[data-testid=stApp][data-test-script-state=notRunning]")
    app.wait_for(timeout=120_000)


def ask(page: Page, question: str) -> Locator:
    """Type ``question``, send it, and wait until the streamed answer is in, with its sources."""
    box = page.get_by_placeholder("Ask about the documents")
    box.fill(question)
    box.press("Enter")
    # The answer's sources (the sidebar's document list is an expander too).
    expander = page.get_by_test_id("stChatMessage").get_by_test_id("stExpander").last
    expander.wait_for(timeout=120_000)
    settled(page)  # the run goes on to save the conversation
    return expander


def test_question_in_the_browser_gets_a_cited_answer(page: Page, tmp_path: Path) -> None:
    sources = ask(page, GIFTS)
    answer = page.get_by_test_id("stChatMessage").last
    assert "exchanged rifles as gifts" in answer.inner_text()
    assert answer.get_by_role("link", name="[1]").is_visible()
    sources.get_by_text("Sources").click()
    cited = sources.locator("mark").first
    cited.wait_for(state="visible")
    assert "exchanged rifles as gifts" in cited.inner_text()
    assert sources.get_by_text("000_46f147bf0e9866ff.txt").first.is_visible()
    page.screenshot(path=str(tmp_path / "answer.png"), full_page=True)
    assert (tmp_path / "answer.png").stat().st_size > 10_000


def test_the_short_answer_opens_the_answer_in_bold(page: Page) -> None:
    ask(page, "Who is the Russian defense minister who visited North Korea?")
    answer = page.get_by_test_id("stChatMessage").last
    bold = answer.locator("b, strong").first
    bold.wait_for(state="visible")
    assert bold.inner_text().strip() == "Sergei Shoigu"
    text = answer.inner_text()  # after the avatar's icon name, the answer opens with it
    assert "\nSergei Shoigu — Russian defense minister Sergei Shoigu visits North Korea" in text


def test_unanswerable_question_shows_a_refusal(page: Page) -> None:
    ask(page, "Who won the 2022 FIFA World Cup?")
    alert = page.get_by_test_id("stChatMessage").last.get_by_test_id("stAlertContentInfo")
    assert alert.is_visible() and REFUSAL in alert.inner_text()


def test_document_markup_shows_as_text(page: Page) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sources = ask(page, "Who built the Zorblax rocket engine?")
    sources.get_by_text("Sources").click()
    sources.locator("mark").first.wait_for(state="visible")
    assert "<script>alert(1)</script>" in sources.inner_text()
    assert "onerror" in page.get_by_test_id("stChatMessage").last.inner_text()
    assert page.locator("[data-testid=stMain] img").count() == 0
    assert page.title() != "pwned" and dialogs == []
    # A Markdown link in a document is shown as its text, never made a link to the site.
    assert "[the report](https://evil.example/x)" in sources.inner_text()
    assert page.locator("a[href*='evil.example']").count() == 0
    # So is markup in the question itself.
    ask(page, "Who built it? <b>bold</b> [link](https://evil.example/q) **stars**")
    page.wait_for_function("document.querySelectorAll('[data-testid=stChatMessage]').length >= 4")
    question = page.get_by_test_id("stChatMessage").nth(2)
    literal = question.inner_text().replace("\u2060", "")  # the invisible word joiner
    assert "<b>bold</b> [link](https://evil.example/q) **stars**" in literal
    assert page.locator("a[href*='evil.example']").count() == 0


def test_a_conversation_is_reopened_after_the_server_restarts(
    browser: Browser, tmp_path: Path, seeded_dir: Path, cache_dir: Path
) -> None:
    store = tmp_path / "store"
    shutil.copytree(seeded_dir, store)
    with _streamlit(store, cache_dir, tmp_path) as url:
        tab = browser.new_page(viewport={"width": 1280, "height": 1000})
        tab.goto(url)
        ask(tab, GIFTS)
        saved = tab.get_by_test_id("stSidebar").get_by_role("button", name=GIFTS)
        saved.wait_for(timeout=60_000)  # listed once the answer is in
        tab.close()
    with _streamlit(store, cache_dir, tmp_path) as url:
        tab = browser.new_page(viewport={"width": 1280, "height": 1000})
        tab.goto(url)
        tab.get_by_placeholder("Ask about the documents").wait_for(timeout=60_000)
        assert tab.get_by_test_id("stChatMessage").count() == 0
        tab.get_by_test_id("stSidebar").get_by_role("button", name=GIFTS).click()
        answer = tab.get_by_test_id("stChatMessage").nth(1)
        answer.wait_for(timeout=60_000)
        assert "exchanged rifles as gifts" in answer.inner_text()
        assert answer.get_by_role("link", name="[1]").is_visible()
        sources = answer.get_by_test_id("stExpander")
        sources.get_by_text("Sources").click()
        cited = sources.locator("mark").first
        cited.wait_for(state="visible")
        assert "exchanged rifles as gifts" in cited.inner_text()
        tab.close()
