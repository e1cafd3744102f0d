"""The `assistant` command: ingest documents, ask, chat, and inspect the store."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from assistant.config import Settings
from assistant.corpus import Corpus
from assistant.embeddings import MiniLMEmbeddings, model_files
from assistant.errors import AssistantError, NoCollectionError
from assistant.evaluation import dataset as questions
from assistant.evaluation import report, runner, summary
from assistant.evaluation.judge import judge_for
from assistant.history import History, history_of, new_id
from assistant.ingest import drop
from assistant.loaders import SUPPORTED_SUFFIXES
from assistant.pipeline import Assistant
from assistant.tokens import count_tokens, install_encodings, use_offline_encodings
from assistant.types import Turn

if TYPE_CHECKING:
    from assistant.ingest import IngestReport
    from assistant.types import Answer, StoredDocument

app = typer.Typer(
    help="Ask questions of your own documents and get answers that cite the passages "
    "they rest on.\n\n"
    'Start with `assistant ingest seeds/`, then `assistant ask "..."`. Settings are '
    "ASSISTANT_* environment variables (or a .env file); see the README.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


# The option of every command that works on one collection: `--collection NAME`.
CollectionOption = Annotated[
    str | None,
    typer.Option(
        "--collection",
        "-c",
        metavar="NAME",
        help="Collection to use (default: the ASSISTANT_COLLECTION setting, 'seeds').",
    ),
]


def _settings() -> Settings:
    return Settings.load()


def _assistant(k: int | None = None, collection: str | None = None) -> Assistant:
    settings = _settings()
    if k is not None:
        settings = settings.model_copy(update={"k": k})
    return Assistant(settings, corpus=Corpus.open(settings, collection))


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
    paths: Annotated[
        list[Path],
        typer.Argument(help=f"Files or folders of documents ({', '.join(SUPPORTED_SUFFIXES)})."),
    ],
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Drop the collection and index everything afresh.")
    ] = False,
    collection: CollectionOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would be added, updated and deleted.")
    ] = False,
) -> None:
    """Add, update or remove the chunks of the documents under PATHS (incremental)."""
    from rich.progress import Progress

    assistant = _assistant(collection=collection)
    with Progress(transient=True, disable=not sys.stderr.isatty()) as progress:
        task = progress.add_task("Indexing", total=None)
        report = assistant.ingest(
            paths,
            rebuild,
            lambda done, total: progress.update(task, completed=done, total=total),
            dry_run,
        )
    if dry_run:
        _show_dry_run(report, assistant.corpus.name)
        return
    for name, reason in report.skipped:
        typer.secho(f"skipped {name}: {reason}", err=True, fg="yellow")
    if report.interrupted or report.orphans_removed or report.records_dropped:
        cause = "after an interrupted ingest" if report.interrupted else "(it was inconsistent)"
        typer.secho(
            f"repaired the store {cause}: {report.orphans_removed} chunks unknown to the "
            f"record manager removed, {report.records_dropped} lost chunks indexed again",
            err=True,
            fg="yellow",
        )
    if report.migrated:
        typer.echo(f"moved {report.migrated} chunks stored under the folder's name to its path")
    typer.echo(
        f"files: {report.files_new} new, {report.files_changed} updated, "
        f"{report.files_unchanged} unchanged, {report.files_deleted} deleted\n"
        f"chunks: {report.chunks_added} added, {report.chunks_unchanged} unchanged, "
        f"{report.chunks_deleted} deleted; {report.chunks_total} in collection "
        f"'{assistant.corpus.name}'"
    )


def _show_dry_run(report: IngestReport, collection: str) -> None:
    """What an ingest would do, file by file, then in totals."""
    for name, reason in report.skipped:
        typer.secho(f"would skip {name}: {reason}", err=True, fg="yellow")
    planned = {"add": report.new, "update": report.changed, "delete": report.deleted}
    for verb, files in planned.items():
        for file in files:
            typer.echo(f"would {verb} {file}")
    if report.migrated:
        moved = report.migrated
        typer.echo(f"would move {moved} chunks stored under the folder's name to its path")
    typer.echo(
        f"files: {report.files_new} to add, {report.files_changed} to update, "
        f"{report.files_unchanged} unchanged, {report.files_deleted} to delete\n"
        f"chunks: {report.chunks_added} to add, {report.chunks_unchanged} unchanged, "
        f"{report.chunks_deleted} to delete; {report.chunks_total} in collection "
        f"'{collection}' after\n"
        "dry run: nothing was changed"
    )


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
    assistant = _assistant(k, collection)
    if as_json:
        answer = assistant.ask(question)
        typer.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        _stream(assistant, question, [], verbose=False)


def _stream(assistant: Assistant, question: str, history: list[Turn], verbose: bool) -> Answer:
    """Print the answer as it is written, then what it rests on."""
    stream = assistant.stream(question, history)
    shown = "".join(_echo(piece) for piece in stream)
    answer = stream.answer
    assert answer is not None
    if answer.answer != shown.strip():  # the checks changed it (e.g. nothing was supported)
        typer.echo(f"\n\n{answer.answer}")
    else:
        typer.echo()
    _explain(answer, verbose)
    return answer


def _echo(piece: str) -> str:
    typer.echo(piece, nl=False)
    sys.stdout.flush()
    return piece


def _explain(answer: Answer, verbose: bool) -> None:
    if verbose and answer.standalone_question != answer.question:
        typer.echo(f"(standalone question: {answer.standalone_question})")
    for sentence in answer.unsupported:
        typer.secho(f"unsupported by the sources: {sentence.text}", fg="yellow")
    if answer.sources:
        typer.echo("\nSources:")
    for src in answer.sources:
        where = src.location
        typer.echo(f"[{src.n}] {src.source}, {where}: {src.quote}")
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
        _list_conversations(History.open(_settings().store_dir))
        return
    assistant = _assistant(k, collection)
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


@app.command()
def stats(
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
    collection: CollectionOption = None,
) -> None:
    """Show where the store is, what it holds and which models are in use."""
    info = _assistant(collection=collection).stats()
    if as_json:
        typer.echo(json.dumps(info, indent=2))
        return
    for key, value in info.items():
        typer.echo(f"{key.replace('_', ' ')}: {value}")


@app.command()
def sources(
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
    collection: CollectionOption = None,
) -> None:
    """List the documents in the collection: path, format, chunks, pages, size, when ingested."""
    assistant = _assistant(collection=collection)
    listed = assistant.sources()
    if as_json:
        typer.echo(json.dumps([doc.to_dict() for doc in listed], indent=2))
        return
    if not listed:
        typer.echo(f"No documents in collection '{assistant.corpus.name}'.")
    for doc in listed:
        typer.echo(_listing(doc))


def _listing(doc: StoredDocument) -> str:
    """One line of `assistant sources`: a fact the store lacks is "unknown"."""
    pages = "" if doc.pages is None else f", {_count(doc.pages, 'page')}"
    size = "size unknown" if doc.size_bytes is None else f"{doc.size_bytes:,} bytes"
    when = f"ingested {doc.ingested_at}" if doc.ingested_at else "ingested at an unknown time"
    if doc.legacy:
        state = "  (stored under its folder's name: ingest the folder again to record its path)"
    else:
        state = "" if doc.present else "  (missing: the file is gone or moved)"
    return f"{doc.path}  {doc.format}, {_count(doc.chunks, 'chunk')}{pages}, {size}, {when}{state}"


@app.command()
def remove(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to remove.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
    collection: CollectionOption = None,
) -> None:
    """Remove the documents at PATHS (a folder: every document under it) from the collection."""
    assistant = _assistant(collection=collection)
    report = assistant.remove(paths)
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2))
    if report.not_found:
        _print_error(
            f"not in collection '{assistant.corpus.name}': {', '.join(report.not_found)}; "
            "nothing was removed (`assistant sources` lists what it holds).",
            1,
        )
    if not as_json:
        for file in report.removed:
            typer.echo(f"removed {file}")
        typer.echo(
            f"{_count(report.files_removed, 'file')} and {_count(report.chunks_removed, 'chunk')} "
            f"removed from collection '{assistant.corpus.name}'"
        )


@app.command()
def collections(
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
    delete: Annotated[
        str | None,
        typer.Option(metavar="NAME", help="Delete collection NAME, after asking to confirm."),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Delete without asking.")] = False,
) -> None:
    """List the store's collections with their documents, chunks and embedding model."""
    settings = _settings()
    if delete is not None:
        _delete_collection(Corpus.open(settings, delete), yes)
        return
    rows = [{"name": c.name, **c.stats()} for c in Corpus.every(settings)]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo("No collections yet: `assistant ingest PATH --collection NAME` makes one.")
    for row in rows:
        mark = " (default)" if row["name"] == settings.collection else ""
        typer.echo(
            f"{row['name']}{mark}: {_count(row['documents'], 'document')}, "
            f"{_count(row['chunks'], 'chunk')}, {row['embedding_model']}"
        )


