"""Uploaded documents (the page, the HTTP API): checked, saved under the store with safe names."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from assistant.core.config import Settings
from assistant.ingest.loaders import SUPPORTED_SUFFIXES

MAX_NAME = 120


def uploads_dir(settings: Settings, collection: str | None = None) -> Path:
    """Folder where the documents uploaded to ``collection`` (default: the setting) are kept.

    One folder per collection: a file of one name uploaded to two collections is two
    files, so replacing it in one leaves the other's copy as it was indexed.
    """
    return settings.store_dir / "uploads" / (collection or settings.collection)


def safe_filename(name: str) -> str:
    """The file's own name, reduced to word characters, dots, dashes and spaces.

    A browser sends whatever name it likes: folders (``../../x.md``, ``C:\\x.md``)
    are dropped, so are leading dots (no hidden files, no ``..``), and every other
    character becomes ``_``.
    """
    base = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    base = re.sub(r"[^\w.\- ]", "_", base)
    base = re.sub(r"\.{2,}", ".", base).strip(" .")
    stem, dot, suffix = base.rpartition(".")
    if dot and stem:
        base = f"{stem[: MAX_NAME - len(suffix) - 1]}.{suffix}"
    return base[:MAX_NAME] or "upload"


@dataclass
class SavedUploads:
    """Files written to the uploads folder, and the uploads refused with the reason."""

    paths: list[Path] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def save_uploads(
    settings: Settings, files: list[tuple[str, bytes]], collection: str | None = None
) -> SavedUploads:
    """Write each ``(name, content)`` under ``uploads_dir`` when its type and size are accepted.

    A file uploaded again under the same name replaces the earlier one, so the
    next ingest updates its chunks instead of adding a second copy.
    """
    folder = uploads_dir(settings, collection)
    saved = SavedUploads()
    limit = settings.max_file_mb * 1024 * 1024
    for name, content in files:
        safe = safe_filename(name)
        if Path(safe).suffix.lower() not in SUPPORTED_SUFFIXES:
            saved.skipped.append((name, f"not a {', '.join(SUPPORTED_SUFFIXES)} file"))
        elif len(content) > limit:
            saved.skipped.append((name, f"larger than {settings.max_file_mb:g} MB"))
        else:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / safe
            path.write_bytes(content)
            saved.paths.append(path)
    return saved
