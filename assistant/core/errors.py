"""Errors a user can act on: each message says what went wrong and what to do next."""


class AssistantError(Exception):
    """Base class: the message is shown to the user as it is, without a traceback."""

    exit_code = 1


class UsageError(AssistantError):
    """The user asked for something malformed (an empty question, a bad option)."""

    exit_code = 2


class NothingIndexedError(AssistantError):
    """The collection is empty or missing."""

    def __init__(self, collection: str) -> None:
        super().__init__(
            f"No documents indexed in collection '{collection}': "
            "run `assistant ingest seeds/` first."
        )


class NoCollectionError(AssistantError):
    """A command names a collection the store does not hold."""

    def __init__(self, collection: str, location: str) -> None:
        super().__init__(
            f"No collection '{collection}' in {location}: `assistant collections` lists "
            "the collections there."
        )


class NoDocumentsError(AssistantError):
    """A path holds no file the assistant can read."""


class EmbeddingMismatchError(AssistantError):
    """The collection was built with another embedding model than the one configured."""


class StoreError(AssistantError):
    """The vector store cannot be opened or written."""


class StoreBusyError(StoreError):
    """Another ingest holds the store's lock for longer than ``lock_timeout``."""


class OfflineAssetError(AssistantError):
    """A model or encoding file that should come from an installed package is missing."""


class LLMError(AssistantError):
    """The language model server refused, failed or did not answer."""


class ModelInstallError(AssistantError):
    """`make local-model` could not fetch, join or check the model; nothing was installed."""


class FeedError(AssistantError):
    """Reading or cutting a file failed in a way that is not the file's own fault."""
