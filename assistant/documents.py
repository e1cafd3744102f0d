"""Load document files and split them into structure-aware chunks with exact offsets.

Reading each format is ``loaders``' job; here files are found, skipped with a
reason when they cannot be used, and chunked. A PDF is chunked page by page, so
every chunk lies on one page and records it.

Stories: in a news-summary file (the seed format) each non-empty line is one
story, except that a ``Main Topic:`` line and its ``Key Points:`` lines form one.
Other text is split by LangChain's recursive splitter, paragraphs first, measured
in tiktoken tokens, at ``chunk_tokens`` with a small overlap: all-MiniLM-L6-v2
reads at most 256 word pieces, so a longer chunk would be silently cut.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from langchain_core.documents import Document

from assistant.errors import NoDocumentsError
from assistant.loaders import SUPPORTED_SUFFIXES, Unreadable, load

_MAIN_TOPIC = "Main Topic:"
_CONTINUATION = re.compile(r"^(Key Points:|\d+\.\s)")


@dataclass(frozen=True)
class SourceFile:
    """One readable file: its root-relative path, the id shared by its chunks, and its text.

    ``root`` names the folder it was found in; ``whole_folder`` says whether that
    whole folder was ingested (so files missing from it were deleted).
    ``page_starts`` (PDFs only) holds the offset in ``text`` where each page begins.
    """

    source: str
    doc_id: str
    text: str
    root: str
    whole_folder: bool
    page_starts: tuple[int, ...] = ()


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


def load_paths(paths: Iterable[Path], max_file_mb: float) -> LoadReport:
    """Read every supported file under ``paths``; each file that cannot be used is reported."""
    report = LoadReport()
    for path in paths:
        if not path.exists():
            raise NoDocumentsError(f"{path}: no such file or folder.")
        for root, file in _candidates(path):
            try:
                loaded = load(file, max_file_mb)
            except Unreadable as exc:
                report.skipped.append((str(file), str(exc)))
                continue
            rel = file.relative_to(root).as_posix()
            name = root.resolve().name
            report.files.append(
                SourceFile(
                    rel,
                    f"{name}/{rel}",
                    loaded.text,
                    root=name,
                    whole_folder=path.is_dir(),
                    page_starts=loaded.page_starts,
                )
            )
    if not report.files:
        raise NoDocumentsError(_nothing_found(paths, report.skipped))
    return report


def _nothing_found(paths: Iterable[Path], skipped: list[tuple[str, str]]) -> str:
    """The error when no file could be read: what is supported, and why each file was skipped."""
    names = ", ".join(str(p) for p in paths)
    message = f"No readable documents in {names} (supported: {', '.join(SUPPORTED_SUFFIXES)})."
    shown = "; ".join(f"{name}: {why}" for name, why in skipped[:5])
    more = f"; and {len(skipped) - 5} more" if len(skipped) > 5 else ""
    return f"{message} Skipped {shown}{more}." if skipped else message


def is_story_file(text: str) -> bool:
    """True for the news-summary format: one story per line, ``Main Topic:`` blocks."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if any(ln.startswith(_MAIN_TOPIC) for ln in lines):
        return True
    has_blank_lines = len(lines) < len(text.strip().splitlines())
    return len(lines) >= 2 and not has_blank_lines and sum(map(len, lines)) / len(lines) > 120


def story_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) character spans of the stories of a story file."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for line in text.splitlines(keepends=True):
        start, stripped = pos, line.strip()
        pos += len(line)
        if not stripped:
            continue
        begin = start + len(line) - len(line.lstrip())
        end = begin + len(stripped)
        if spans and _CONTINUATION.match(stripped) and _block_is_topic(text, spans[-1]):
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((begin, end))
    return spans


def _block_is_topic(text: str, span: tuple[int, int]) -> bool:
    return text.startswith(_MAIN_TOPIC, span[0])


def _splitter(chunk_tokens: int, overlap: int, markdown: bool):  # type: ignore[no-untyped-def]
    from langchain_text_splitters import Language, RecursiveCharacterTextSplitter

    separators = (
        RecursiveCharacterTextSplitter.get_separators_for_language(Language.MARKDOWN)
        if markdown
        else ["\n\n", "\n", ". ", " ", ""]
    )
    return RecursiveCharacterTextSplitter.from_tiktoken_encoder(
        encoding_name="cl100k_base",
        chunk_size=chunk_tokens,
        chunk_overlap=overlap,
        separators=separators,
        strip_whitespace=True,
    )


