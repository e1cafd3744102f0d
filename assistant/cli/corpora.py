"""The collections and what they hold: `ingest`, `stats`, `sources`, `remove`, `collections`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from assistant.cli.common import CollectionOption, app, library_for, load_settings, print_error
from assistant.core.errors import NoCollectionError
from assistant.ingest.loaders import SUPPORTED_SUFFIXES
from assistant.ingest.removal import drop
from assistant.store.corpus import Corpus

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

    from assistant.core.types import StoredDocument
    from assistant.ingest.indexing import IngestReport


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
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the report, with each stage's seconds, as JSON.")
    ] = False,
) -> None:
    """Add, update or remove the chunks of the documents under PATHS (incremental)."""
    library = library_for(collection)
    with ingest_progress() as progress:
        task = progress.add_task("Indexing", total=None)
        report = library.ingest(
            paths,
            rebuild,
            lambda done, total: progress.update(task, completed=done, total=total),
            dry_run,
        )
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2))
        return
    if dry_run:
        _show_dry_run(report, library.corpus.name)
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
    if report.vectors_added:
        typer.echo(
            f"stored the sentence vectors of {report.vectors_added} chunks ingested by an "
            "earlier version: their answers no longer embed them"
        )
    typer.echo(
        f"files: {report.files_new} new, {report.files_changed} updated, "
        f"{report.files_unchanged} unchanged, {report.files_deleted} deleted\n"
        f"chunks: {report.chunks_added} added, {report.chunks_unchanged} unchanged, "
        f"{report.chunks_deleted} deleted; {report.chunks_total} in collection "
        f"'{library.corpus.name}'"
    )


def ingest_progress(console: Console | None = None) -> Progress:
    """The ingest's progress bar (on a terminal only): chunks done, chunks/s and time left."""
    from rich.progress import BarColumn, Progress, ProgressColumn, Task, TextColumn
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task: Task) -> Text:
            return Text(rate_text(int(task.completed), task.total, task.speed))

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        Rate(),
        console=console,
        transient=True,
        disable=console is None and not sys.stderr.isatty(),
    )


def rate_text(done: int, total: float | None, per_second: float | None) -> str:
    """``1,200/10,158 chunks, 41.3 chunks/s, ETA 3:37``; rate and ETA once they are known."""
    text = f"{done:,}/{total:,.0f} chunks" if total else f"{done:,} chunks"
    if not per_second:
        return text
    text += f", {per_second:.1f} chunks/s"
    if total:
        minutes, seconds = divmod(round(max(total - done, 0) / per_second), 60)
        text += f", ETA {minutes}:{seconds:02d}"
    return text


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
    if report.vectors_added:
        typer.echo(
            f"would store the sentence vectors of the chunks an earlier version ingested "
            f"({report.vectors_added} in the collection now)"
        )
    typer.echo(
        f"files: {report.files_new} to add, {report.files_changed} to update, "
        f"{report.files_unchanged} unchanged, {report.files_deleted} to delete\n"
        f"chunks: {report.chunks_added} to add, {report.chunks_unchanged} unchanged, "
        f"{report.chunks_deleted} to delete; {report.chunks_total} in collection "
        f"'{collection}' after\n"
        "dry run: nothing was changed"
    )


@app.command()
def stats(
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
    collection: CollectionOption = None,
) -> None:
    """Show where the store is, what it holds and which models are in use."""
    info = library_for(collection).stats()
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
    library = library_for(collection)
    listed = library.sources()
    if as_json:
        typer.echo(json.dumps([doc.to_dict() for doc in listed], indent=2))
        return
    if not listed:
        typer.echo(f"No documents in collection '{library.corpus.name}'.")
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
    library = library_for(collection)
    report = library.remove(paths)
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2))
    if report.not_found:
        print_error(
            f"not in collection '{library.corpus.name}': {', '.join(report.not_found)}; "
            "nothing was removed (`assistant sources` lists what it holds).",
            1,
        )
    if not as_json:
        for file in report.removed:
            typer.echo(f"removed {file}")
        typer.echo(
            f"{_count(report.files_removed, 'file')} and {_count(report.chunks_removed, 'chunk')} "
            f"removed from collection '{library.corpus.name}'"
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
    settings = load_settings()
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
