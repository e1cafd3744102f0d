"""One collection and its embedder, loaded on first use: what the asking pipeline and the
library both stand on."""

from __future__ import annotations

from typing import TYPE_CHECKING

from assistant.store.corpus import Corpus
from assistant.store.embeddings import make_embeddings
from assistant.text.tokens import use_offline_encodings

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from assistant.core.config import Settings


class Opened:
    """The collection ``corpus`` (default: the setting's) with the embedder given or named."""

    def __init__(
        self, settings: Settings, embeddings: Embeddings | None = None, corpus: Corpus | None = None
    ) -> None:
        self.settings = settings
        self.corpus = corpus or Corpus.open(settings)
        self._embeddings = embeddings
        use_offline_encodings(settings.cache_dir)

    @property
    def embeddings(self) -> Embeddings:
        """The embedder given, or else the one the settings name (loaded on first use)."""
        if self._embeddings is None:
            self._embeddings = make_embeddings(self.settings)
        return self._embeddings