def _split_spans(
    text: str, spans: list[tuple[int, int]], chunk_tokens: int, overlap: int, markdown: bool
) -> list[tuple[int, int]]:
    """Split each span that is over ``chunk_tokens`` with the token-aware splitter."""
    from assistant.tokens import count_tokens

    splitter = None
    out: list[tuple[int, int]] = []
    for start, end in spans:
        if count_tokens(text[start:end]) <= chunk_tokens:
            out.append((start, end))
            continue
        splitter = splitter or _splitter(chunk_tokens, overlap, markdown)
        out += piece_spans(text[start:end], splitter.split_text(text[start:end]), start)
    return out


def piece_spans(text: str, pieces: list[str], base: int = 0) -> list[tuple[int, int]]:
    """Where each split piece sits in ``text``, in order.

    The splitter's own ``add_start_index`` finds a piece by searching near the
    previous one and, when the text repeats, can return the wrong copy. The
    pieces tile the text: each one ends after the previous one and starts no later
    than the first non-space character after it (it may start earlier, inside the
    overlap, which is always the previous piece's tail). The last occurrence that
    fits both is the right one. A piece wholly inside the previous one is dropped.
    """
    spans: list[tuple[int, int]] = []
    prev_start, prev_end = 0, 0
    for piece in pieces:
        gap_end = prev_end + len(text[prev_end:]) - len(text[prev_end:].lstrip())
        best, pos = -1, text.find(piece, prev_start)
        while pos != -1 and pos <= gap_end:
            if pos + len(piece) > prev_end:
                best = pos
            pos = text.find(piece, pos + 1)
        if best == -1:
            continue
        prev_start, prev_end = best, best + len(piece)
        spans.append((base + best, base + prev_end))
    return spans


def chunk_spans(
    text: str,
    chunk_tokens: int = 200,
    overlap: int = 20,
    markdown: bool = False,
    section_starts: tuple[int, ...] = (),
) -> list[tuple[int, int]]:
    """(start, end) spans of the chunks of ``text``, in order; none crosses a section start."""
    if not text.strip():
        return []
    if section_starts:
        ends = [*section_starts[1:], len(text)]
        spans = [_trimmed(text, s, e) for s, e in zip(section_starts, ends, strict=True)]
        spans = [(s, e) for s, e in spans if s < e]
    elif is_story_file(text):
        spans = story_spans(text)
    else:
        spans = [_trimmed(text, 0, len(text))]
    return _split_spans(text, spans, chunk_tokens, overlap, markdown)


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """``(start, end)`` narrowed to leave out leading and trailing whitespace."""
    part = text[start:end]
    return start + len(part) - len(part.lstrip()), start + len(part.rstrip())


def title_of(chunk: str, limit: int = 80) -> str:
    """A short title: the first sentence of the chunk, cut at a word boundary."""
    first = chunk.split("\n", 1)[0].removeprefix(_MAIN_TOPIC).strip().lstrip("#").strip()
    first = re.split(r"(?<=[.!?;])\s", first, maxsplit=1)[0]
    if len(first) <= limit:
        return first
    return first[:limit].rsplit(" ", 1)[0] + "…"


def content_hash(text: str) -> str:
    """Stable short hash of a chunk's text."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def chunk_file(file: SourceFile, chunk_tokens: int = 200, overlap: int = 20) -> list[Document]:
    """The chunks of one file as LangChain documents carrying their provenance."""
    markdown = file.source.lower().endswith(".md")
    spans = chunk_spans(file.text, chunk_tokens, overlap, markdown, file.page_starts)
    docs = []
    for index, (start, end) in enumerate(spans):
        body = file.text[start:end]
        first_line = file.text.count("\n", 0, start) + 1
        # Pages number from 1; page_starts[0] is 0, so bisect counts the pages begun by ``start``.
        page = {"page": bisect.bisect_right(file.page_starts, start)} if file.page_starts else {}
        docs.append(
            Document(
                page_content=body,
                metadata={
                    "source": file.source,
                    "doc_id": file.doc_id,
                    "line_start": first_line,
                    "line_end": first_line + body.count("\n"),
                    "start": start,
                    "end": end,
                    "chunk_index": index,
                    "title": title_of(body),
                    "content_hash": content_hash(body),
                    **page,
                },
            )
        )
    return docs
