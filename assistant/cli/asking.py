"""Asking: `assistant ask` and `assistant chat` (with saved conversations)."""

from __future__ import annotations

import json
import sys
import textwrap
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from assistant.cli.common import CollectionOption, app, assistant_for, load_settings
from assistant.core.errors import AssistantError
from assistant.core.types import Turn
from assistant.pipeline import Assistant
from assistant.query.checks import Revision, revisions
from assistant.store.history import History, history_of, new_id
from assistant.text.citations import marker

if TYPE_CHECKING:
    from assistant.core.types import Answer


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in quotes.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the answer object as JSON.")
    ] = False,
    k: Annotated[int | None, typer.Option("-k", min=1, max=50, help="Chunks to retrieve.")] = None,
    collection: CollectionOption = None,
) -> None:
    """Answer QUESTION from the ingested documents, citing the passages used."""
    assistant = assistant_for(k, collection)
    if as_json:
        answer = assistant.ask(question)
        typer.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        _stream(assistant, question, [], verbose=False)


def _stream(assistant: Assistant, question: str, history: list[Turn], verbose: bool) -> Answer:
    """Print the answer once, as it is written; then what the check changed, and its sources."""
    stream = assistant.stream(question, history)
    shown = "".join(_echo(piece) for piece in stream)
    answer = stream.answer
    assert answer is not None
    if not shown.strip():  # nothing was written: the answer is all there is to show
        shown = _echo(answer.answer)
    typer.echo()
    for revision in revisions(shown, answer):
        _flag(revision, answer)
    _explain(answer, verbose)
    return answer


def _echo(piece: str) -> str:
    typer.echo(piece, nl=False)
    sys.stdout.flush()
    return piece


def _flag(revision: Revision, answer: Answer) -> None:
    """One line under the streamed answer saying what the check changed in it."""
    many = revision.count > 1
    match revision.kind:
        case "refused":
            line = f"⚠ Not backed by the passages it cites, so the answer is: {answer.answer}"
        case "unsupported":
            line = f"⚠ Unsupported by the sources it cites: {revision.sentence}"
        case "cited":
            cites = marker(revision.after) or "no source"
            was = f"not {marker(revision.before)}" if revision.before else "shown uncited"
            line = f"⚠ {_short(revision.sentence)} cites {cites} ({was})"
        case "moved":
            line = (f"⚠ {revision.count} citation{'s' if many else ''} moved to the source "
                    "that backs the sentence")  # fmt: skip
        case "dropped":
            line = (f"⚠ {revision.count} citation{'s' if many else ''} naming no source "
                    "shown to the model left out")  # fmt: skip
        case _:
            line = f"⚠ The check rewrote this answer; as checked:\n{answer.answer}"
    typer.secho(line, fg="yellow")


def _short(sentence: str, width: int = 60) -> str:
    """A sentence in quotes, cut at a word to at most ``width`` characters."""
    return f"“{textwrap.shorten(sentence, width, placeholder=' …')}”"


def _explain(answer: Answer, verbose: bool) -> None:
    if verbose and answer.standalone_question != answer.question:
        typer.echo(f"(standalone question: {answer.standalone_question})")
    if answer.sources:
        typer.echo("\nSources:")
    for src in answer.sources:
        typer.echo(f"{src.label}: {src.quote}")
    if verbose:
        timings = ", ".join(f"{k} {v:.0f} ms" for k, v in answer.timings_ms.items())
        typer.echo(f"({answer.backend}; {timings})")


@app.command()
def chat(
    k: Annotated[int | None, typer.Option("-k", min=1, max=50, help="Chunks to retrieve.")] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show standalone questions and timings.")
    ] = False,
    collection: CollectionOption = None,
    resume: Annotated[
        str | None,
        typer.Option("--resume", metavar="ID", help="Continue saved conversation ID."),
    ] = None,
    list_saved: Annotated[
        bool, typer.Option("--list", help="List the saved conversations, newest first.")
    ] = False,
) -> None:
    """Ask question after question; follow-ups like "where did they meet?" are understood.

    An empty line or Ctrl-D ends the chat. Every turn is saved in the store folder, as
    on the chat page: the chat starts by naming its ID, `--resume ID` continues it (or
    one begun on the page) and `--list` shows the saved ones.
    """
    if list_saved:
        _list_conversations(History.open(load_settings().store_dir))
        return
    assistant = assistant_for(k, collection)
    saved, conversation, history = _conversation(assistant.settings.store_dir, resume)
    typer.echo("Ask about your documents. An empty line or Ctrl-D ends the chat.")
    while True:
        try:
            question = input("\n> ").strip()
        except EOFError:
            break
        if not question:
            break
        try:
            answer = _stream(assistant, question, history, verbose)
        except AssistantError as exc:
            typer.secho(f"error: {exc}", err=True, fg="red")
            continue
        history.append(Turn(question, answer.answer))
        if saved is not None:
            saved = _save(saved, conversation, answer, assistant.corpus.name)


def _conversation(store_dir: Path, resume: str | None) -> tuple[History | None, str, list[Turn]]:
    """The store, the conversation's id and its earlier turns (shown again when resumed).

    A store that cannot be used stops `--resume`; a new chat goes on without saving.
    """
    try:
        saved = History.open(store_dir)
    except AssistantError as exc:
        if resume:
            raise
        typer.secho(f"warning: {exc} This chat is not saved.", err=True, fg="yellow")
        return None, "", []
    conversation = resume or new_id()
    earlier = saved.resume(resume) if resume else []
    for turn in earlier:
        typer.echo(f"> {turn.answer.question}\n{turn.answer.answer}\n")
    again = f"assistant chat --resume {conversation}"
    typer.echo(f"Conversation {conversation} (`{again}` continues it).")
    return saved, conversation, history_of(earlier)


def _save(saved: History, conversation: str, answer: Answer, collection: str) -> History | None:
    """Save a turn; after a failure (said once) the chat goes on without saving."""
    try:
        saved.save(conversation, new_id(), answer, collection)
    except AssistantError as exc:
        typer.secho(f"warning: {exc} This chat is no longer saved.", err=True, fg="yellow")
        return None
    return saved


def _list_conversations(saved: History) -> None:
    listed = saved.conversations()
    if not listed:
        typer.echo("No saved conversations yet: `assistant chat` saves one as you ask.")
    for c in listed:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(c.updated))
        typer.echo(f"{c.id}  {when}  {c.turns} turn{'s' if c.turns > 1 else ''}  {c.title}")
