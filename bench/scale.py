"""A million chunks on Chroma's server: insert rate, retrieval latency, the API process's memory.

Each size is built once into ``--work`` (a ``chroma run`` data folder and the local
folder holding the BM25 index) and reused by later runs, since a 1M-chunk store takes
many minutes to build. Texts are recombined public sentences (``common.public_sentences``);
vectors are real embeddings for the first ``--embed`` chunks and perturbed copies
beyond, inserted directly, as ``bench/query.py`` does. The BM25 index is built the
way an asking machine rebuilds a missing one (``Corpus.rebuild_keyword_index``: every
chunk read back from the server), in a process of its own so its memory is its own.

Then the server is restarted on the folder and a fresh process does what
``assistant serve`` does: opens the store, answers a first question (the reopen
time), and times dense, BM25 and fused retrieval. Its resident memory (RSS) is
read from ``/proc`` after it has answered.

    python bench/scale.py --work DIR [--sizes 100000 1000000] [--queries 50]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DEFAULT_DATASETS, datasets_folder, percentile, public_sentences, save
from query import start_server, texts_for

COLLECTION = "bench"
BATCH = 5000  # chunks per insert call; Chroma's server accepts up to its max_batch_size


def rss_mib(pid: int | str = "self") -> dict[str, int]:
    """Current (VmRSS) and peak (VmHWM) resident memory of a process, in MiB."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return {key: int(fields[key].split()[0]) // 1024 for key in ("VmRSS", "VmHWM")}


def folder_mib(path: Path) -> float:
    """Size on disk of the files under ``path``, in MiB."""
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20, 1)


def env_for(local: Path, url: str) -> dict[str, str]:
    """The environment of a process that asks the collection on the server at ``url``."""
    return {**os.environ, "ASSISTANT_STORE_DIR": str(local), "ASSISTANT_CHROMA_URL": url,
            "ASSISTANT_COLLECTION": COLLECTION}  # fmt: skip


