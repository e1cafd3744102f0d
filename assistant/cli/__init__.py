"""The `assistant` command: ingest documents, ask, chat, evaluate, serve, and inspect the store.

``common.py`` holds the Typer app and what the commands share; each module adds its
commands to it: ``asking.py`` (ask, chat), ``corpora.py`` (ingest, stats, sources,
remove, collections) and ``tools.py`` (setup, serve, eval).
"""

from assistant.cli import asking, corpora, tools
from assistant.cli.common import app, main

__all__ = ["app", "asking", "corpora", "main", "tools"]
