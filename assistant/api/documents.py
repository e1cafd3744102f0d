"""``/v1/documents``: upload files into a collection, list what it holds, remove one.

Uploads are saved as the page saves them (same formats, same size limit, one folder
per collection) and ingested with ``Assistant.ingest``, under the store's ingest lock;
listing and removal are ``Assistant.sources`` and ``Assistant.remove``. A document's
``id`` is a hash of its path, so a URL never carries a path of the server.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Query, UploadFile
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from assistant.api.errors import ERRORS, ApiError
from assistant.api.service import Shared
from assistant.core.types import StoredDocument
from assistant.ingest.loaders import SUPPORTED_SUFFIXES
from assistant.ingest.uploads import save_uploads

router = APIRouter(prefix="/v1/documents", tags=["documents"])
SEED = "000_46f147bf0e9866ff.txt"


Collection = Annotated[
    str | None, Query(description="Collection (default: the ASSISTANT_COLLECTION setting).")
]


class Document(BaseModel):
    """One document of a collection."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "3f9a0c1d2e4b5a69",
                    "path": f"/srv/docs/{SEED}",
                    "format": "txt",
                    "chunks": 11,
                    "pages": None,
                    "size_bytes": 4712,
                    "ingested_at": "2026-11-28T09:00:00+00:00",
                    "present": True,
                    "legacy": False,
                }
            ]
        }
    )
    id: str = Field(description="Use it in DELETE /v1/documents/{id}.")
    path: str
    format: str
    chunks: int
    pages: int | None
    size_bytes: int | None
    ingested_at: str | None
    present: bool
    legacy: bool

    @classmethod
    def of(cls, doc: StoredDocument) -> Document:
        return cls(id=doc_id(doc.path), **doc.to_dict())


class DocumentList(BaseModel):
    object: str = "list"
    collection: str
    data: list[Document]


class Skipped(BaseModel):
    name: str
    reason: str


class Uploaded(BaseModel):
    """What an upload did: the files kept and skipped, and the ingest's counts."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "collection": "seeds",
                    "saved": ["notes.md"],
                    "skipped": [{"name": "photo.png", "reason": "not a .txt, .md, .pdf file"}],
                    "files_new": 1,
                    "files_changed": 0,
                    "files_unchanged": 0,
                    "chunks_added": 3,
                    "chunks_total": 14,
                }
            ]
        }
    )
    collection: str
    saved: list[str]
    skipped: list[Skipped]
    files_new: int
    files_changed: int
    files_unchanged: int
    chunks_added: int
    chunks_total: int


class Removed(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "3f9a0c1d2e4b5a69",
                    "collection": "seeds",
                    "files_removed": 1,
                    "chunks_removed": 11,
                }
            ]
        }
    )
    id: str
    collection: str
    files_removed: int
    chunks_removed: int


def doc_id(path: str) -> str:
    """A document's id in URLs: the start of its path's sha256."""
    return hashlib.sha256(path.encode()).hexdigest()[:16]


@router.get("", response_model=DocumentList, responses=ERRORS)
async def list_documents(svc: Shared, collection: Collection = None) -> DocumentList:
    """The documents of a collection, with format, size, chunks and whether the file is there."""
    name = collection or svc.settings.collection
    library = await run_in_threadpool(svc.library, name)
    docs = await run_in_threadpool(library.sources)
    return DocumentList(collection=name, data=[Document.of(d) for d in docs])


@router.post("", response_model=Uploaded, responses=ERRORS)
async def upload(
    svc: Shared,
    files: Annotated[list[UploadFile], Form(description=f"{', '.join(SUPPORTED_SUFFIXES)} files")],
    collection: Annotated[str | None, Form()] = None,
) -> Uploaded:
    """Save the files into a collection (made if new) and index them, as `assistant ingest`."""
    name = collection or svc.settings.collection
    library = await run_in_threadpool(svc.library, name, True)
    contents = [(f.filename or "upload", await f.read()) for f in files]
    saved = await run_in_threadpool(save_uploads, svc.settings, contents, name)
    skipped = [Skipped(name=n, reason=r) for n, r in saved.skipped]
    if not saved.paths:
        too_large = any(r.startswith("larger") for _, r in saved.skipped)
        reasons = "; ".join(f"{s.name}: {s.reason}" for s in skipped)
        raise ApiError(413 if too_large else 400, f"Nothing to ingest: {reasons}.",
                       "file_too_large" if too_large else "unsupported_file", "files")  # fmt: skip
    report = await run_in_threadpool(library.ingest, saved.paths)
    return Uploaded(
        collection=name, saved=[p.name for p in saved.paths], skipped=skipped,
        files_new=report.files_new, files_changed=report.files_changed,
        files_unchanged=report.files_unchanged, chunks_added=report.chunks_added,
        chunks_total=report.chunks_total,
    )  # fmt: skip


@router.delete("/{ident}", response_model=Removed, responses=ERRORS)
async def remove(ident: str, svc: Shared, collection: Collection = None) -> Removed:
    """Remove a document's chunks from the collection (its file is left where it is)."""
    name = collection or svc.settings.collection
    library = await run_in_threadpool(svc.library, name)
    docs = await run_in_threadpool(library.sources)
    found = [d for d in docs if doc_id(d.path) == ident]
    if not found:
        raise ApiError(404, f"No document '{ident}' in collection '{name}': GET "
                       "/v1/documents lists them.", "document_not_found", "id")  # fmt: skip
    report = await run_in_threadpool(library.remove, [Path(found[0].path)])
    return Removed(
        id=ident, collection=name, files_removed=report.files_removed,
        chunks_removed=report.chunks_removed,
    )  # fmt: skip
