"""Read a document file into plain text: one reader per format, picked by the file's suffix.

A reader returns the text (and, for a PDF, where each page starts in it) or
raises ``Unreadable`` with a reason the ingest report shows the user. Nothing
here chunks or embeds; ``documents.load_paths`` calls ``load`` for every file.
"""

from __future__ import annotations

import codecs
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from docx.table import Table

# A byte order mark settles the encoding; UTF-32's marks begin with UTF-16's, so they come first.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Compound-file magic: what a password-protected DOCX (or an old .doc) starts with instead of a zip.
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HTML_DROPPED = ["script", "style", "noscript", "template", "nav", "footer", "aside", "form"]
_HTML_BLOCKS = [
    "address", "article", "blockquote", "dd", "div", "dl", "dt", "figcaption", "figure",
    "h1", "h2", "h3", "h4", "h5", "h6", "li", "main", "ol", "p", "pre", "section", "table",
    "tr", "ul",
]  # fmt: skip


class Unreadable(Exception):
    """A file that cannot be ingested; the message says why, for the ingest report."""


@dataclass(frozen=True)
class Loaded:
    """A file's text; for a PDF, the offset in ``text`` where each page starts (page 1 first)."""

    text: str
    page_starts: tuple[int, ...] = ()


def decode_text(data: bytes) -> str:
    """Bytes of a text file as text: BOM, then UTF-8, then the most likely legacy encoding."""
    from charset_normalizer import from_bytes

    codec = _bom_codec(data)
    if codec:
        return _newlines(_decode(data, codec))
    _refuse_binary(data)
    try:
        return _newlines(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    # Windows-1252 first, as browsers do for unlabelled legacy text: on a short
    # Western text ("Café", "Müller") the open guess often picks a code page that
    # decodes the same bytes into other letters. The mess check still rejects a
    # cp1252 reading of Cyrillic, Greek or Polish, and then the open guess runs.
    match = from_bytes(data, cp_isolation=["cp1252"]).best() or from_bytes(data).best()
    if match is None:
        raise Unreadable("not text (not UTF-8, and no other encoding fits with confidence)")
    return _newlines(str(match))


def _bom_codec(data: bytes) -> str | None:
    return next((codec for bom, codec in _BOMS if data.startswith(bom)), None)


def _refuse_binary(data: bytes) -> None:
    # Text without a byte order mark never holds NUL; images, executables and archives do.
    if b"\x00" in data and not _bom_codec(data):
        raise Unreadable("binary file (NUL bytes)")


def _decode(data: bytes, codec: str) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        raise Unreadable(f"invalid {exc.encoding.upper()} text") from None


def _newlines(text: str) -> str:
    # The same universal-newline reading as open(): offsets and hashes stay as before.
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_text(path: Path) -> Loaded:
    """A plain-text or Markdown file."""
    return Loaded(decode_text(path.read_bytes()))


def read_pdf(path: Path) -> Loaded:
    """The text layer of a PDF, page by page; pages are separated by a blank line."""
    from pypdf.errors import DependencyError, FileNotDecryptedError

    try:
        pages = [_newlines(text) for text in _pdf_pages(path)]
    except FileNotDecryptedError:
        raise Unreadable("encrypted PDF (needs a password)") from None
    except DependencyError as exc:  # AES encryption needs pypdf's optional `cryptography`
        raise Unreadable(f"encrypted PDF that cannot be opened here ({exc})") from None
    except Exception as exc:  # pypdf raises many types on malformed files; all mean "unreadable"
        raise Unreadable(f"corrupt or unreadable PDF ({exc})") from None
    if not any(p.strip() for p in pages):
        raise Unreadable("no extractable text in the PDF (scanned pages are images)")
    starts, pos = [], 0
    for page in pages:
        starts.append(pos)
        pos += len(page) + 2
    return Loaded("\n\n".join(pages), tuple(starts))


def _pdf_pages(path: Path) -> list[str]:
    from pypdf import PdfReader

    # pypdf logs each malformation it works around; the file is either read or
    # skipped with a reason, so those lines would only clutter the ingest output.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    reader = PdfReader(path)
    if reader.is_encrypted:
        # Many encrypted PDFs only restrict printing and open with an empty password;
        # the others raise FileNotDecryptedError when their text is read.
        reader.decrypt("")
    return [page.extract_text() or "" for page in reader.pages]


def read_docx(path: Path) -> Loaded:
    """A Word document's paragraphs and tables, in order, separated by blank lines."""
    import docx
    from docx.table import Table

    try:
        document = docx.Document(str(path))
        blocks = [
            _table_text(item) if isinstance(item, Table) else item.text
            for item in document.iter_inner_content()
        ]
    except Exception:  # a zip or XML error anywhere in the package
        with path.open("rb") as f:
            if f.read(len(_OLE_MAGIC)) == _OLE_MAGIC:
                raise Unreadable("password-protected DOCX, or an old .doc") from None
        raise Unreadable("corrupt or unreadable DOCX (not a valid Word file)") from None
    return Loaded("\n\n".join(b.strip() for b in blocks if b.strip()))


def _table_text(table: Table) -> str:
    rows = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = " ".join(cell.text.split())
            if text and (not cells or cells[-1] != text):  # a merged cell repeats in each column
                cells.append(text)
        if cells:
            rows.append(" | ".join(cells))
    return "\n".join(rows)


def read_html(path: Path) -> Loaded:
    """The main text of a web page: <main> or <article> when present, without page furniture."""
    from bs4 import BeautifulSoup

    data = path.read_bytes()
    _refuse_binary(data)
    soup = BeautifulSoup(data, "html.parser")  # finds the charset itself (BOM, <meta>, guess)
    for tag in soup.find_all(_HTML_DROPPED):
        tag.decompose()
    for tag in soup.find_all("header"):
        if not tag.find_parent(["main", "article"]):  # an article's own header holds its title
            tag.decompose()
    root = soup.find("main") or soup.find("article") or soup.body or soup
    for tag in root.find_all(_HTML_BLOCKS):
        tag.insert_before("\n\n")
        tag.insert_after("\n\n")
    for tag in root.find_all(["br", "td", "th"]):
        tag.insert_after(" ")
    paragraphs = (" ".join(p.split()) for p in re.split(r"\n\s*\n", root.get_text()))
    return Loaded("\n\n".join(p for p in paragraphs if p))


READERS: dict[str, Callable[[Path], Loaded]] = {
    ".txt": read_text,
    ".md": read_text,
    ".pdf": read_pdf,
    ".docx": read_docx,
    ".html": read_html,
    ".htm": read_html,
}
SUPPORTED_SUFFIXES = tuple(READERS)


def load(path: Path, max_file_mb: float) -> Loaded:
    """The text of the file at ``path``, or ``Unreadable`` saying why it cannot be ingested."""
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise Unreadable(f"unsupported file type ({path.suffix or 'no extension'})")
    try:
        size = path.stat().st_size
        if size > max_file_mb * 1024 * 1024:
            raise Unreadable(f"larger than the {max_file_mb:g} MB limit (ASSISTANT_MAX_FILE_MB)")
        if size == 0:
            raise Unreadable("empty file")
        loaded = reader(path)
    except OSError as exc:
        raise Unreadable(f"cannot be read ({exc.strerror or exc})") from None
    if not loaded.text.strip():
        raise Unreadable("no text (only whitespace or markup)")
    return loaded
