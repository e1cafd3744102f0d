"""The conversation: past turns from ``st.session_state``, a new answer streamed, its sources."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

import streamlit as st

from assistant.core.types import Turn
from assistant.store.history import new_id
from assistant.ui.feedback import append_feedback, feedback_record
from assistant.ui.render import (
    answer_html,
    cited_html,
    escape_markdown,
    retrieved_html,
)

if TYPE_CHECKING:
    from pathlib import Path

    from assistant.core.types import Answer
    from assistant.pipeline import Assistant

PENDING = "pending_question"  # an example question clicked, asked on the next run
CONVERSATION = "conversation"  # the id this conversation is saved under


@dataclass
class ChatTurn:
    """One question and its answer; ``id`` keys its widgets and its source anchors."""

    id: str
    answer: Answer
    rating: int | None = None  # the thumbs, as st.feedback gives them


def turns() -> list[ChatTurn]:
    """This browser session's conversation."""
    history: list[ChatTurn] = st.session_state.setdefault("turns", [])  # session state is untyped
    return history


def clear() -> None:
    """Start a new conversation."""
    st.session_state["turns"] = []
    st.session_state.pop(PENDING, None)
    st.session_state.pop(CONVERSATION, None)


def conversation_id() -> str:
    """The id this conversation is saved under (a new one after ``clear``)."""
    saved_as: str = st.session_state.setdefault(CONVERSATION, new_id())
    return saved_as


def resume(conversation: str, earlier: list[ChatTurn]) -> None:
    """Continue a saved conversation: its turns shown as they were, thumbs included."""
    clear()
    st.session_state["turns"] = earlier
    st.session_state[CONVERSATION] = conversation
    for turn in earlier:
        st.session_state[f"feedback-{turn.id}"] = turn.rating


def ask_later(question: str) -> None:
    """Button callback: the question runs as if typed."""
    st.session_state[PENDING] = question


def next_question() -> str | None:
    """What to answer on this run: the chat input, or an example clicked."""
    typed = st.chat_input("Ask about the documents")
    return typed or st.session_state.pop(PENDING, None)


def show_history(feedback_path: Path) -> None:
    """Every earlier turn, as it was shown when answered."""
    for turn in turns():
        with st.chat_message("user"):
            st.markdown(escape_markdown(turn.answer.question))
        with st.chat_message("assistant"):
            show_answer(turn, feedback_path)


def answer_now(assistant: Assistant, question: str, k: int) -> ChatTurn:
    """Stream the answer to ``question`` into the page, then show it with its sources."""
    history = [Turn(t.answer.question, t.answer.answer) for t in turns()]
    with st.chat_message("user"):
        st.markdown(escape_markdown(question))
    with st.chat_message("assistant"):
        stream = assistant.stream(question, history, k)
        live = st.empty()
        with live.container():
            st.write_stream(escape_markdown(piece) for piece in stream)
        live.empty()  # replaced by the answer with linked markers
        assert stream.answer is not None
        turn = ChatTurn(uuid.uuid4().hex[:12], stream.answer)
        turns().append(turn)
        show_answer(turn, assistant.settings.feedback_path)
    return turn


def show_answer(turn: ChatTurn, feedback_path: Path) -> None:
    """The answer (or the refusal), its sources, and the thumbs."""
    answer = turn.answer
    if answer.refused:
        st.info(escape_markdown(answer.answer), icon=":material/block:")
    else:
        st.markdown(answer_html(answer, turn.id), unsafe_allow_html=True)
    if answer.unsupported:
        count = len(answer.unsupported)
        st.caption(
            f"⚠ {count} sentence{'s' if count > 1 else ''} (underlined) "
            f"{'are' if count > 1 else 'is'} not supported by the passage cited."
        )
    show_sources(answer, turn.id)
    st.feedback(
        "thumbs",
        key=f"feedback-{turn.id}",
        on_change=_record_feedback,
        args=(turn, feedback_path),
    )


def show_sources(answer: Answer, turn_id: str) -> None:
    """The cited chunks with their quotes highlighted, then the other retrieved chunks greyed."""
    cited_ids = {s.chunk_id for s in answer.sources}
    others = [h for h in answer.retrieved if h.id not in cited_ids]
    if answer.sources:
        label = f"Sources · {len(answer.sources)} cited · {len(others)} more retrieved"
    else:
        label = f"Sources · none cited · {len(others)} retrieved"
    with st.expander(label):
        if answer.refused:
            st.caption("No passage answers the question; these were the closest.")
        for source in answer.sources:
            st.markdown(cited_html(source, answer, turn_id), unsafe_allow_html=True)
        if answer.sources and others:
            st.caption("Also retrieved, not cited")
        for hit in others:
            st.markdown(retrieved_html(hit), unsafe_allow_html=True)


def _record_feedback(turn: ChatTurn, path: Path) -> None:
    rating = st.session_state.get(f"feedback-{turn.id}")
    turn.rating = rating
    if rating is not None:  # None: the thumb was taken back
        append_feedback(path, feedback_record(turn.answer, rating))
