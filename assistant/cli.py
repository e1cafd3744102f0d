"""The `assistant` command: ingest documents, ask, chat, and inspect the store."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from assistant.errors import AssistantError, UsageError

if TYPE_CHECKING:
    from assistant.answer.base import Answer
    from assistant.config import Settings
    from assistant.pipeline import Assistant

app = typer.Typer(
    help="Ask questions of your own documents and get answers that cite the passages "
    "they rest on.\n\n"
    'Start with `assistant ingest seeds/`, then `assistant ask "..."`. Settings are '
    "ASSISTANT_* environment variables (or a .env file); see the README.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _settings() -> Settings:
    from pydantic import ValidationError

    from assistant.config import Settings

    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"ASSISTANT_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors()
        )
        raise UsageError(f"invalid setting: {problems}") from None


def _assistant(k: int | None = None) -> Assistant:
    from assistant.pipeline import Assistant

    settings = _settings()
    if k is not None:
        settings.k = k
    return Assistant(settings)


def main() -> None:
    """Entry point: run the app, turning errors into one clear line unless debugging."""
    try:
        app()
    except AssistantError as exc:
        if _debug():
            raise
        _print_error(str(exc), exc.exit_code)
    except Exception as exc:  # the last edge: no traceback unless debugging
        if _debug():
            raise
        _print_error(f"{type(exc).__name__}: {exc} (set ASSISTANT_DEBUG=1 for details)", 1)


def _debug() -> bool:
    try:
        return _settings().debug
    except AssistantError:
        return False


def _print_error(message: str, code: int) -> NoReturn:
    typer.secho(f"error: {message}", err=True, fg="red")
    sys.exit(code)


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders of .txt / .md documents.")],
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Drop the collection and index everything afresh.")
    ] = False,
) -> None:
    """Add, update or remove the chunks of the documents under PATHS (incremental)."""
    from rich.progress import Progress

    assistant = _assistant()
    with Progress(transient=True, disable=not sys.stderr.isatty()) as progress:
        task = progress.add_task("Indexing", total=None)
        report = assistant.ingest(
            paths, rebuild, lambda done, total: progress.update(task, completed=done, total=total)
        )
    for name, reason in report.skipped:
        typer.secho(f"skipped {name}: {reason}", err=True, fg="yellow")
    typer.echo(
        f"files: {report.files_new} new, {report.files_changed} updated, "
        f"{report.files_unchanged} unchanged\n"
        f"chunks: {report.chunks_added} added, {report.chunks_unchanged} unchanged, "
        f"{report.chunks_deleted} deleted; {report.chunks_total} in collection "
        f"'{assistant.settings.collection}'"
    )


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in quotes.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the answer object as JSON.")
    ] = False,
    k: Annotated[int | None, typer.Option("-k", min=1, max=50, help="Chunks to retrieve.")] = None,
) -> None:
    """Answer QUESTION from the ingested documents, citing the passages used."""
    answer = _assistant(k).ask(question)
    if as_json:
        typer.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        _show(answer)


def _show(answer: Answer) -> None:
    typer.echo(answer.answer)
    if answer.sources:
        typer.echo("\nSources:")
    for src in answer.sources:
        first, last = src.lines
        where = f"line {first}" if first == last else f"lines {first}-{last}"
        typer.echo(f"[{src.n}] {src.source}, {where}: {src.quote}")


@app.command()
def chat(
    k: Annotated[int | None, typer.Option("-k", min=1, max=50, help="Chunks to retrieve.")] = None,
) -> None:
    """Ask question after question in the terminal (Ctrl-D or an empty line to leave)."""
    assistant = _assistant(k)
    typer.echo("Ask about your documents. An empty line or Ctrl-D ends the chat.")
    while True:
        try:
            question = input("\n> ").strip()
        except EOFError:
            break
        if not question:
            break
        try:
            _show(assistant.ask(question))
        except AssistantError as exc:
            typer.secho(f"error: {exc}", err=True, fg="red")


@app.command()
def stats(
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Show where the store is, what it holds and which models are in use."""
    info = _assistant().stats()
    if as_json:
        typer.echo(json.dumps(info, indent=2))
        return
    for key, value in info.items():
        typer.echo(f"{key.replace('_', ' ')}: {value}")


@app.command()
def setup() -> None:
    """Check the offline model files and unpack tiktoken's encodings (run by `make install`)."""
    from assistant.embeddings import MiniLMEmbeddings, model_files
    from assistant.tokens import count_tokens, install_encodings, use_offline_encodings

    settings = _settings()
    folder = install_encodings(settings.cache_dir)
    use_offline_encodings(settings.cache_dir)
    onnx, tokenizer = model_files()
    MiniLMEmbeddings().embed_query("ready")
    count_tokens("ready", "o200k_base")
    typer.echo(f"tiktoken encodings: {folder}\nembedding model: {onnx}\ntokenizer: {tokenizer}")
