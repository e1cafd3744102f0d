"""The assistant: settings -> embedder -> store -> retriever -> answer backend."""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.answer.rules import is_instruction
from assistant.answer.stream import AnswerStream
from assistant.config import Settings
from assistant.corpus import Corpus
from assistant.errors import AssistantError, UsageError
from assistant.tokens import use_offline_encodings
from assistant.types import Turn

if TYPE_CHECKING:
    from collections.abc import Iterator

    from langchain_core.embeddings import Embeddings

    from assistant.answer.base import Backend
    from assistant.ingest import IngestReport, Progress
    from assistant.retrieval import Retriever
    from assistant.types import Answer, Hit

MAX_QUESTION_CHARS = 2000


def refuse(backend: str, hits: list[Hit]) -> Iterator[str | Answer]:
    """The refusal, streamed like any answer."""
    from assistant.answer.base import words_of
    from assistant.types import REFUSAL, Answer

    yield from words_of(REFUSAL)
    yield Answer.refusal("", backend, hits)


def check_question(question: str) -> str:
    """The question stripped, or a usage error for empty or oversized input."""
    cleaned = "".join(ch for ch in question if ch.isprintable() or ch in "\n\t").strip()
    if not cleaned:
        raise UsageError("The question is empty: type a question about your documents.")
    if len(cleaned) > MAX_QUESTION_CHARS:
        raise UsageError(
            f"The question is {len(cleaned):,} characters long; keep it under "
            f"{MAX_QUESTION_CHARS:,} and ask about one thing at a time."
        )
    return cleaned


class Assistant:
    """Ingests documents and answers questions from them; heavy parts load on first use."""

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
            from assistant.embeddings import make_embeddings

            self._embeddings = make_embeddings(self.settings)
        return self._embeddings

    @cached_property
    def retriever(self) -> Retriever:
        """Hybrid retriever over the configured collection."""
        from assistant.retrieval import Retriever

        return Retriever(self.corpus, self.embeddings)

    @cached_property
    def backend(self) -> Backend:
        """The answer backend the settings name."""
        return make_backend(self.settings, self.embeddings)

    def ingest(
        self, paths: Sequence[Path], rebuild: bool = False, on_progress: Progress | None = None
    ) -> IngestReport:
        """Index the files under ``paths`` incrementally."""
        from assistant.ingest import Chunking, ingest

        chunking = Chunking.of(self.settings)
        report = ingest(self.corpus, self.embeddings, paths, chunking, rebuild, on_progress)
        self.__dict__.pop("retriever", None)  # the next question sees the new chunks
        return report

    def ask(self, question: str, history: list[Turn] | None = None, k: int | None = None) -> Answer:
        """The whole answer at once (see ``stream``)."""
        stream = self.stream(question, history, k)
        for _ in stream:
            pass
        assert stream.answer is not None
        return stream.answer

    def stream(
        self, question: str, history: list[Turn] | None = None, k: int | None = None
    ) -> AnswerStream:
        """Answer ``question``: iterate for the text as it is written, then read ``.answer``."""
        question = check_question(question)
        return AnswerStream(self._produce(question, history or [], k or self.settings.k))

    def _produce(self, question: str, history: list[Turn], k: int) -> Iterator[str | Answer]:
        backend, retriever = self.backend, self.retriever  # loaded once, outside the timings
        started = time.perf_counter()
        standalone = backend.standalone(question, history)
        condensed = time.perf_counter()
        # An answerer that looks past the k chunks it shows retrieves deeper; each part
        # of a compound question is retrieved on its own when the answerer splits them.
        depth = max(k, getattr(backend, "look", k))
        parts = backend.parts(standalone) if hasattr(backend, "parts") else [standalone]
        looked = [(part, retriever.retrieve(part, depth)) for part in parts]
        shown = list({h.id: h for _, hits in looked for h in hits[:k]}.values())
        retrieved = time.perf_counter()
        first_piece: float | None = None
        # A "question" that tries to rewrite the assistant's instructions is refused
        # by every backend, before any model sees it.
        if is_instruction(question):
            items = refuse(backend.name, shown)
        elif len(looked) > 1:
            items = backend.stream_parts(standalone, looked, history)  # type: ignore[attr-defined]
        else:
            items = backend.stream(standalone, looked[0][1], history)
        for item in items:
            if isinstance(item, str):
                first_piece = first_piece or time.perf_counter()
                yield item
                continue
            done = time.perf_counter()
            item.question = question
            item.standalone_question = standalone
            item.retrieved = shown
            item.timings_ms.update(
                condense=(condensed - started) * 1000,
                retrieve=(retrieved - condensed) * 1000,
                first_token=((first_piece or done) - started) * 1000,
                answer=(done - retrieved) * 1000,
                total=(done - started) * 1000,
            )
            yield item

    def stats(self) -> dict[str, Any]:
        """Where the store is and what it holds."""
        return {
            "store": self.corpus.location,
            "collection": self.corpus.name,
            "embedding_model": self.settings.embedding_model_name,
            "backend": self.settings.backend,
            "openai_api_key": "set" if self.settings.openai_api_key else "not set",
            **self.corpus.stats(),
        }


def local_backend(settings: Settings, embeddings: Any) -> Backend:
    """The openai backend pointed at a llama.cpp server started here on demand."""
    import os

    from assistant.answer.llm import OpenAIBackend
    from assistant.answer.local_server import MODEL_ALIAS, bundled_model, shared_server

    model = settings.local_model or bundled_model()
    threads = settings.local_threads or os.cpu_count() or 1
    log = settings.store_dir / "logs" / "local-llm.log"
    server = shared_server(model, settings.local_context, threads, log)
    return OpenAIBackend(
        settings, embeddings, base_url=server.base_url, api_key="local", model=MODEL_ALIAS,
        window=settings.local_context, name="local", grammar=True,
    )  # fmt: skip


def make_backend(settings: Settings, embeddings: Any) -> Backend:
    """The backend named by ``settings.backend``; ``auto`` is extractive until an LLM is set up."""
    from assistant.answer.extractive import ExtractiveBackend

    backend = settings.backend
    if backend == "auto":
        configured = settings.openai_api_key is not None or bool(settings.openai_base_url)
        backend = "openai" if configured else "extractive"
    match backend:
        case "extractive":
            return ExtractiveBackend(embeddings, settings.min_support)
        case "openai":
            from assistant.answer.llm import OpenAIBackend

            return OpenAIBackend(settings, embeddings)
        case "learned":
            from assistant.answer.learned import LearnedBackend

            return LearnedBackend(embeddings)
        case "local":
            return local_backend(settings, embeddings)
    raise AssistantError(
        f"Unknown backend '{settings.backend}': choose auto, extractive, learned, openai or local."
    )