def _delete_collection(corpus: Corpus, yes: bool) -> None:
    """Delete ``corpus`` once the user agrees (or said ``--yes``); a "no" keeps it (exit 1)."""
    if not corpus.exists():
        raise NoCollectionError(corpus.name, corpus.location)
    stats = corpus.stats()
    question = (
        f"Delete collection '{corpus.name}' ({_count(stats['documents'], 'document')}, "
        f"{_count(stats['chunks'], 'chunk')}) from {corpus.location}? This cannot be undone."
    )
    try:
        agreed = yes or typer.confirm(question, default=False)
    except typer.Abort:  # end of input: no answer is a "no"
        agreed = False
    if not agreed:
        typer.echo(f"Kept collection '{corpus.name}'.")
        raise typer.Exit(1)
    drop(corpus)
    typer.echo(f"Deleted collection '{corpus.name}' with its record manager and BM25 index.")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to bind (default: ASSISTANT_API_HOST, 127.0.0.1).")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port (default: ASSISTANT_API_PORT, 8400).")
    ] = None,
) -> None:
    """Serve the OpenAI-compatible HTTP API (chat with citations, documents); see /docs."""
    from assistant.api.server import serve as run  # FastAPI and uvicorn load only here

    settings = _settings()
    changes = {"api_host": host, "api_port": port}
    run(settings.model_copy(update={k: v for k, v in changes.items() if v is not None}))


