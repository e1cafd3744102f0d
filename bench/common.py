"""Shared helpers of the benchmark scripts: machine facts, the public text corpus, results."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import sys
from importlib import metadata
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_DATASETS = Path("../shared/datasets")


def datasets_folder(value: str) -> Path:
    """The ``--datasets`` argument: the folder holding the public sets, checked up front."""
    path = Path(value)
    missing = [
        f"{name}/" for name in ("squad2_subset", "rgb_en_fact") if not (path / name).is_dir()
    ]
    if missing:
        raise argparse.ArgumentTypeError(
            f"{path} has no {' or '.join(missing)}: pass --datasets PATH, the folder that "
            "holds the public datasets (squad2_subset/, rgb_en_fact/)"
        )
    return path


def machine() -> dict[str, object]:
    """CPU model, cores, memory, Python and library versions."""
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    with contextlib.suppress(OSError, IndexError, ValueError):
        mem = int(Path("/proc/meminfo").read_text().split()[1]) // 1024
    versions = {}
    # jax: the training extra; when installed, bm25s imports it (about 0.5 s of a cold start)
    packages = ("chromadb", "onnxruntime", "tokenizers", "langchain-core", "bm25s", "numpy", "jax")
    for package in packages:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_mib": mem,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "versions": versions,
    }


def public_paragraphs(datasets: Path) -> list[str]:
    """Distinct paragraphs of the SQuAD 2.0 subset and RGB snippets (public evaluation data)."""
    squad = json.loads((datasets / "squad2_subset" / "queries.json").read_text())["queries"]
    texts = list(dict.fromkeys(q["context"] for q in squad))
    for line in (datasets / "rgb_en_fact" / "en_fact.json").read_text().splitlines():
        if line.strip():
            row = json.loads(line)
            texts += [s for key in ("positive", "negative") for s in row.get(key, [])]
    return list(dict.fromkeys(t.strip() for t in texts if t.strip()))


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0-100) by linear interpolation."""
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return (
        statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]
        if p < 100
        else max(values)
    )


def save(name: str, payload: dict[str, object]) -> Path:
    """Write ``bench/results/NAME.json`` with the machine facts."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **payload}, indent=2) + "\n")
    return path


def public_sentences(datasets: Path) -> list[str]:
    """Distinct sentences of the public paragraphs."""
    from assistant.text.words import sentence_spans

    out = [text[s:e] for text in public_paragraphs(datasets) for s, e in sentence_spans(text)]
    return list(dict.fromkeys(s for s in out if len(s) > 40))


def build_corpus(datasets: Path, folder: Path, files: int, seed: int = 7) -> list[Path]:
    """``files`` documents of 3-5 sentences drawn from the public data: one chunk each.

    The public sets hold about 1,400 paragraphs, too few for a 10,000-chunk store,
    so each document recombines real sentences; chunks keep realistic wording and
    length (about 100-150 tokens) and are all distinct.
    """
    import random

    rng = random.Random(seed)
    pool = public_sentences(datasets)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(files):
        path = folder / f"doc{i:05d}.txt"
        path.write_text(" ".join(rng.sample(pool, rng.randint(3, 5))) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_question_set(out: Path, docs: Path, documents: dict[str, str], rows: list[dict]) -> None:
    """Write ``documents`` (file name -> text) into ``docs`` and ``rows`` as questions.jsonl.

    Files of an earlier run that are no longer part of the set are removed, so
    `assistant eval --docs` sees exactly this set.
    """
    docs.mkdir(parents=True, exist_ok=True)
    for stale in docs.glob("*.txt"):
        if stale.name not in documents:
            stale.unlink()
    for name, text in documents.items():
        (docs / name).write_text(text + "\n", encoding="utf-8")
    lines = [json.dumps(r, ensure_ascii=False) for r in rows]
    (out / "questions.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
