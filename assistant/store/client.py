"""The Chroma client: embedded in a folder or on a Chroma server, with errors a user can act on.

The same client serves both: ``chromadb.PersistentClient`` (the default, in
``store_dir``) or ``chromadb.HttpClient`` (when ``chroma_url`` is set), so moving a
corpus to Chroma's server changes only a setting. ``corpus.py`` opens one
collection of it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from assistant.core.errors import StoreError

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from langchain_core.embeddings import Embeddings

CHROMA_FILE = "chroma.sqlite3"  # where embedded Chroma keeps collections, ids and metadata
SQLITE_HEADER = b"SQLite format 3\x00"  # the first 16 bytes of every SQLite database file


def open_client(store_dir: Path, chroma_url: str = "") -> ClientAPI:
    """A Chroma client: HTTP when ``chroma_url`` is set, else persistent in ``store_dir``."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if chroma_url:
        url = urlparse(chroma_url)
        try:
            return chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        except Exception as exc:  # chromadb raises bare ValueError/ConnectError here
            raise StoreError(
                f"Cannot reach the Chroma server at {chroma_url} ({exc}). "
                "Start it with `make chroma`, or unset ASSISTANT_CHROMA_URL to use the "
                "embedded store."
            ) from exc
    # Checked first: Chroma would silently start a new database over an empty file.
    database = store_dir / CHROMA_FILE
    if problem := sqlite_problem(database):
        raise damaged_store(store_dir, database, problem)
    try:
        store_dir.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(store_dir), settings=chroma_settings)
    except Exception as exc:
        raise _open_failure(store_dir, database, exc) from exc


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


def damaged_store(folder: Path, path: Path, problem: str) -> StoreError:
    """The error for a Chroma database file in ``folder`` that is damaged or unreadable."""
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


def _open_failure(folder: Path, database: Path, exc: Exception) -> StoreError:
    """The error for a store Chroma could not open, with the way out for its cause."""
    text = str(exc)
    if "readonly" in text or "read-only" in text:
        return StoreError(
            f"The vector store in {folder}/ is read-only ({text}); Chroma needs to write to it "
            f"even to answer. Make it writable (`chmod -R u+w {folder}`), or copy it to a "
            "writable folder and set ASSISTANT_STORE_DIR to that folder."
        )
    if any(word in text for word in ("malformed", "not a database", "corrupt")):
        return damaged_store(folder, database, text)
    if "unable to open" in text or isinstance(exc, PermissionError):
        return damaged_store(folder, database, f"permission denied: {text}")
    return StoreError(
        f"Cannot open the vector store in {folder}/ ({text}). Check the folder's "
        "permissions, or set ASSISTANT_STORE_DIR to another folder."
    )


def embedding_metadata(embeddings: Embeddings) -> dict[str, str]:
    """What a collection records about the embedder it was built with."""
    name = getattr(embeddings, "model_name", None) or getattr(embeddings, "model", "unknown")
    return {"embedding_model": str(name)}
