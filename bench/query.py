"""Retrieval and answer latency at 1k, 10k and 100k chunks, embedded and on a Chroma server.

Texts come from the public evaluation data (``common.public_sentences``
recombined). Vectors are real embeddings for up to ``--embed`` chunks; larger
stores reuse them with small random perturbations (inserted directly, as the
issue allows), so 100k chunks build in minutes. Questions are SQuAD questions.

    python bench/query.py [--sizes 1000 10000 100000] [--queries 50] [--embed 10000]
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DEFAULT_DATASETS, datasets_folder, percentile, public_sentences, save

MEMORY_PROBE = """
import json, resource, sys
from assistant.core.config import Settings
from assistant.pipeline import Assistant
assistant = Assistant(Settings())
for question in json.loads(sys.argv[1]):
    assistant.ask(question)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def texts_for(n: int, pool: list[str], seed: int = 3) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.sample(pool, rng.randint(3, 5))) for _ in range(n)]


def build_store(settings, texts: list[str], vectors: np.ndarray, sentence_vectors=None) -> None:  # type: ignore[no-untyped-def]
    """Insert chunks with their vectors straight into the collection, then the BM25 index.

    ``sentence_vectors``: each chunk's packed sentence vectors, stored in its metadata as
    an ingest stores them; None builds a store of chunks without them (as one ingested
    before they were stored), whose answers embed the sentences per question.
    """
    from assistant.store.corpus import Corpus
    from assistant.store.keyword import KeywordIndex
    from assistant.store.sentences import KEY

    corpus = Corpus.open(settings)
    collection = corpus.client().create_collection(
        corpus.name, metadata={"embedding_model": "all-MiniLM-L6-v2"},
        configuration={"hnsw": {"space": "cosine"}},
    )  # fmt: skip
    ids = [f"c{i:06d}" for i in range(len(texts))]
    metadatas = [{"source": f"doc{i:06d}.txt", "doc_id": f"bench/doc{i:06d}.txt",
                  "line_start": 1, "line_end": 1, "start": 0, "end": len(texts[i]),
                  "chunk_index": 0, "title": texts[i][:60]} for i in range(len(texts))]  # fmt: skip
    if sentence_vectors is not None:
        for meta, packed in zip(metadatas, sentence_vectors, strict=True):
            meta[KEY] = packed
    for start in range(0, len(texts), 5000):
        end = min(start + 5000, len(texts))
        collection.add(
            ids=ids[start:end],
            documents=texts[start:end],
            embeddings=vectors[start:end],
            metadatas=metadatas[start:end],
        )
    KeywordIndex.build(ids, texts).save(corpus.bm25_dir)


