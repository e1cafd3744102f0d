"""Load document files and cut them into chunks with exact offsets, each by its format.

Reading each file type is ``loaders``' job; here files are found, skipped with a
reason when they cannot be used, and handed to their corpus format
(``assistant.text.formats``), which cuts them into chunks. Each chunk becomes a
LangChain document carrying its provenance.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from langchain_core.documents import Document

from assistant.core.errors import NoDocumentsError
from assistant.core.types import SourceFile
from assistant.ingest.loaders import SUPPORTED_SUFFIXES, Unreadable, load
from assistant.text.formats import format_of


@dataclass
class LoadReport:
    """What loading found: the files read and the ones skipped, with the reason."""

    files: list[SourceFile] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def _candidates(path: Path) -> Iterator[tuple[Path, Path]]:
    """(root, file) pairs under ``path``; a single file is its own folder's member."""
    if path.is_file():
        yield path.parent, path
        return
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        if not any(part.startswith(".") for part in file.relative_to(path).parts):
            yield path, file


def identity(path: Path) -> str:
    """The doc_id of the file ``path``, or what the doc_ids under the folder ``path`` start with."""
    resolved = path.resolve() if path.is_dir() else path.parent.resolve() / path.name
    return resolved.as_posix()


def load_paths(paths: Iterable[Path], max_file_mb: float) -> LoadReport:
    """Read every supported file under ``paths``; each file that cannot be used is reported."""
    paths, report = list(paths), LoadReport()
    for root, file, whole_folder in candidates(paths):
        try:
            report.files.append(read(root, file, whole_folder, max_file_mb))
        except Unreadable as exc:
            report.skipped.append((str(file), str(exc)))
    if not report.files:
        raise NoDocumentsError(nothing_found(paths, report.skipped))
    return report


def candidates(paths: Iterable[Path]) -> Iterator[tuple[Path, Path, bool]]:
    """(root, file, whether root is a folder named) of every file under ``paths``, in order.

    Raises NoDocumentsError, before any file is listed, for a path that does not exist.
    """
    paths = list(paths)
    for path in paths:
        if not path.exists():
            raise NoDocumentsError(f"{path}: no such file or folder.")
    for path in paths:
        for root, file in _candidates(path):
            yield root, file, path.is_dir()


def read(root: Path, file: Path, whole_folder: bool, max_file_mb: float) -> SourceFile:
    """The file ``file`` under ``root`` with its provenance, or ``Unreadable`` saying why not."""
    loaded = load(file, max_file_mb)
    rel = file.relative_to(root).as_posix()
    # A file is known by its resolved absolute path: two folders that share a
    # name are two sets of files, and a folder moved elsewhere is a new one.
    folder = root.resolve().as_posix()
    return SourceFile(
        rel,
        f"{folder.rstrip('/')}/{rel}",
        loaded.text,
        root=folder,
        whole_folder=whole_folder,
        page_starts=loaded.page_starts,
        size_bytes=file.stat().st_size,
    )


def nothing_found(paths: Iterable[Path], skipped: list[tuple[str, str]]) -> str:
    """The error when no file could be read: what is supported, and why each file was skipped."""
    names = ", ".join(str(p) for p in paths)
    message = f"No readable documents in {names} (supported: {', '.join(SUPPORTED_SUFFIXES)})."
    shown = "; ".join(f"{name}: {why}" for name, why in skipped[:5])
    more = f"; and {len(skipped) - 5} more" if len(skipped) > 5 else ""
    return f"{message} Skipped {shown}{more}." if skipped else message


def chunk_spans(
    text: str,
    chunk_tokens: int = 200,
    overlap: int = 20,
    markdown: bool = False,
    section_starts: tuple[int, ...] = (),
) -> list[tuple[int, int]]:
    """(start, end) spans of the chunks of bare ``text``, cut as ``chunk_file`` would cut it.

    ``section_starts`` are a PDF's page starts: no chunk crosses one.
    """
    doc = SourceFile("text.md" if markdown else "text.txt", "", text, "", False, section_starts)
    return [(chunk.start, chunk.end) for chunk in format_of(doc).split(doc, chunk_tokens, overlap)]


def content_hash(text: str) -> str:
    """Stable short hash of a chunk's text."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def chunk_file(file: SourceFile, chunk_tokens: int = 200, overlap: int = 20) -> list[Document]:
    """The chunks of one file, cut by its format, as LangChain documents with their provenance."""
    docs = []
    for index, chunk in enumerate(format_of(file).split(file, chunk_tokens, overlap)):
        body = file.text[chunk.start : chunk.end]
        # Pages number from 1; page_starts[0] is 0, so bisect counts the pages begun by ``start``.
        page = (
            {"page": bisect.bisect_right(file.page_starts, chunk.start)} if file.page_starts else {}
        )
        # What `assistant sources` lists about the file; Chroma takes no None values.
        facts = {
            "format": Path(file.source).suffix.lstrip(".").lower(),
            **({"size_bytes": file.size_bytes} if file.size_bytes is not None else {}),
            **({"page_count": len(file.page_starts)} if file.page_starts else {}),
        }
        docs.append(
            Document(
                page_content=body,
                metadata={
                    "source": file.source,
                    "doc_id": file.doc_id,
                    "line_start": chunk.line_start,
                    "line_end": chunk.line_end,
                    "start": chunk.start,
                    "end": chunk.end,
                    "chunk_index": index,
                    "title": chunk.title,
                    "content_hash": content_hash(body),
                    **page,
                    **facts,
                },
            )
        )
    return docs
