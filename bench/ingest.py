"""End-to-end ingest of a 10,000-chunk corpus: first, unchanged again, and with 1% changed.

The corpus is built from the public evaluation data (SQuAD 2.0 contexts and RGB
snippets, recombined: see ``common.build_corpus``); one document is one chunk. In the
same run, before the first ingest, the embedder alone embeds the same chunk texts
(cut as the ingest cuts them): the first ingest's rate is reported as a share of that.

    python bench/ingest.py [--datasets ../shared/datasets] [--files 10000]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (
    DEFAULT_DATASETS,
    build_corpus,
    datasets_folder,
    peak_rss_mib,
    public_sentences,
    save,
)


def embedder_alone(library, folder: Path) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    """Seconds the embedder takes on the chunk texts of ``folder``, and how many there are."""
    from assistant.ingest.feed import Chunking, Feed

    feed = Feed.start([folder], Chunking.of(library.settings))
    texts = [doc.page_content for doc in feed.chunks()]
    start = time.perf_counter()
    library.embeddings.embed_documents(texts)
    return time.perf_counter() - start, len(texts)


def timed_ingest(library, folder: Path) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    report = library.ingest([folder])
    return time.perf_counter() - start, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=datasets_folder, default=str(DEFAULT_DATASETS))
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--name", default="ingest", help="Results file: bench/results/NAME.json")
    args = parser.parse_args()

    from assistant.core.config import Settings
    from assistant.library import Library

    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        paths = build_corpus(args.datasets, corpus, args.files)
        library = Library(Settings(store_dir=Path(tmp) / "store"))
        library.embeddings.embed_query("warm up")
        alone_s, alone_chunks = embedder_alone(library, corpus)
        first_s, first = timed_ingest(library, corpus)
        store_mib = sum(f.stat().st_size for f in (Path(tmp) / "store").rglob("*") if f.is_file())
        store_mib /= 2**20
        again_s, again = timed_ingest(library, corpus)
        rng = random.Random(11)
        pool = public_sentences(args.datasets)
        changed = rng.sample(paths, max(1, len(paths) // 100))
        for path in changed:
            path.write_text(path.read_text() + " " + rng.choice(pool) + "\n", encoding="utf-8")
        delta_s, delta = timed_ingest(library, corpus)

    rows = {
        "corpus": f"{args.files} documents recombined from SQuAD 2.0 + RGB sentences",
        "chunks": first.chunks_total,
        "embedder_alone": {"seconds": round(alone_s, 1),
                           "chunks_per_s": round(alone_chunks / alone_s, 1)},
        "first": {"seconds": round(first_s, 1),
                  "chunks_per_s": round(first.chunks_added / first_s, 1),
                  "share_of_embedder_rate": round(first.chunks_added / first_s * alone_s
                                                  / alone_chunks, 3),
                  "stage_seconds": first.seconds},
        "unchanged": {"seconds": round(again_s, 2), "added": again.chunks_added,
                      "share_of_first": round(again_s / first_s, 4)},
        "changed_1pct": {"files": len(changed), "seconds": round(delta_s, 2),
                         "added": delta.chunks_added, "deleted": delta.chunks_deleted,
                         "share_of_first": round(delta_s / first_s, 4)},
        "peak_rss_mib": round(peak_rss_mib()),
        "store_mib_after_first": round(store_mib, 1),
    }  # fmt: skip
    table = [("first", first_s, first), ("unchanged", again_s, again),
             ("1% of files changed", delta_s, delta)]  # fmt: skip
    print(f"{'ingest':<22}{'seconds':>10}{'chunks added':>14}{'vs first':>10}")
    for label, seconds, report in table:
        print(f"{label:<22}{seconds:>10.2f}{report.chunks_added:>14}{seconds / first_s:>10.1%}")
    print(
        f"embedder alone {rows['embedder_alone']['chunks_per_s']} chunks/s; first ingest "
        f"{rows['first']['share_of_embedder_rate']:.1%} of it; stages {first.seconds}"
    )
    print(f"{rows['chunks']} chunks, {rows['first']['chunks_per_s']} chunks/s first time; "
          f"peak RSS {rows['peak_rss_mib']} MiB; "
          f"store {rows['store_mib_after_first']} MiB")  # fmt: skip
    print(f"written to {save(args.name, rows)}")


if __name__ == "__main__":
    main()
