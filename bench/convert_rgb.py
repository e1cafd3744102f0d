"""Convert RGB's English fact set into an `assistant eval` question set and its documents folder.

Every distinct positive and negative snippet becomes one .txt file; each question
is asked against all of them. ``answer`` holds RGB's accepted answers (RGB nests
date variants in lists); ``evidence`` the positive snippets that contain one of
them (all positives are listed in ``sources`` when none does); ``fakeanswer`` is
kept as an extra field. The data stays where it is: only the converted files are
written, under --out.

    python bench/convert_rgb.py ../shared/datasets/rgb_en_fact/en_fact.json --out eval-out/rgb
    assistant eval eval-out/rgb/questions.jsonl --docs eval-out/rgb/rgb-docs \\
        --out eval-out/rgb/report
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
from splits import rgb_split


def snippet_file(text: str) -> str:
    """The file name of a snippet: stable across runs, one file per distinct text."""
    return f"snip-{hashlib.sha256(text.encode()).hexdigest()[:12]}.txt"


def answers(value: Any) -> list[str]:
    """RGB's answer as a flat list of accepted strings (a string, or lists of variants)."""
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    return list(dict.fromkeys(a for part in value for a in answers(part)))


def row(entry: dict[str, Any]) -> dict[str, Any]:
    """One question in the dataset format."""
    accepted = answers(entry["answer"])
    positives = [p.strip() for p in entry["positive"] if p.strip()]
    holding = [p for p in positives if any(a.lower() in p.lower() for a in accepted)]
    return {
        "id": f"rgb-{entry['id']}",
        "question": entry["query"].strip(),
        "answer": accepted or None,
        "evidence": holding,
        "sources": [] if holding else [snippet_file(p) for p in positives],
        # fit / heldout: the fixed half a figure comes from (bench/splits.py)
        "tags": ["rgb", rgb_split(entry["query"])] + ([] if holding else ["no-evidence"]),
        "fakeanswer": entry.get("fakeanswer"),
    }


def entries(path: Path) -> list[dict[str, Any]]:
    """RGB's questions, one JSON object a line."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def snippets(items: list[dict[str, Any]]) -> dict[str, str]:
    """Every positive and negative snippet, by file name."""
    return {
        snippet_file(text.strip()): text.strip()
        for entry in items
        for text in entry["positive"] + entry["negative"]
        if text.strip()
    }


def negative_snippets(items: list[dict[str, Any]]) -> dict[str, str]:
    """The negative snippets that are no question's positive one, by file name."""
    positives = {text.strip() for entry in items for text in entry["positive"]}
    return {
        snippet_file(text.strip()): text.strip()
        for entry in items
        for text in entry["negative"]
        if text.strip() and text.strip() not in positives
    }


def unanswerable(items: list[dict[str, Any]], negatives: dict[str, str]) -> list[dict[str, Any]]:
    """The questions that the negative snippets cannot answer: none holds their answer."""
    bodies = [text.lower() for text in negatives.values()]
    return [
        entry
        for entry in items
        if not any(a.lower() in body for a in answers(entry["answer"]) for body in bodies)
    ]


def convert(path: Path, out: Path) -> tuple[int, int]:
    """Write OUT/questions.jsonl and OUT/rgb-docs/; (questions, documents) written."""
    items = entries(path)
    docs = out / "rgb-docs"
    docs.mkdir(parents=True, exist_ok=True)
    texts = snippets(items)
    rows = [row(entry) for entry in items]
    write_question_set(out, docs, texts, rows)
    return len(rows), len(texts)


def convert_unanswerable(path: Path, out: Path) -> tuple[int, int]:
    """On-topic unanswerable questions: every question asked of its corpus without any
    positive snippet, so each topic stays (the negatives are on it) and each fact goes.

    A question whose answer a remaining snippet still holds is left out. Writes
    OUT/questions.jsonl (answer null, tagged fit / heldout by ``splits.rgb_split``) and
    OUT/rgb-docs/; returns (questions, documents) written.
    """
    items = entries(path)
    negatives = negative_snippets(items)
    rows = [
        {
            "id": f"rgb-unans-{entry['id']}",
            "question": entry["query"].strip(),
            "answer": None,
            "tags": ["rgb-unanswerable", rgb_split(entry["query"])],
        }
        for entry in unanswerable(items, negatives)
    ]
    write_question_set(out, out / "rgb-docs", negatives, rows)
    return len(rows), len(negatives)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("path", type=Path, help="RGB's en_fact.json (JSON Lines)")
    parser.add_argument("--out", type=Path, default=Path("eval-out/rgb"))
    parser.add_argument(
        "--unanswerable", action="store_true",
        help="on-topic unanswerable questions: the corpus without any positive snippet",
    )  # fmt: skip
    args = parser.parse_args()
    make = convert_unanswerable if args.unanswerable else convert
    questions, documents = make(args.path, args.out)
    print(f"{questions} questions, {documents} documents -> {args.out}")


if __name__ == "__main__":
    main()
