"""The Chroma collection: embedded or on a Chroma server, checked against the embedder in use.

The same LangChain ``Chroma`` vector store runs over ``chromadb.PersistentClient``
(the default, in ``store_dir``) or ``chromadb.HttpClient`` (when ``chroma_url`` is
set), so moving a corpus to Chroma's server changes only a setting.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from assistant.config import Settings
from assistant.errors import EmbeddingMismatchError, NothingIndexedError, StoreError

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection
    from langchain_chroma import Chroma
    from langchain_core.embeddings import Embeddings

CHROMA_FILE = "chroma.sqlite3"  # where embedded Chroma keeps collections, ids and metadata
SQLITE_HEADER = b"SQLite format 3\x00"  # the first 16 bytes of every SQLite database file


def open_client(settings: Settings) -> ClientAPI:
    """A Chroma client: HTTP when ``chroma_url`` is set, else persistent in ``store_dir``."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        try:
            return chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        except Exception as exc:  # chromadb raises bare ValueError/ConnectError here
            raise StoreError(
                f"Cannot reach the Chroma server at {settings.chroma_url} ({exc}). "
                "Start it with `make chroma`, or unset ASSISTANT_CHROMA_URL to use the "
                "embedded store."
            ) from exc
    # Checked first: Chroma would silently start a new database over an empty file.
    database = settings.store_dir / CHROMA_FILE
    if problem := sqlite_problem(database):
        raise damaged_store(settings, database, problem)
    try:
        settings.store_dir.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(settings.store_dir), settings=chroma_settings)
    except Exception as exc:
        raise _open_failure(settings, database, exc) from exc


def sqlite_problem(path: Path) -> str | None:
    """Why ``path`` cannot be a usable SQLite database, or None (also when it is absent)."""
    try:
        with path.open("rb") as file:
            head = file.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return None
    except PermissionError:
        return "permission denied"
    except OSError as exc:
        return exc.strerror or str(exc)
    if not head:
        return "the file is empty"
    if head != SQLITE_HEADER:
        return "not an SQLite database"
    return None


def damaged_store(settings: Settings, path: Path, problem: str) -> StoreError:
    """The error for a Chroma database file that is damaged or cannot be read."""
    folder = settings.store_dir
    if "permission" in problem or "unable to open" in problem:
        return StoreError(
            f"Cannot read the vector store file {path} ({problem}). Give your user read and "
            f"write access to {folder}/ (`chmod -R u+rw {folder}`), or set ASSISTANT_STORE_DIR "
            "to another folder."
        )
    return StoreError(
        f"The vector store file {path} is damaged ({problem}); nothing was changed. Restore "
        f"{folder}/ from a backup, or move it aside and ingest your documents again "
        "(`assistant ingest PATH`) to build a new store."
    )


def _open_failure(settings: Settings, database: Path, exc: Exception) -> StoreError:
    """The error for a store Chroma could not open, with the way out for its cause."""
    text = str(exc)
    folder = settings.store_dir
    if "readonly" in text or "read-only" in text:
        return StoreError(
            f"The vector store in {folder}/ is read-only ({text}); Chroma needs to write to it "
            f"even to answer. Make it writable (`chmod -R u+w {folder}`), or copy it to a "
            "writable folder and set ASSISTANT_STORE_DIR to that folder."
        )
    if any(word in text for word in ("malformed", "not a database", "corrupt")):
        return damaged_store(settings, database, text)
    if "unable to open" in text or isinstance(exc, PermissionError):
        return damaged_store(settings, database, f"permission denied: {text}")
    return StoreError(
        f"Cannot open the vector store in {folder}/ ({text}). Check the folder's "
        "permissions, or set ASSISTANT_STORE_DIR to another folder."
    )


def store_location(settings: Settings) -> str:
    """Where the collection lives, for messages and `assistant stats`."""
    return settings.chroma_url or f"{settings.store_dir}/"


def embedding_metadata(embeddings: Embeddings) -> dict[str, Any]:
    """What a collection records about the embedder it was built with."""
    name = getattr(embeddings, "model_name", None) or getattr(embeddings, "model", "unknown")
    return {"embedding_model": str(name)}


def check_embedder(
    settings: Settings, metadata: dict[str, Any] | None, embeddings: Embeddings
) -> None:
    """Refuse to mix vectors of two embedding models in one collection."""
    built_with = (metadata or {}).get("embedding_model")
    wanted = embedding_metadata(embeddings)["embedding_model"]
    if built_with != wanted:
        raise EmbeddingMismatchError(
            f"Collection '{settings.collection}' in {store_location(settings)} was built with the "
            f"embedding model '{built_with or 'unknown'}', but '{wanted}' is configured. Re-ingest "
            "with `assistant ingest PATH --rebuild`, or configure the embedder it was built with."
        )


