"""The sidebar: what answers (backend, models, corpus), k, a new conversation, uploads, download."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

from assistant.ingest.loaders import SUPPORTED_SUFFIXES
from assistant.ingest.uploads import save_uploads
from assistant.ui import chat
from assistant.ui.render import conversation_markdown, escape_markdown, text_html

if TYPE_CHECKING:
    from streamlit.delta_generator import DeltaGenerator

    from assistant.core.types import JsonObject
    from assistant.ingest.indexing import IngestReport
    from assistant.pipeline import Assistant

# Ingests files with progress shown (``app.ingest_with_progress``): (paths, label) -> report.
Ingest = Callable[[list[Path], str], "IngestReport"]


def show(assistant: Assistant, stats: Callable[[], JsonObject], ingest: Ingest) -> Sidebar:
    """Draw the sidebar's controls; what depends on this run's work is filled in by ``finish``."""
    settings = assistant.settings
    with st.sidebar:
        about = st.container()
        k = st.slider(
            "Passages retrieved per question (k)", 1, max(20, settings.k), settings.k, key="k"
        )
        st.button("New conversation", on_click=chat.clear, icon=":material/add_comment:")
        _uploads(assistant, ingest)
        download = st.container()
    with about:  # after the uploads, so the counts include them
        _show_models(assistant, stats())
    return Sidebar(int(k), download)


def header() -> None:
    """The sidebar's title, drawn first: the collection picker (``library.py``) follows it."""
    st.sidebar.header("Grounded assistant")


@dataclass
class Sidebar:
    """The ``k`` chosen, and the slot for the download (filled once this run's answer is in)."""

    k: int
    download: DeltaGenerator

    def finish(self) -> None:
        """The conversation download, including the answer given on this run."""
        with self.download:
            st.download_button(
                "Download conversation (Markdown)",
                conversation_markdown([t.answer for t in chat.turns()]),
                file_name="conversation.md",
                mime="text/markdown",
                icon=":material/download:",
                disabled=not chat.turns(),
            )


def _show_models(assistant: Assistant, stats: JsonObject) -> None:
    rows = [
        ("Answers", f"{assistant.backend.name} — {stats['answer_model']}"),
        ("Embeddings", stats["embedding_model"]),
        ("Corpus", f"{_count(stats['documents'], 'document')}, {_count(stats['chunks'], 'chunk')}"),
        ("Collection", stats["collection"]),
        ("Store", stats["store"]),
    ]
    # text_html: a store path or collection name is shown as typed, never as markup.
    st.markdown(
        "<br>".join(f"<b>{name}</b>: {text_html(str(value))}" for name, value in rows),
        unsafe_allow_html=True,
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _uploads(assistant: Assistant, ingest: Ingest) -> None:
    files = st.file_uploader(
        "Add documents",
        type=[s.lstrip(".") for s in SUPPORTED_SUFFIXES],
        accept_multiple_files=True,
        key=f"uploads:{assistant.corpus.name}",  # a fresh list for each collection
        max_upload_size=math.ceil(assistant.settings.max_file_mb),
        help="Indexed at once; a file uploaded again under the same name is updated.",
    )
    done: set[str] = st.session_state.setdefault("ingested_uploads", set())
    new = [f for f in files or [] if f.file_id not in done]
    if new:
        # Marked first: a file that fails is not retried on every rerun.
        done.update(f.file_id for f in new)
        uploaded = [(f.name, f.getvalue()) for f in new]
        saved = save_uploads(assistant.settings, uploaded, assistant.corpus.name)
        for name, reason in saved.skipped:
            st.warning(escape_markdown(f"{name}: skipped, {reason}."))
        if saved.paths:
            report = ingest(saved.paths, f"Indexing {len(saved.paths)} uploaded file(s)")
            st.session_state["last_upload"] = _summary(report)
    if "last_upload" in st.session_state:
        st.caption(escape_markdown(st.session_state["last_upload"]))


def _summary(report: IngestReport) -> str:
    skipped = "".join(f"; skipped {name} ({why})" for name, why in report.skipped)
    return (
        f"Indexed: {report.files_new} new, {report.files_changed} updated, "
        f"{report.files_unchanged} unchanged file(s); {report.chunks_added} chunks added, "
        f"{report.chunks_total} in the collection{skipped}."
    )
