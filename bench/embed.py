"""Embedding throughput: this project's MiniLM embedder against Chroma's stock ONNX function.

Both run the same int8 model file and tokenizer on the same 1,000 chunks, one
after the other in this one process; the table gives chunks/s and the ratio.

    python bench/embed.py [--datasets ../shared/datasets] [--chunks 1000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DEFAULT_DATASETS, datasets_folder, public_paragraphs, save


def chunks(datasets: Path, n: int) -> list[str]:
    """The first ``n`` chunks of the public paragraphs, split as the assistant splits them."""
    from assistant.core.config import Settings
    from assistant.ingest.documents import SourceFile, chunk_file
    from assistant.text.tokens import use_offline_encodings

    use_offline_encodings(Settings().cache_dir)
    out: list[str] = []
    for i, text in enumerate(public_paragraphs(datasets)):
        out += [
            d.page_content
            for d in chunk_file(SourceFile(f"{i}.txt", f"b/{i}.txt", text, "b", True))
        ]
        if len(out) >= n:
            break
    return out[:n]


def timed(fn, texts: list[str]) -> tuple[float, np.ndarray]:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    vectors = np.asarray(fn(texts), dtype=np.float32)
    return time.perf_counter() - start, vectors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=datasets_folder, default=str(DEFAULT_DATASETS))
    parser.add_argument("--chunks", type=int, default=1000)
    args = parser.parse_args()

    from assistant.store.embeddings import MiniLMEmbeddings, chroma_reference

    texts = chunks(args.datasets, args.chunks)
    ours = MiniLMEmbeddings()
    with tempfile.TemporaryDirectory() as tmp:
        stock = chroma_reference(Path(tmp))
        stock(texts[:8])  # load both sessions before timing
        ours.embed_array(texts[:8])
        stock_s, stock_v = timed(stock, texts)
        ours_s, ours_v = timed(ours.embed_array, texts)
    pieces = [len(e.ids) for e in ours._tokenizer.encode_batch(texts)]
    rows = {
        "chunks": len(texts),
        "mean_word_pieces": round(statistics.mean(pieces), 1),
        "chroma_stock_chunks_per_s": round(len(texts) / stock_s, 1),
        "ours_chunks_per_s": round(len(texts) / ours_s, 1),
        "ratio": round(stock_s / ours_s, 2),
        "min_cosine_ours_vs_stock": round(float((ours_v * stock_v).sum(axis=1).min()), 5),
        "corpus": "SQuAD 2.0 subset contexts + RGB snippets (../shared/datasets), "
        "chunked at 200 tokens",
    }
    print(f"{'embedder':<28}{'chunks/s':>10}")
    print(f"{'Chroma ONNXMiniLM_L6_V2':<28}{rows['chroma_stock_chunks_per_s']:>10}")
    print(f"{'assistant MiniLMEmbeddings':<28}{rows['ours_chunks_per_s']:>10}")
    print(
        f"ratio {rows['ratio']}x on {rows['chunks']} chunks "
        f"({rows['mean_word_pieces']} word pieces on average); min cosine "
        f"{rows['min_cosine_ours_vs_stock']}"
    )
    print(f"written to {save('embed', rows)}")


if __name__ == "__main__":
    main()
