"""The sidebar's library: which collection the page works on, and the documents it holds.

The chosen collection decides what is asked, what the stats show and where uploads
go (``app.py`` opens one assistant and one library per collection). Reopening a saved
conversation picks its collection again. A document is removed in two steps: its button asks, and
only the second click removes it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

import streamlit as st

from assistant.core.config import Settings
from assistant.store.corpus import Corpus
from assistant.ui import chat
from assistant.ui.render import escape_markdown

if TYPE_CHECKING:
    from assistant.core.types import StoredDocument
    from assistant.library import Library

PICKED = "collection"  # session key of the collection chosen in the sidebar
REOPENED = "reopened_collection"  # a reopened conversation's collection, picked on the next run
GONE = "collection_gone"  # (conversation id, the line saying its collection is gone)
CONFIRM = "confirm_remove"  # the path whose removal waits for its second click
REMOVED = "last_removal"  # what the last removal did, shown under the list


@st.cache_data(show_spinner=False, ttl=30)
def collection_names(key: str, _settings: Settings) -> list[str]:
    """The store's collections; cleared after each ingest or removal here, else every 30 s."""
    return [corpus.name for corpus in Corpus.every(_settings)]


@st.cache_data(show_spinner=False, ttl=30)
def documents(key: str, _library: Library) -> list[StoredDocument]:
    """The collection's documents (``key`` names it): reads every chunk's metadata, so cached."""
    return _library.sources()


def forget() -> None:
    """Drop the cached listings, after the page changed the store."""
    collection_names.clear()
    documents.clear()


def pick_collection(settings: Settings, key: str) -> str:
    """The collection chosen in the sidebar: the store's, the ``collection`` setting at first.

    A new name may be typed; it is checked (``Corpus.open``) before anything uses it, and
    the collection is made by the first upload. Switching starts a new conversation. A
    conversation reopened (``follow``) is switched to its collection; when that is gone,
    the choice stays and a line at the top of the page says so.
    """
    names = sorted({*collection_names(key, settings), settings.collection})
    # Set before the picker is drawn, as Streamlit asks; on_change runs only for a user's pick.
    st.session_state.setdefault(PICKED, settings.collection)
    if REOPENED in st.session_state:
        _switch(st.session_state.pop(REOPENED), names)
    with st.sidebar:
        chosen = st.selectbox(
            "Collection",
            names,
            key=PICKED,
            on_change=chat.clear,
            accept_new_options=True,
            help="What is asked, counted and uploaded to. Type a new name to start one.",
        )
    shown, line = st.session_state.get(GONE, (None, ""))
    if shown is not None and shown == st.session_state.get(chat.CONVERSATION):
        st.warning(line, icon=":material/folder_off:")  # until another conversation starts
    return str(chosen or settings.collection)


def follow(collection: str) -> None:
    """From a reopen button's callback: pick ``collection`` on this run, if it still exists."""
    collection_names.clear()  # one dropped since the last listing counts as gone
    st.session_state[REOPENED] = collection


def _switch(wanted: str, names: list[str]) -> None:
    current = st.session_state[PICKED]
    st.session_state.pop(GONE, None)  # said of an earlier reopening
    if wanted in names:
        st.session_state[PICKED] = wanted
    elif wanted != current:
        line = (
            f'This conversation\'s collection "{wanted}" is gone; '
            f'questions in it will go to "{current}".'
        )
        st.session_state[GONE] = (st.session_state.get(chat.CONVERSATION), escape_markdown(line))


def show_documents(library: Library, key: str, changed: Callable[[], None]) -> None:
    """The chosen collection's documents with their chunks, each removable after a confirm."""
    listed = documents(key, library)
    with st.sidebar.expander(f"Documents ({len(listed)})", icon=":material/folder_open:"):
        if not listed:
            st.caption("No documents in this collection yet.")
        for doc in listed:
            _row(library, doc, changed)
        if REMOVED in st.session_state:
            st.caption(escape_markdown(st.session_state[REMOVED]))


def _row(library: Library, doc: StoredDocument, changed: Callable[[], None]) -> None:
    name = PurePath(doc.path).name or doc.path
    gone = "" if doc.present or doc.legacy else ", file gone"
    text, button = st.columns([3, 2], vertical_alignment="center")
    chunks = f"{doc.chunks} chunk{'' if doc.chunks == 1 else 's'}"
    text.markdown(f"{escape_markdown(name)}  \n:small[{chunks}{gone}]", help=doc.path)
    if st.session_state.get(CONFIRM) != doc.path:
        button.button("Remove", key=f"remove:{doc.path}", on_click=_ask, args=(doc.path,))
        return
    st.warning(escape_markdown(f"Remove {name} and its {chunks} from the collection?"))
    yes, no = st.columns(2)
    no.button("Cancel", key=f"cancel:{doc.path}", on_click=_ask, args=(None,))
    if yes.button("Yes, remove", key=f"confirm:{doc.path}", type="primary"):
        report = library.remove([Path(doc.path)])
        st.session_state.pop(CONFIRM, None)
        st.session_state[REMOVED] = (
            f"Removed {name}: {report.chunks_removed} chunks."
            if report.files_removed
            else f"{name} was no longer in the collection."
        )
        changed()
        st.rerun()


def _ask(path: str | None) -> None:
    """The first click on a document's Remove (or Cancel, with None)."""
    st.session_state[CONFIRM] = path