def vectors_for(n: int, base: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``n`` unit vectors: the real ones first, then perturbed copies of them."""
    if n <= len(base):
        return base[:n]
    extra = base[rng.integers(0, len(base), n - len(base))]
    extra = extra + rng.normal(0, 0.03, extra.shape).astype(np.float32)
    extra /= np.linalg.norm(extra, axis=1, keepdims=True)
    return np.vstack([base, extra])


def measure(
    assistant, questions: list[str], answering, others=None, reranking=None
) -> dict[str, dict[str, float]]:  # type: ignore[no-untyped-def]
    """p50 / p95 milliseconds of each retrieval stage and of the answer (of each backend).

    ``assistant`` is timed retrieving, ``answering`` answering; ``others`` maps a backend
    name to an assistant answering with it over the same store, timed in the same loop
    ("answer:NAME"). ``reranking`` (default: ``assistant``) is timed retrieving the pool
    and reranking it ("reranked"); with an embedder of its own, the question's embedding
    is included: what a question waits for before its answer starts. Each should have
    its own embedder: an embedder keeps the vectors of the last questions, so a shared
    one would embed a question only in the first stage.
    """
    others = others or {}
    retriever = assistant.retriever
    vectors = assistant.embeddings.embed_documents(questions)
    reranking = reranking or assistant
    for each in (assistant, answering, reranking, *others.values()):
        each.ask(questions[0])  # warm: model, store and BM25 index loaded
    pool = assistant.settings.pool
    reranker, pool_retriever = reranking.reranker, reranking.retriever
    times: dict[str, list[float]] = {"dense": [], "bm25": [], "fused": [], "answer": []}
    times |= {"pool": [], "reranked": []}
    times |= {f"answer:{name}": [] for name in others}
    count = retriever.collection.count()
    for question, vector in zip(questions, vectors, strict=True):
        stages = {
            "dense": lambda v=vector: retriever.dense(v, 20),
            "bm25": lambda q=question: retriever.keyword_index(count).search(q, 20),
            "fused": lambda q=question: retriever.retrieve(q, 4),
            # the candidate pool alone, then the pool with the rerank stage: what is shown
            "pool": lambda q=question: retriever.retrieve(q, pool),
            "reranked": lambda q=question: reranker.rerank(q, pool_retriever.retrieve(q, pool))[:4],
            "answer": lambda q=question: answering.ask(q),
            **{f"answer:{name}": (lambda q=question, a=a: a.ask(q)) for name, a in others.items()},
        }  # fmt: skip
        for stage, run in stages.items():
            start = time.perf_counter()
            run()
            times[stage].append((time.perf_counter() - start) * 1000)
    return {k: {"p50": round(percentile(v, 50), 1), "p95": round(percentile(v, 95), 1)}
            for k, v in times.items()}  # fmt: skip


def start_server(path: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    chroma = Path(sys.executable).with_name("chroma")
    process = subprocess.Popen([str(chroma), "run", "--path", str(path), "--host", "127.0.0.1",
                                "--port", str(port)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1).close()
            return process, url
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("chroma run did not start")


def memory_probe(settings, questions: list[str]) -> int:  # type: ignore[no-untyped-def]
    """Peak RSS (MiB) of a fresh process that opens the store and answers the questions."""
    env = {"ASSISTANT_STORE_DIR": str(settings.store_dir), "PATH": "/usr/bin:/bin",
           "ASSISTANT_COLLECTION": settings.collection}  # fmt: skip
    out = subprocess.run([sys.executable, "-c", MEMORY_PROBE, json.dumps(questions)], env=env,
                         capture_output=True, text=True, check=True)  # fmt: skip
    return int(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=datasets_folder, default=str(DEFAULT_DATASETS))
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--embed", type=int, default=10_000)
    parser.add_argument("--name", default="query", help="Results file: bench/results/NAME.json")
    parser.add_argument("--also", nargs="*", default=[], help="other backends to time")
    parser.add_argument("--no-server", action="store_true", help="skip the Chroma server runs")
    parser.add_argument("--no-sentence-vectors", action="store_true",
                        help="chunks without stored sentence vectors (an older store)")  # fmt: skip
    args = parser.parse_args()

    from chromadb.api.client import SharedSystemClient

    from assistant.core.config import Settings
    from assistant.pipeline import Assistant
    from assistant.store.embeddings import MiniLMEmbeddings
    from assistant.store.sentences import packed_for

    squad = json.loads((args.datasets / "squad2_subset/queries.json").read_text())["queries"]
    questions = [q["question"] for q in squad[: args.queries]]
    pool = public_sentences(args.datasets)
    embedder = MiniLMEmbeddings()
    all_texts = texts_for(max(args.sizes), pool)
    base = embedder.embed_array(all_texts[: min(args.embed, max(args.sizes))])
    # Sentences recur across the recombined chunks: each distinct one is embedded once.
    packed = None if args.no_sentence_vectors else packed_for(embedder, all_texts)
    rng = np.random.default_rng(5)
    results = {}
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(store_dir=Path(tmp), collection="bench")
            build_store(settings, all_texts[:size], vectors_for(size, base, rng),
                        None if packed is None else packed[:size])  # fmt: skip
            others = {
                name: Assistant(settings.model_copy(update={"backend": name}), MiniLMEmbeddings())
                for name in args.also
            }
            answering = Assistant(settings, MiniLMEmbeddings())
            reranking = Assistant(settings, MiniLMEmbeddings())
            embedded = measure(
                Assistant(settings, embedder), questions, answering, others, reranking
            )
            memory = memory_probe(settings, questions[:20])
            SharedSystemClient.clear_system_cache()
            on_server = {stage: {"p50": None, "p95": None} for stage in embedded}
            if not args.no_server:
                server, url = start_server(Path(tmp))
                try:
                    remote = settings.model_copy(update={"chroma_url": url})
                    on_server = measure(Assistant(remote, embedder), questions,
                                        Assistant(remote, MiniLMEmbeddings()), None,
                                        Assistant(remote, MiniLMEmbeddings()))  # fmt: skip
                finally:
                    server.terminate()
                    server.wait(10)
        results[str(size)] = {"embedded": embedded, "server": on_server, "peak_rss_mib": memory}
        print(f"\n{size:,} chunks (peak RSS answering: {memory} MiB)")
        print(f"{'stage':<10}{'embedded p50':>14}{'p95':>8}{'server p50':>12}{'p95':>8}")
        for stage in embedded:
            e, s = embedded[stage], on_server.get(stage, {"p50": None, "p95": None})
            print(f"{stage:<16}{e['p50']!s:>14}{e['p95']!s:>8}{s['p50']!s:>12}{s['p95']!s:>8}")
    payload = {"queries": len(questions), "real_vectors": len(base),
               "sentence_vectors": packed is not None, "sizes": results}  # fmt: skip
    print(f"written to {save(args.name, payload)}")


if __name__ == "__main__":
    main()
