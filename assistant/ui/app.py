"""The chat page: ask, watch the answer arrive, and check every citation against its passage.

Started by `make run` (``streamlit run assistant/ui/app.py``). A thin view over
``Assistant``: what is drawn lives in ``assistant/ui/``. Streamlit runs this file
again on every click; the assistant (embedder, store, backend) is opened once per
process by ``st.cache_resource``, so a rerun embeds nothing.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

from assistant.core.config import Settings
from assistant.core.errors import AssistantError
from assistant.ingest.loaders import SUPPORTED_SUFFIXES
from assistant.pool import Pool
from assistant.store.corpus import Corpus
from assistant.ui import chat, library, sidebar
from assistant.ui.history import SavedConversations

if TYPE_CHECKING:
    from assistant.core.types import JsonObject
    from assistant.ingest.indexing import IngestReport
    from assistant.library import Library
    from assistant.pipeline import Assistant

SEEDS_BLURB = (
    "The documents are short news summaries from September 2023 about Russia and "
    "North Korea: Shoigu in Pyongyang, Kim Jong Un's armored train, his meeting with Putin. "
    "Every answer cites the passages it quotes; try one of these:"
)
EXAMPLES = (
    "What gifts did Putin and Kim exchange?",
    "Why did Sergei Shoigu visit North Korea?",
    "Where was Kim Jong Un's armored train going?",
)


def load_settings() -> Settings:
    """The one settings object, from ASSISTANT_* variables and .env; a bad value stops the page."""
    try:
        return Settings.load()
    except AssistantError as exc:
        st.error(str(exc)[:1].upper() + str(exc)[1:])
        st.stop()


def fingerprint(settings: Settings) -> str:
    """Cache key of the settings; the API key enters only as a hash, and is never shown."""
    key = settings.openai_api_key
    secret = hashlib.sha256(key.get_secret_value().encode()).hexdigest() if key else ""
    return settings.model_dump_json(exclude={"openai_api_key"}) + secret


@st.cache_resource(show_spinner="Loading the embedding model…")
def open_pool(key: str, _settings: Settings) -> Pool:
    """The store's collections over one embedder, once per process and settings."""
    pool = Pool(_settings)
    _ = pool.embeddings
    return pool


@st.cache_resource(show_spinner=False)
def open_assistant(key: str, collection: str, _settings: Settings) -> Assistant:
    """One assistant per process, settings and collection, shared by every browser session."""
    assistant = open_pool(key, _settings).assistant(collection)  # a bad name stops here
    _ = assistant.backend  # loads the answerer now rather than during the first question
    return assistant


@st.cache_data(show_spinner=False, ttl=30)
def corpus_stats(key: str, _library: Library) -> JsonObject:
    """Documents and chunks in the store; cleared after each ingest here, and every 30 s for
    ingests from elsewhere (the CLI), as counting reads every chunk's metadata."""
    return _library.stats()


def ingest_with_progress(library: Library, paths: list[Path], label: str) -> IngestReport:
    """Ingest ``paths`` incrementally with an ``st.status`` and a progress bar."""
    # Two sessions uploading at once take turns on the store's ingest lock.
    with st.status(label, expanded=True) as status:
        bar = st.progress(0.0, text="Reading documents")

        def advance(done: int, total: int) -> None:
            bar.progress(done / max(total, 1), text=f"{done} of {total} chunks")

        report = library.ingest(paths, on_progress=advance)
        status.update(
            label=f"{label}: {report.chunks_added} chunks added, {report.chunks_total} in all",
            state="complete",
            expanded=False,
        )
    forget_listings()
    return report


def forget_listings() -> None:
    """Drop the cached counts and listings, after this page changed the store."""
    corpus_stats.clear()
    library.forget()


def seed_if_empty(library: Library, key: str) -> JsonObject:
    """On first start with an empty store, ingest the seeds folder; the corpus stats."""
    stats = corpus_stats(key, library)
    settings = library.settings
    seeds = settings.seeds_dir
    if stats["chunks"] or not seeds.is_dir() or library.corpus.name != settings.collection:
        return stats
    ingest_with_progress(library, [seeds], f"First start: indexing {seeds}")
    return corpus_stats(key, library)


def show_empty_state(corpus: Corpus, stats: JsonObject) -> None:
    """What the corpus is, and example questions that run when clicked."""
    if not stats["chunks"]:
        st.info(
            f"No documents yet: add {', '.join(SUPPORTED_SUFFIXES)} files under "
            "**Add documents** in the sidebar."
        )
    elif corpus.name == "seeds":
        st.markdown(SEEDS_BLURB)
        for question in EXAMPLES:
            st.button(question, on_click=chat.ask_later, args=(question,))
    else:
        st.markdown(
            f"Ask about the {stats['documents']} documents in collection "
            f"`{corpus.name}`; every answer cites the passages it quotes."
        )


def main(settings: Settings) -> None:
    """The page: sidebar, conversation, then the new question's answer or the empty state."""
    settings_key = fingerprint(settings)
    sidebar.header()
    collection = library.pick_collection(settings, settings_key)
    assistant = open_assistant(settings_key, collection, settings)
    documents = open_pool(settings_key, settings).library(collection)
    key = f"{settings_key}\0{collection}"  # the caches of this collection's counts and lists
    if seed_if_empty(documents, key)["chunks"]:
        _ = assistant.retriever  # opened while the page loads, not after the first question
    saved = SavedConversations(settings.store_dir)
    bar = sidebar.show(
        assistant,
        lambda: corpus_stats(key, documents),
        lambda paths, label: ingest_with_progress(documents, paths, label),
    )
    library.show_documents(documents, key, forget_listings)
    chat.show_history(settings.feedback_path)
    question = chat.next_question()
    if question:
        saved.record(chat.answer_now(assistant, question, bar.k), assistant.corpus.name)
    elif not chat.turns():
        show_empty_state(assistant.corpus, corpus_stats(key, documents))
    bar.finish()
    saved.show(chat.turns())


def run() -> None:
    """Entry point: errors become one message on the page, a traceback only when debugging."""
    st.set_page_config(page_title="Grounded assistant", page_icon=":material/menu_book:")
    settings = load_settings()
    try:
        main(settings)
    except Exception as exc:  # the edge of the page; Streamlit's own stop/rerun are not Exceptions
        if isinstance(exc, AssistantError):
            st.error(str(exc))
        else:
            st.error(f"{type(exc).__name__}: {exc} (set ASSISTANT_DEBUG=1 for details)")
        if settings.debug:
            st.exception(exc)
        st.stop()


run()
