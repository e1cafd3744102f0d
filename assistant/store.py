"""The Chroma collection: embedded or on a Chroma server, checked against the embedder in use.

The same LangChain ``Chroma`` vector store runs over ``chromadb.PersistentClient``
(the default, in ``store_dir``) or ``chromadb.HttpClient`` (when ``chroma_url`` is
set), so moving a corpus to Chroma's server changes only a setting.
"""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from assistant.config import Settings
from assistant.errors import EmbeddingMismatchError, NothingIndexedError, StoreError

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection
    from langchain_chroma import Chroma
    from langchain_core.embeddings import Embeddings


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
    try:
        settings.store_dir.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(settings.store_dir), settings=chroma_settings)
    except Exception as exc:
        raise StoreError(
            f"Cannot open the vector store in {settings.store_dir}/ ({exc}). "
            "Check the folder's permissions, or set ASSISTANT_STORE_DIR to another folder."
        ) from exc


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

    settings.record_db.parent.mkdir(parents=True, exist_ok=True)
    manager = SQLRecordManager(
        f"{settings.collection}/{namespace}", db_url=f"sqlite:///{settings.record_db}"
    )
    manager.create_schema()
    return manager
