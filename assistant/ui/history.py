"""The sidebar's saved conversations: each turn saved as it is answered, listed newest first,
reopened as it was shown (in its collection), renamed or deleted.

A conversation store that cannot be used (damaged, unreadable, read-only) is one
message in this section; the page answers as before, without saving.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import streamlit as st

from assistant.core.errors import StoreError
from assistant.store.history import History
from assistant.ui import chat, library
from assistant.ui.feedback import RATINGS
from assistant.ui.render import escape_markdown

if TYPE_CHECKING:
    from pathlib import Path

    from assistant.store.history import Conversation

T = TypeVar("T")
PROBLEM = "history_problem"  # a failure inside a button's callback, shown on the next run
SAVED_RATINGS = "saved_ratings"  # turn id -> the thumbs last saved
NOT_SAVED = " Answers still work, but conversations are not saved."
TITLE_CHARS = 48  # of a title on its button; the whole title is in the rename box


class SavedConversations:
    """This run's conversation store, or the message saying why there is none."""

    def __init__(self, store_dir: Path) -> None:
        self.store: History | None = None
        self.problem: str = st.session_state.pop(PROBLEM, "")
        try:
            self.store = History.open(store_dir)
        except StoreError as exc:
            self.problem = str(exc)

    def record(self, turn: chat.ChatTurn, collection: str) -> None:
        """Save a turn just answered, under this conversation's id."""
        conversation = chat.conversation_id()
        self._try(lambda store: store.save(conversation, turn.id, turn.answer, collection))
        _saved_ratings()[turn.id] = None

    def show(self, turns: list[chat.ChatTurn]) -> None:
        """Save the thumbs changed since the last run; list the conversations in the sidebar."""
        self._save_ratings(turns)
        listed = self._try(lambda store: store.conversations()) or []
        if not listed and not self.problem:
            return  # nothing saved yet: no section
        with st.sidebar:
            st.subheader("Saved conversations")
            if self.store is None:
                st.warning(self.problem + NOT_SAVED, icon=":material/warning:")
                return
            if self.problem:  # a button's action failed; the store itself opened
                st.warning(self.problem, icon=":material/warning:")
            for conversation in listed:
                _row(self.store, conversation)

    def _save_ratings(self, turns: list[chat.ChatTurn]) -> None:
        saved = _saved_ratings()
        for turn in turns:
            if turn.id in saved and saved[turn.id] != turn.rating:
                rating = None if turn.rating is None else RATINGS[turn.rating]
                conversation = chat.conversation_id()
                self._try(lambda store: store.rate(conversation, turn.id, rating))  # noqa: B023 (run at once)
                saved[turn.id] = turn.rating

    def _try(self, action: Callable[[History], T]) -> T | None:
        """``action`` on the store; a failure becomes this section's message, once."""
        if self.store is None:
            return None
        try:
            return action(self.store)
        except StoreError as exc:
            self.store, self.problem = None, str(exc)
            return None


def _row(store: History, conversation: Conversation) -> None:
    title = conversation.title
    short = title if len(title) <= TITLE_CHARS else title[: TITLE_CHARS - 1] + "…"
    asked = time.strftime("%Y-%m-%d %H:%M", time.localtime(conversation.updated))
    turns = f"{conversation.turns} turn{'s' if conversation.turns > 1 else ''}"
    current = st.session_state.get(chat.CONVERSATION) == conversation.id
    opened, menu = st.columns([5, 1], vertical_alignment="center")
    opened.button(
        escape_markdown(short),
        key=f"open-{conversation.id}",
        help=f"{turns}, collection {conversation.collection}, {asked}",
        type="primary" if current else "secondary",
        on_click=_reopen,
        args=(store, conversation.id),
        width="stretch",
    )
    with menu.popover("", icon=":material/more_vert:"):
        st.text_input("Title", title, key=f"title-{conversation.id}")
        st.button(
            "Rename", key=f"rename-{conversation.id}", on_click=_rename,
            args=(store, conversation.id), icon=":material/edit:",
        )  # fmt: skip
        st.button(
            "Delete", key=f"delete-{conversation.id}", on_click=_delete,
            args=(store, conversation.id), icon=":material/delete:",
        )  # fmt: skip


def _saved_ratings() -> dict[str, int | None]:
    ratings: dict[str, int | None] = st.session_state.setdefault(SAVED_RATINGS, {})
    return ratings


def _reopen(store: History, conversation: str) -> None:
    try:
        saved = store.turns(conversation)
    except StoreError as exc:
        st.session_state[PROBLEM] = str(exc)
        return
    thumbs = {label: value for value, label in RATINGS.items()}
    earlier = [
        chat.ChatTurn(t.id, t.answer, None if t.feedback is None else thumbs[t.feedback])
        for t in saved
    ]
    chat.resume(conversation, earlier)
    _saved_ratings().update({turn.id: turn.rating for turn in earlier})
    if saved:  # its follow-ups are asked of the collection of its latest turn
        library.follow(saved[-1].collection)


def _rename(store: History, conversation: str) -> None:
    try:
        store.rename(conversation, st.session_state.get(f"title-{conversation}", ""))
    except StoreError as exc:
        st.session_state[PROBLEM] = str(exc)


def _delete(store: History, conversation: str) -> None:
    try:
        store.delete(conversation)
    except StoreError as exc:
        st.session_state[PROBLEM] = str(exc)
        return
    if st.session_state.get(chat.CONVERSATION) == conversation:
        chat.clear()
