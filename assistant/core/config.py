"""The one settings object: environment variables prefixed ``ASSISTANT_`` and an optional ``.env``.

Built once at an entry point (CLI command, page, test fixture) and passed down;
no other module reads the environment.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from assistant.core.errors import UsageError

MINILM = "all-MiniLM-L6-v2"
# The GGUF `make local-model` installs into ``models_dir`` (``assistant/llm/local_model.py``).
LOCAL_GGUF = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"


def _default_cache_dir() -> Path:
    # Derived files (tiktoken encodings unpacked from an installed package) live
    # beside the install that produced them, so every venv carries its own.
    return Path(sys.prefix) / "share" / "assistant"


def _installed_local_model(fields: dict[str, Any]) -> Path | None:
    # The 1.5B is moved into place whole (`make local-model`), so a file there is
    # complete; without it the local backend serves the bundled SmolLM2-135M.
    path = Path(fields.get("models_dir", "models")) / LOCAL_GGUF
    return path if path.is_file() else None


class Settings(BaseSettings):
    """Every setting of the assistant; the README lists each with its default."""

    model_config = SettingsConfigDict(
        env_prefix="ASSISTANT_",
        env_file=".env",
        extra="ignore",
        populate_by_name=True,
        frozen=True,  # read once where a command starts; a variant is a model_copy
    )

    store_dir: Path = Field(Path("vectorstore"), description="Where the Chroma data lives.")
    collection: str = Field("seeds", description="Chroma collection to ingest into and ask.")
    chroma_url: str = Field("", description="Chroma server URL; empty means embedded.")
    backend: str = Field(
        "auto",
        description="Answerer: auto, extractive, openai, local (or a registered one).",
    )
    k: int = Field(4, ge=1, le=50, description="Chunks retrieved per question.")
    pool: int = Field(
        40, ge=1, le=200, description="Candidates fused from retrieval for the rerank stage."
    )
    rerank: Literal["fitted", "none"] = Field(
        "fitted", description="Rerank stage: fitted (the committed model) or none (fused order)."
    )
    debug: bool = Field(False, description="Show tracebacks.")
    embedding: Literal["minilm", "openai"] = Field("minilm", description="Embedding model.")
    openai_embedding_model: str = "text-embedding-3-small"
    openai_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("ASSISTANT_OPENAI_API_KEY", "OPENAI_API_KEY")
    )
    openai_base_url: str = Field(
        "", validation_alias=AliasChoices("ASSISTANT_OPENAI_BASE_URL", "OPENAI_BASE_URL")
    )
    openai_model: str = Field("gpt-4o-mini", description="Chat model of the openai backend.")
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    max_answer_tokens: int = Field(400, ge=16, le=8192, description="Answer reserve (tokens).")
    timeout: float = Field(60.0, gt=0, description="Seconds before an LLM call gives up.")
    max_retries: int = Field(2, ge=0, le=10, description="Retries (with backoff) of LLM calls.")
    context_window: int | None = Field(
        None, ge=512, description="Model context in tokens; empty: known per model."
    )
    context_sentences: int = Field(
        1, ge=0, le=10, description="Sentences around each passage an LLM reads; 0: none."
    )
    models_dir: Path = Field(
        Path("models"), description="Where `make local-model` installs the local 1.5B GGUF."
    )
    local_model: Path | None = Field(  # after models_dir: its default looks there
        default_factory=_installed_local_model,
        description="GGUF file of the local backend; empty: the 1.5B in models_dir when "
        "installed, else the bundled SmolLM2-135M.",
    )
    local_context: int = Field(4096, ge=512, description="Context of the local llama.cpp server.")
    local_threads: int | None = Field(None, ge=1, description="Threads of the local server.")
    local_source_tokens: int | None = Field(
        None, ge=1,
        description="Tokens of sources the local model reads per answer (its prompt time); "
        "unset: as many as its context holds.",
    )  # fmt: skip
    chunk_tokens: int = Field(200, ge=20, le=240, description="Max tokens per chunk.")
    chunk_overlap: int = Field(20, ge=0, le=100, description="Token overlap of split chunks.")
    no_answer_threshold: float | None = Field(
        None,
        description="No-answer logit at which the extractive answerer refuses (lower refuses "
        "more); empty: the fitted one.",
    )
    seeds_dir: Path = Field(Path("seeds"), description="Corpus ingested by `make run`.")
    port: int = Field(8501, ge=1, le=65535, description="Port of the chat page.")
    max_file_mb: float = Field(20.0, gt=0, description="Largest document file ingested.")
    # Chunks LangChain's index() hands the embedder per step. At 64 the first ingest of
    # 10,158 chunks took 322.5 s, at 512 285.3 s (the embedder's batches of similar
    # lengths pad less), its peak RSS 1.0 -> 1.3 GiB (docs/performance.md).
    ingest_batch: int = Field(
        512, ge=1, le=8192,
        description="Chunks an ingest embeds per step: larger is faster, smaller holds less "
        "memory.",
    )  # fmt: skip
    lock_timeout: float = Field(
        60.0, ge=0, description="Seconds an ingest waits for another ingest of the store."
    )
    api_host: str = Field("127.0.0.1", description="Address `assistant serve` binds.")
    api_port: int = Field(8400, ge=1, le=65535, description="Port of `assistant serve`.")
    api_key: SecretStr | None = Field(
        None, description="Bearer token the HTTP API requires; required off loopback."
    )
    api_cors: str = Field("", description="Origins the HTTP API allows, comma-separated.")
    cache_dir: Path = Field(default_factory=_default_cache_dir)

    @classmethod
    def load(cls) -> Settings:
        """Settings from the environment; a bad value is a UsageError naming the variable."""
        from pydantic import ValidationError

        try:
            return cls()
        except ValidationError as exc:
            problems = "; ".join(
                f"ASSISTANT_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}"
                for e in exc.errors()
            )
            raise UsageError(f"invalid setting: {problems}") from None

    @property
    def embedding_model_name(self) -> str:
        """The name recorded on a collection for the embedder in use."""
        if self.embedding == "openai":
            return f"openai/{self.openai_embedding_model}"
        return MINILM

    @property
    def api_cors_origins(self) -> list[str]:
        """The origins of ``api_cors``; empty means CORS is off."""
        return [o.strip() for o in self.api_cors.split(",") if o.strip()]

    @property
    def feedback_path(self) -> Path:
        """JSON Lines file where the chat page appends thumbs up / down with the answer."""
        return self.store_dir / "feedback.jsonl"
