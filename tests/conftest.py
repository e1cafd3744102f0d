"""Shared fixtures: settings in a temp folder, one embedder per session, a seeded store."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.pipeline import Assistant
from assistant.tokens import use_offline_encodings

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SEED_FILE = SEEDS / "000_46f147bf0e9866ff.txt"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the user's settings, .env or store: all state lives in a temp folder."""
    for name in list(os.environ):
        if name.startswith(("ASSISTANT_", "OPENAI_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh tiktoken cache, filled from the installed package as `make install` does."""
    folder = tmp_path_factory.mktemp("cache")
    use_offline_encodings(folder)
    return folder


@pytest.fixture
def settings(tmp_path: Path, cache_dir: Path) -> Settings:
    """Settings for a store of the test's own."""
    return Settings(store_dir=tmp_path / "vectorstore", cache_dir=cache_dir)


@pytest.fixture(scope="session")
def embeddings():  # type: ignore[no-untyped-def]
    """The real MiniLM embedder, loaded once."""
    from assistant.embeddings import MiniLMEmbeddings

    return MiniLMEmbeddings()


@pytest.fixture(scope="session")
def seeded_dir(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path, embeddings) -> Path:  # type: ignore[no-untyped-def]
    """A store holding the seed corpus, built once; tests only read it."""
    store = tmp_path_factory.mktemp("seeded") / "vectorstore"
    Assistant(Settings(store_dir=store, cache_dir=cache_dir), embeddings).ingest([SEEDS])
    return store


@pytest.fixture
def seeded(seeded_dir: Path, cache_dir: Path, embeddings) -> Assistant:  # type: ignore[no-untyped-def]
    """An assistant over the seeded store, with the shared embedder injected."""
    return Assistant(Settings(store_dir=seeded_dir, cache_dir=cache_dir), embeddings)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A copy of the seeds that a test may change."""
    folder = tmp_path / "docs"
    shutil.copytree(SEEDS, folder)
    return folder


@pytest.fixture(scope="session")
def llm_server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The real llama.cpp server with the bundled SmolLM2-135M, on a loopback port."""
    from assistant.answer.local_server import LocalServer, bundled_model

    log = tmp_path_factory.mktemp("llm") / "server.log"
    server = LocalServer(bundled_model(), context=2048, threads=2, log_path=log)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def llm_settings(settings: Settings, seeded_dir: Path, llm_server) -> Settings:  # type: ignore[no-untyped-def]
    """Settings for the `openai` backend pointed at the local server, over the seeded store."""
    return settings.model_copy(
        update={
            "store_dir": seeded_dir,
            "backend": "openai",
            "openai_base_url": llm_server.base_url,
            "openai_model": "local",
            "context_window": 2048,
            "max_answer_tokens": 120,
            "timeout": 120.0,
        }
    )
