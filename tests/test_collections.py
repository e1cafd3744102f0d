"""Named collections: the `--collection` option, `assistant collections`, and bad names."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_cli

from assistant.config import Settings
from assistant.corpus import Corpus, check_name
from assistant.errors import UsageError

GOOD = ["seeds", "my-docs", "a.b_c-9", "x" * 63, "1.2.3", "abc"]
BAD = ["ab", "x" * 64, "-docs", "docs-", "my..docs", "192.168.0.1", "my docs", "dócs"]


@pytest.mark.fast
@pytest.mark.parametrize("name", GOOD)
def test_names_chroma_accepts_are_accepted(tmp_path: Path, name: str) -> None:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    assert check_name(name) == name
    client = chromadb.PersistentClient(
        str(tmp_path / "chroma"), settings=ChromaSettings(anonymized_telemetry=False)
    )
    client.create_collection(name, embedding_function=None)


@pytest.mark.fast
@pytest.mark.parametrize("name", BAD)
def test_names_chroma_refuses_are_refused_before_the_store_opens(tmp_path: Path, name: str) -> None:
    settings = Settings(store_dir=tmp_path / "store")
    with pytest.raises(UsageError, match="Invalid collection name"):
        Corpus.open(settings, name)
    assert not (tmp_path / "store").exists()


@pytest.mark.fast
@pytest.mark.parametrize("command", [("ask", "What gifts?"), ("ingest", "."), ("stats",)])
def test_a_bad_collection_name_is_one_line_and_creates_nothing(
    tmp_path: Path, cache_dir: Path, command: tuple[str, ...]
) -> None:
    store = tmp_path / "store"
    out = run_cli(*command, "--collection", "my..docs", store=store, cache=cache_dir)
    assert out.returncode == 2
    assert out.stderr.startswith("error: Invalid collection name 'my..docs'")
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr
    assert not store.exists()