def run_json(args: list[str], env: dict[str, str]) -> dict[str, object]:
    """Run this script with ``args`` in a fresh process and return the JSON it prints."""
    out = subprocess.run([sys.executable, __file__, *args], env=env, capture_output=True,
                         text=True, check=False)  # fmt: skip
    if out.returncode:
        raise RuntimeError(f"{args[0]} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


# -- building a store -------------------------------------------------------------------


def insert(url: str, size: int, texts: list[str], base: np.ndarray) -> float:
    """Insert ``size`` chunks into a new collection on the server; the seconds it took."""
    import chromadb

    from assistant.store.corpus import chunk_id

    client = chromadb.HttpClient(host="127.0.0.1", port=int(url.rsplit(":", 1)[1]))
    collection = client.create_collection(
        COLLECTION, metadata={"embedding_model": "all-MiniLM-L6-v2"},
        configuration={"hnsw": {"space": "cosine"}},
    )  # fmt: skip
    rng = np.random.default_rng(5)
    start = time.perf_counter()
    for first in range(0, size, BATCH):
        rows = range(first, min(first + BATCH, size))
        # past the real vectors, perturbed copies of them (bench/query.py's vectors_for)
        vectors = base[[i % len(base) for i in rows]]
        if first + BATCH > len(base):
            noise = rng.normal(0, 0.03, vectors.shape).astype(np.float32)
            fake = np.array([i >= len(base) for i in rows])
            vectors[fake] += noise[fake]
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        collection.add(
            ids=[chunk_id(f"bench/doc{i:07d}.txt", 0, str(i)) for i in rows],  # 32 hex digits
            documents=[texts[i % len(texts)] for i in rows],
            embeddings=vectors,
            metadatas=[metadata(i, len(texts[i % len(texts)])) for i in rows],
        )
        if first // BATCH % 20 == 0:
            print(
                f"  {first + len(rows):,} chunks, {time.perf_counter() - start:.0f} s", flush=True
            )
    return time.perf_counter() - start


def metadata(row: int, length: int) -> dict[str, str | int]:
    """What an ingest stores with a one-chunk file (without its sentence vectors)."""
    return {"source": f"doc{row:07d}.txt", "doc_id": f"bench/doc{row:07d}.txt", "line_start": 1,
            "line_end": 1, "start": 0, "end": length, "chunk_index": 0}  # fmt: skip


def build(folder: Path, size: int, texts: list[str], base: np.ndarray) -> dict[str, object]:
    """Build the store of ``size`` chunks in ``folder`` (server data + local BM25 index)."""
    server, url = start_server(folder / "server")
    try:
        seconds = insert(url, size, texts, base)
        print(f"  inserted in {seconds:.0f} s; building the BM25 index", flush=True)
        bm25 = run_json(["rebuild"], env_for(folder / "local", url))
        server_rss = rss_mib(server.pid)
    finally:
        server.terminate()
        server.wait(60)
    return {"insert_s": round(seconds, 1), "insert_per_s": round(size / seconds, 1),
            "bm25_rebuild": bm25, "server_rss_mib_after_insert": server_rss,
            "server_disk_mib": folder_mib(folder / "server")}  # fmt: skip


def rebuild_on(folder: Path) -> dict[str, object]:
    """Rebuild the BM25 index of the store in ``folder`` from its server, in its own process."""
    server, url = start_server(folder / "server")
    try:
        return run_json(["rebuild"], env_for(folder / "local", url))
    finally:
        server.terminate()
        server.wait(60)


def rebuild() -> dict[str, object]:
    """(In its own process) rebuild the BM25 index from the chunks on the server."""
    from assistant.core.config import Settings
    from assistant.store.corpus import Corpus

    start = time.perf_counter()
    chunks = Corpus.open(Settings()).rebuild_keyword_index()
    return {"chunks": chunks, "seconds": round(time.perf_counter() - start, 1),
            "peak_rss_mib": rss_mib()["VmHWM"]}  # fmt: skip


# -- measuring it -----------------------------------------------------------------------


def probe(questions: list[str], answers: int) -> dict[str, object]:
    """(In its own process) what an API process does: open, answer, retrieve; timed."""
    from assistant.core.config import Settings
    from assistant.pool import Pool

    start = time.perf_counter()
    assistant = Pool(Settings()).assistant()  # what `assistant serve` asks with
    retriever = assistant.retriever
    opened = time.perf_counter()
    assistant.ask(questions[0])
    answered = time.perf_counter() - opened
    reopen = {"open_s": round(opened - start, 2), "first_answer_s": round(answered, 2)}
    count = retriever.collection.count()
    times: dict[str, list[float]] = {"fused": [], "dense": [], "bm25": []}
    for question in questions:
        # fused first, so that it embeds the question (the embedder keeps the last ones)
        stages = {
            "fused": lambda q=question: retriever.retrieve(q, 4),
            "dense": lambda q=question: retriever.dense(retriever.embeddings.embed_query(q), 20),
            "bm25": lambda q=question: retriever.keyword_index(count).search(q, 20),
        }  # fmt: skip
        for stage, run in stages.items():
            begin = time.perf_counter()
            run()
            times[stage].append((time.perf_counter() - begin) * 1000)
    for question in questions[:answers]:
        assistant.ask(question)
    return {"chunks": count, "reopen": reopen, "rss_mib": rss_mib(),
            **{stage: {"p50": round(percentile(v, 50), 1), "p95": round(percentile(v, 95), 1)}
               for stage, v in times.items()}}  # fmt: skip


def keyword_probe(questions: list[str]) -> dict[str, object]:
    """(In its own process) the BM25 index alone: load time, and memory loaded and searched."""
    from assistant.core.config import Settings
    from assistant.store.corpus import Corpus
    from assistant.store.keyword import KeywordIndex

    folder = Corpus.open(Settings()).bm25_dir
    before = rss_mib()["VmRSS"]
    start = time.perf_counter()
    index = KeywordIndex.load(folder)
    seconds = time.perf_counter() - start
    assert index is not None, f"no BM25 index in {folder}"
    loaded = rss_mib()["VmRSS"]
    for question in questions:
        index.search(question, 20)
    searched = rss_mib()["VmRSS"]
    return {"disk_mib": folder_mib(folder), "load_s": round(seconds, 3),
            "rss_loaded_mib": loaded - before, "rss_searched_mib": searched - before}  # fmt: skip


def measure(folder: Path, questions: list[str], answers: int) -> dict[str, object]:
    """Restart the server on ``folder`` and measure the API process and the BM25 index."""
    start = time.perf_counter()
    server, url = start_server(folder / "server")
    try:
        started = round(time.perf_counter() - start, 2)
        env = env_for(folder / "local", url)
        api = run_json(["probe", json.dumps(questions), str(answers)], env)
        keyword = run_json(["keyword-probe", json.dumps(questions)], env)
        server_rss = rss_mib(server.pid)
    finally:
        server.terminate()
        server.wait(60)
    return {"server_start_s": started, "api": api, "bm25": keyword, "server_rss_mib": server_rss}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] in ("rebuild", "probe", "keyword-probe"):
        command, rest = sys.argv[1], sys.argv[2:]
        result = (rebuild() if command == "rebuild" else
                  probe(json.loads(rest[0]), int(rest[1])) if command == "probe" else
                  keyword_probe(json.loads(rest[0])))  # fmt: skip
        print(json.dumps(result))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="where the stores are built")
    parser.add_argument("--datasets", type=datasets_folder, default=str(DEFAULT_DATASETS))
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--answers", type=int, default=20, help="questions answered in full")
    parser.add_argument("--embed", type=int, default=2000, help="chunks with real vectors")
    parser.add_argument("--name", default="query-1m-server")
    parser.add_argument("--rebuild", action="store_true",
                        help="stores already built: time their BM25 rebuild again")  # fmt: skip
    args = parser.parse_args()

    squad = json.loads((args.datasets / "squad2_subset/queries.json").read_text())["queries"]
    questions = [q["question"] for q in squad[: args.queries]]
    results = {}
    for size in args.sizes:
        folder = args.work / f"n{size}"
        built = folder / "build.json"
        if not built.is_file():
            texts = texts_for(size, public_sentences(args.datasets))
            base = real_vectors(args.work, texts[: args.embed])
            print(f"building {size:,} chunks in {folder}", flush=True)
            built.parent.mkdir(parents=True, exist_ok=True)
            built.write_text(json.dumps(build(folder, size, texts, base), indent=2))
        elif args.rebuild:
            print(f"rebuilding the BM25 index of {size:,} chunks", flush=True)
            record = json.loads(built.read_text())
            built.write_text(json.dumps({**record, "bm25_rebuild": rebuild_on(folder)}, indent=2))
        results[str(size)] = {"build": json.loads(built.read_text()),
                              **measure(folder, questions, args.answers)}  # fmt: skip
        print(json.dumps(results[str(size)], indent=2), flush=True)
    payload = {"queries": len(questions), "answers": args.answers, "real_vectors": args.embed,
               "sentence_vectors": False, "server": "chroma run on loopback",
               "sizes": results}  # fmt: skip
    print(f"written to {save(args.name, payload)}")


def real_vectors(work: Path, texts: list[str]) -> np.ndarray:
    """The embeddings of ``texts``, kept in ``work`` so that each size reuses them."""
    path = work / f"vectors-{len(texts)}.npy"
    if not path.is_file():
        from assistant.store.embeddings import MiniLMEmbeddings

        work.mkdir(parents=True, exist_ok=True)
        np.save(path, MiniLMEmbeddings().embed_array(texts))
    return np.load(path)  # type: ignore[no-any-return]


if __name__ == "__main__":
    main()