def _existing(client: ClientAPI, settings: Settings) -> set[str]:
    try:
        return {c.name for c in client.list_collections()}
    except Exception as exc:
        raise StoreError(
            f"Cannot read the vector store at {store_location(settings)} ({exc}). "
            "If it is damaged, rebuild it with `assistant ingest PATH --rebuild`."
        ) from exc


def open_collection(settings: Settings, embeddings: Embeddings) -> Collection:
    """The chromadb collection to ask, after checking it was built with ``embeddings``.

    Questions go to chromadb directly rather than through LangChain's ``Chroma``:
    importing that wrapper (and the tracing it pulls in) costs about a second of
    every cold `assistant ask`, and a query needs none of it.
    """
    client = open_client(settings)
    if settings.collection not in _existing(client, settings):
        raise NothingIndexedError(settings.collection)
    collection = client.get_collection(settings.collection)
    check_embedder(settings, collection.metadata, embeddings)
    return collection


def open_store(settings: Settings, embeddings: Embeddings) -> Chroma:
    """The LangChain vector store to ingest into (created if missing), embedder checked."""
    from langchain_chroma import Chroma

    client = open_client(settings)
    if settings.collection in _existing(client, settings):
        check_embedder(settings, client.get_collection(settings.collection).metadata, embeddings)
    return Chroma(
        client=client,
        collection_name=settings.collection,
        embedding_function=embeddings,
        collection_metadata=embedding_metadata(embeddings),
        collection_configuration={"hnsw": {"space": "cosine"}},
    )


def chroma_collection(settings: Settings) -> Any:
    """The raw chromadb collection (for counts, id look-ups and metadata-only updates)."""
    return open_client(settings).get_collection(settings.collection)


def delete_collection(settings: Settings) -> None:
    """Drop the collection with its record manager and keyword index (``--rebuild``)."""
    client = open_client(settings)
    if settings.collection in {c.name for c in client.list_collections()}:
        client.delete_collection(settings.collection)
    settings.record_db.unlink(missing_ok=True)
    shutil.rmtree(settings.bm25_dir, ignore_errors=True)


def record_manager(settings: Settings, namespace: str) -> Any:
    """LangChain's SQL record manager: which chunk ids each file produced, when."""
    from langchain_classic.indexes import SQLRecordManager
    from sqlalchemy.exc import DatabaseError

    check_records(settings)
    try:
        settings.record_db.parent.mkdir(parents=True, exist_ok=True)
        manager = SQLRecordManager(
            f"{settings.collection}/{namespace}", db_url=f"sqlite:///{settings.record_db}"
        )
        manager.create_schema()
    except (DatabaseError, OSError) as exc:
        raise damaged_records(settings, str(exc)) from exc
    return manager


def check_records(settings: Settings) -> None:
    """Raise a clear error when the record manager's file is damaged or unreadable."""
    if problem := sqlite_problem(settings.record_db):
        raise damaged_records(settings, problem)


def damaged_records(settings: Settings, problem: str) -> StoreError:
    """The error for a record-manager file that is damaged or cannot be read."""
    path = settings.record_db
    if "permission" in problem or "unable to open" in problem or "readonly" in problem:
        return StoreError(
            f"Cannot use the record manager file {path} ({problem}). Give your user read and "
            f"write access to it (`chmod u+rw {path}`), or set ASSISTANT_STORE_DIR to another "
            "folder."
        )
    return StoreError(
        f"The record manager file {path} (which chunks each file produced) is damaged "
        f"({problem}); nothing was changed, and asking still works. Run `assistant ingest "
        "PATH --rebuild` to index the collection afresh (this replaces the file), or restore "
        "it from a backup."
    )


def record_keys(settings: Settings) -> dict[str, set[str]]:
    """Every chunk id the record manager holds for the collection, by namespace (folder)."""
    import sqlite3
    from contextlib import closing

    if not settings.record_db.exists():
        return {}
    check_records(settings)
    prefix = f"{settings.collection}/"
    keys: dict[str, set[str]] = {}
    try:
        with closing(sqlite3.connect(settings.record_db)) as db:
            # LangChain's SQLRecordManager keeps one row per (namespace, key) in this table.
            rows = db.execute("SELECT namespace, key FROM upsertion_record").fetchall()
    except sqlite3.DatabaseError as exc:
        if "no such table" in str(exc):
            return {}
        raise damaged_records(settings, str(exc)) from exc
    for namespace, key in rows:
        if namespace.startswith(prefix):
            keys.setdefault(namespace.removeprefix(prefix), set()).add(key)
    return keys
