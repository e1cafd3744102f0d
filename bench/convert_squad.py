"""Convert the SQuAD 2.0 subset into an `assistant eval` question set and its documents folder.

Each distinct context paragraph becomes one .txt file; every question is asked
against all of them. Unanswerable (is_impossible) questions get ``answer: null``;
``sources`` names the question's own paragraph and ``evidence`` its answer spans.
The data stays where it is: only the converted files are written, under --out.

    python bench/convert_squad.py ../shared/datasets/squad2_subset --out eval-out/squad
    assistant eval eval-out/squad/questions.jsonl --docs eval-out/squad/squad-docs \\
        --out eval-out/squad/report
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import write_question_set


def context_file(context: str) -> str:
    """The file name of a context paragraph: stable across runs, unique per text."""
    return f"ctx-{hashlib.sha256(context.encode()).hexdigest()[:12]}.txt"


def row(query: dict[str, Any], truth: dict[str, Any]) -> dict[str, Any]:
    """One question in the dataset format."""
    impossible = bool(truth["is_impossible"])
    spans = list(dict.fromkeys(a.strip() for a in truth["answers"] if a.strip()))
    return {
        "id": query["id"],
        "question": query["question"].strip(),
        "answer": None if impossible or not spans else spans,
        "evidence": [] if impossible else spans,
        "sources": [context_file(query["context"])],
        "tags": ["unanswerable" if impossible else "answerable"],
    }


def convert(folder: Path, out: Path, limit: int | None = None) -> tuple[int, int]:
    """Write OUT/questions.jsonl and OUT/squad-docs/; (questions, documents) written."""
    queries = json.loads((folder / "queries.json").read_text(encoding="utf-8"))["queries"]
    truth = json.loads((folder / "ground_truth.json").read_text(encoding="utf-8"))
    queries = queries[:limit] if limit else queries
    docs = out / "squad-docs"
    docs.mkdir(parents=True, exist_ok=True)
    contexts = {context_file(q["context"]): q["context"].strip() for q in queries}
    rows = [row(q, truth[q["id"]]) for q in queries]
    write_question_set(out, docs, contexts, rows)
    return len(rows), len(contexts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path, help="the squad2_subset folder")
    parser.add_argument("--out", type=Path, default=Path("eval-out/squad"))
    parser.add_argument("--limit", type=int, default=None, help="only the first N questions")
    args = parser.parse_args()
    questions, documents = convert(args.folder, args.out, args.limit)
    print(f"{questions} questions, {documents} documents -> {args.out}")


if __name__ == "__main__":
    main()