@app.command()
def setup() -> None:
    """Check the offline model files and unpack tiktoken's encodings (run by `make install`)."""

    settings = _settings()
    folder = install_encodings(settings.cache_dir)
    use_offline_encodings(settings.cache_dir)
    onnx, tokenizer = model_files()
    MiniLMEmbeddings().embed_query("ready")
    count_tokens("ready", "o200k_base")
    typer.echo(f"tiktoken encodings: {folder}\nembedding model: {onnx}\ntokenizer: {tokenizer}")


@app.command("eval")
def evaluate(
    dataset: Annotated[Path, typer.Argument(help="Question set, JSON Lines (see the README).")],
    docs: Annotated[
        Path | None,
        typer.Option(
            help="Ingest this folder into a collection of its own (named from its path) and ask it."
        ),
    ] = None,
    backend: Annotated[
        str | None, typer.Option(help="Answer backend: auto, extractive, openai or local.")
    ] = None,
    k: Annotated[int | None, typer.Option("-k", min=1, max=50, help="Chunks to retrieve.")] = None,
    out: Annotated[Path, typer.Option(help="Folder for the report files.")] = Path("eval-out"),
    minimum: Annotated[
        list[str] | None,
        typer.Option("--min", metavar="METRIC=VALUE", help="Fail unless METRIC >= VALUE."),
    ] = None,
    maximum: Annotated[
        list[str] | None,
        typer.Option("--max", metavar="METRIC=VALUE", help="Fail unless METRIC <= VALUE."),
    ] = None,
    compare: Annotated[
        Path | None, typer.Option(metavar="PREVIOUS.json", help="Show changes since a report.")
    ] = None,
    judge: Annotated[
        bool, typer.Option("--judge", help="Also grade answers with the LLM backend (judged).")
    ] = False,
    collection: CollectionOption = None,
) -> None:
    """Run the questions of DATASET and report retrieval, answers, refusals and citations."""
    from rich.console import Console
    from rich.progress import Progress

    settings = _settings()
    if backend:
        settings = settings.model_copy(update={"backend": backend})
    k = k or settings.k
    floors, ceilings = summary.thresholds(minimum, k), summary.thresholds(maximum, k)
    previous = report.load_previous(compare) if compare else None
    items = questions.load(dataset)
    assistant, ingested = runner.prepare(settings, docs, collection=collection)
    if ingested:
        typer.echo(
            f"{docs}: collection '{assistant.corpus.name}', chunks "
            f"{ingested.chunks_added} added, {ingested.chunks_unchanged} unchanged, "
            f"{ingested.chunks_deleted} deleted"
        )
    grader = judge_for(assistant.backend) if judge else None
    with Progress(transient=True, disable=not sys.stderr.isatty()) as progress:
        task = progress.add_task("Asking", total=len(items))
        result = runner.evaluate(
            assistant, items, k, dataset, lambda n, _: progress.update(task, completed=n), grader
        )
    if previous is not None:
        result["compare"] = {
            "against": str(compare),
            "deltas": summary.deltas(result["metrics"], previous),
        }
    paths = report.write_all(result, out)
    report.show(result, Console())
    typer.echo("written: " + ", ".join(str(p) for p in paths.values()))
    misses = summary.missed(result["metrics"], floors, ceilings, k)
    for miss in misses:
        typer.secho(f"threshold missed: {miss}", err=True, fg="red")
    if misses:
        raise typer.Exit(1)
