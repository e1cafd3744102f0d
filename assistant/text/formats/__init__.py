"""Corpus formats, the plug-ins of the chunker: how each kind of document is cut into chunks.

A format says whether it recognises a loaded document (``detect``) and cuts it
into chunks with their offsets, lines and title (``split``). The first
registered format that recognises a document cuts it; every other document is
cut by ``plain``, the structure-aware default. A new format is one module and
one ``register`` line at the end of this file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from assistant.text.formats.base import FORMATS, ChunkFormat, heading_label, headings, labels
from assistant.text.formats.plain import PlainFormat
from assistant.text.formats.stories import StoryFormat

if TYPE_CHECKING:
    from assistant.core.types import SourceFile

__all__ = [
    "FORMATS", "PLAIN", "ChunkFormat", "format_of", "heading_label", "headings", "labels",
    "register",
]  # fmt: skip

PLAIN = PlainFormat()  # no headings or labels: the registry holds the others


def register(fmt: ChunkFormat) -> None:
    """Recognise documents in ``fmt`` from now on (it replaces a format of the same name)."""
    FORMATS[fmt.name] = fmt


def format_of(doc: SourceFile) -> ChunkFormat:
    """The first registered format that recognises ``doc``, else ``PLAIN``."""
    return next((fmt for fmt in FORMATS.values() if fmt.detect(doc)), PLAIN)


register(StoryFormat())
