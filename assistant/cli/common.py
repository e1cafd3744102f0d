"""The `assistant` command's frame: the Typer app, what its commands share, errors as a line."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from assistant.core.config import Settings
from assistant.core.errors import AssistantError
from assistant.pool import Pool

if TYPE_CHECKING:
    from assistant.library import Library
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


def load_settings() -> Settings:
    """The settings, from ASSISTANT_* variables and .env (a bad value is one clear line)."""
    return Settings.load()


def open_pool(settings: Settings) -> Pool:
    """The collections of a command, each opened on first use (the tests give it their
    embedder: ``tests/conftest.py``, ``invoke``)."""
    return Pool(settings)


def pool_for(k: int | None = None) -> Pool:
    """The collections of the configured store, retrieving ``k`` chunks (default: the setting)."""
    settings = load_settings()
    if k is not None:
        settings = settings.model_copy(update={"k": k})
    return open_pool(settings)


def assistant_for(k: int | None = None, collection: str | None = None) -> Assistant:
    """The asking pipeline of ``collection`` (default: the setting), retrieving ``k`` chunks."""
    return pool_for(k).assistant(collection)


def library_for(collection: str | None = None) -> Library:
    """The library of ``collection`` (default: the setting)."""
    return pool_for().library(collection)


def main(args: Sequence[str] | None = None, prog_name: str | None = None) -> None:
    """Entry point: run the app on ``args`` (default: the command line), turning errors
    into one clear line unless debugging."""
    try:
        app(args=args, prog_name=prog_name)
    except AssistantError as exc:
        if _debug():
            raise
        print_error(str(exc), exc.exit_code)
    except Exception as exc:  # the last edge: no traceback unless debugging
        if _debug():
            raise
        print_error(f"{type(exc).__name__}: {exc} (set ASSISTANT_DEBUG=1 for details)", 1)


def _debug() -> bool:
    try:
        return load_settings().debug
    except AssistantError:
        return False


def print_error(message: str, code: int) -> NoReturn:
    """``error: message`` in red on stderr, then exit with ``code``."""
    typer.secho(f"error: {message}", err=True, fg="red")
    sys.exit(code)
