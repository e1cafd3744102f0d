"""Answer quality on the seed gold set, the SQuAD 2.0 subset and RGB en_fact, in one table.

Each set is converted (the public ones, into the scratch folder), then run through
`assistant eval` with k=4 in a scratch store, so the user's vectorstore/ is never
touched. Figures come from each report.json; the seed set is also split into its
held-out and tuning questions (tags heldout / tune), since only the held-out
figures say how a tuned heuristic generalises. Writes bench/results/quality-BACKEND.json.

    python bench/quality.py [--only seeds,squad,rgb,rgb-unans] [--backend extractive]
        [--rerank none] [--split fit|heldout]

``--split`` asks only one side of the fit/report split (RGB's fit or held-out half, the
seed tune or held-out questions; SQuAD's subset is all held out): for comparing
variants of a slow answerer, such as a local LLM, on the fit side alone.

``rgb-unans`` asks RGB's questions of its snippets without the positive ones: on-topic
questions the documents cannot answer (``convert_rgb.convert_unanswerable``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import convert_rgb
import convert_squad
from common import DEFAULT_DATASETS, datasets_folder, save

ROOT = Path(__file__).resolve().parent.parent
K = 4
# The figures kept per set and split, in table order; a report lacking one (the
# verdict metrics of newer answerers, must_recall without must terms) skips it.
FIGURES = (
    "hit@1",
    "hit@k",
    "answer_in_top_k",
    "must_recall",
    "false_refusal_rate",
    "refusal_rate",
    "f1",
    "exact_match",
    "short_answer_rate",
    "extra_sentence_rate",
    "contains_answer",
    "verdict_rate",
    "verdict_accuracy",
    "latency_p50_ms",
    "latency_p95_ms",
)
COUNTS = ("questions", "answerable", "unanswerable", "errors")
SHORT = {
    "answer_in_top_k": "ans@k",
    "false_refusal_rate": "false_refusal",
    "contains_answer": "contains",
    "exact_match": "EM",
    "short_answer_rate": "short_ans",
    "extra_sentence_rate": "extra_sent",
    "verdict_accuracy": "verdict_acc",
    "latency_p50_ms": "p50 ms",
    "latency_p95_ms": "p95 ms",
}


@dataclass
class QuestionSet:
    """A question set ready for `assistant eval`: its questions, documents and splits."""

    name: str
    questions: Path
    docs: Path
    splits: tuple[str, ...] = ()  # tags reported separately beside "all"


def prepare(name: str, datasets: Path, scratch: Path) -> QuestionSet:
    """Convert the public sets into ``scratch``; the seed set is used where it is."""
    if name == "seeds":
        seeds = ROOT / "tests/eval/seeds.jsonl"
        return QuestionSet(name, seeds, ROOT / "seeds", ("heldout", "tune"))
    out = scratch / name
    if name == "squad":
        convert_squad.convert(datasets / "squad2_subset", out)
        return QuestionSet(name, out / "questions.jsonl", out / "squad-docs")
    if name == "rgb-unans":  # on-topic unanswerable: RGB without its positive snippets
        convert_rgb.convert_unanswerable(datasets / "rgb_en_fact" / "en_fact.json", out)
    else:
        convert_rgb.convert(datasets / "rgb_en_fact" / "en_fact.json", out)
    return QuestionSet(name, out / "questions.jsonl", out / "rgb-docs", ("fit", "heldout"))


def only_split(qset: QuestionSet, split: str, scratch: Path) -> QuestionSet:
    """``qset`` narrowed to the questions tagged ``split`` (``tune`` is the seeds' fit side)."""
    tag = "tune" if split == "fit" and qset.name == "seeds" else split
    if qset.name == "squad":
        if split == "fit":
            sys.exit("squad: the SQuAD dev subset is held-out data only; it has no fit side")
        return qset
    lines = qset.questions.read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if tag in json.loads(line).get("tags", [])]
    out = scratch / qset.name / f"questions-{tag}.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(f"{line}\n" for line in kept), encoding="utf-8")
    return QuestionSet(qset.name, out, qset.docs, (tag,))


def run_eval(qset: QuestionSet, backend: str, scratch: Path, rerank: str) -> dict[str, Any]:
    """Run `assistant eval` on ``qset`` in the scratch store; its report.json."""
    report_dir = scratch / qset.name / f"report-{rerank}"
    env = {**os.environ, "ASSISTANT_STORE_DIR": str(scratch / "store"), "ASSISTANT_CHROMA_URL": ""}
    env["ASSISTANT_RERANK"] = rerank
    # -P: the package comes from the import path (an install, or PYTHONPATH naming
    # another checkout), never from the working directory.
    command = [sys.executable, "-P", "-m", "assistant", "eval", str(qset.questions)]
    command += ["--docs", str(qset.docs), "--backend", backend, "-k", str(K)]
    command += ["--out", str(report_dir)]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{qset.name}: assistant eval failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads((report_dir / "report.json").read_text(encoding="utf-8"))


def figures(summary: dict[str, Any]) -> dict[str, Any]:
    """The counts and the FIGURES a report's summary has a value for."""
    kept = {name: summary[name] for name in COUNTS if name in summary}
    kept |= {name: summary[name] for name in FIGURES if summary.get(name) is not None}
    return kept


def splits(qset: QuestionSet, report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Figures over all questions and over each split tag of the set."""
    out = {"all": figures(report["metrics"])}
    for tag in qset.splits:
        out[tag] = figures(report["by_tag"].get(tag, {"questions": 0}))
    covered = sum(out[tag]["questions"] for tag in qset.splits)
    if qset.splits and covered != out["all"]["questions"]:
        print(f"note: {qset.name} splits {qset.splits} cover {covered} of "
              f"{out['all']['questions']} questions", file=sys.stderr)  # fmt: skip
    return out


def code_version() -> dict[str, Any]:
    """The commit of the assistant package evaluated, and whether its files differ from it."""
    import assistant

    where = Path(assistant.__file__).resolve().parent.parent

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=where, capture_output=True, text=True)
        return done.stdout.strip()

    changed = git("status", "--porcelain", "--", "assistant", "prompts")
    return {"commit": git("rev-parse", "HEAD") or None, "uncommitted_changes": bool(changed)}


def relative(path: Path) -> str:
    """``path`` relative to the project root, so results hold no machine paths."""
    return os.path.relpath(path.resolve(), ROOT)


def cell(name: str, value: Any) -> str:
    if value is None:
        return "–"
    if name.startswith("latency"):
        return f"{value:.0f}"
    return f"{value:.3f}"


def table(results: dict[str, Any]) -> str:
    """The Markdown table: one row per set and split, a column per figure any row has."""
    rows = [(s, split, f) for s, r in results.items() for split, f in r["splits"].items()]
    columns = [name for name in FIGURES if any(name in f for _, _, f in rows)]
    head = ["set", "split", "n (ans/unans)"] + [SHORT.get(c, c) for c in columns]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, split, f in rows:
        n = f"{f['questions']} ({f.get('answerable', 0)}/{f.get('unanswerable', 0)})"
        values = [cell(c, f.get(c)) for c in columns]
        lines.append("| " + " | ".join([name, split, n, *values]) + " |")
    return "\n".join(lines)


def durations(results: dict[str, Any]) -> str:
    lines = ["| set | documents | wall s | asking s |", "|---|---|---|---|"]
    for name, r in results.items():
        s = r["seconds"]
        lines.append(f"| {name} | {r['documents']} | {s['wall']:.0f} | {s['asking']:.0f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=datasets_folder, default=str(ROOT / DEFAULT_DATASETS))
    parser.add_argument("--only", default="seeds,squad,rgb", help="comma-separated sets")
    parser.add_argument("--backend", default="extractive")
    parser.add_argument(
        "--rerank", choices=("fitted", "none"), default="fitted",
        help="the rerank stage (ASSISTANT_RERANK); none: the fused order, as before it",
    )  # fmt: skip
    parser.add_argument("--split", choices=("fit", "heldout"), help="ask only this side")
    parser.add_argument("--name", help="results file bench/results/NAME.json (quality-BACKEND)")
    parser.add_argument("--out", type=Path, default=ROOT / "eval-out/quality", help="scratch")
    args = parser.parse_args()
    # Absolute, since `assistant eval` runs in the project root whatever the caller's cwd.
    args.out, args.datasets = args.out.resolve(), args.datasets.resolve()
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    if unknown := set(names) - {"seeds", "squad", "rgb", "rgb-unans"}:
        parser.error(
            f"unknown set(s) {', '.join(sorted(unknown))}: choose seeds, squad, rgb, rgb-unans"
        )

    # Ingest is incremental: wall times include embedding only into an empty store.
    cold = not (args.out / "store").exists()
    results = {}
    for name in names:
        clock = time.perf_counter()
        qset = prepare(name, args.datasets, args.out)
        if args.split:
            qset = only_split(qset, args.split, args.out)
        report = run_eval(qset, args.backend, args.out, args.rerank)
        wall = time.perf_counter() - clock
        results[name] = {
            "questions": relative(qset.questions),
            "documents": sum(1 for p in qset.docs.rglob("*") if p.is_file()),
            # wall: conversion, start-up, ingest (see store_was_empty) and asking
            "seconds": {"wall": round(wall, 1), "asking": report["meta"]["run_seconds"]},
            "splits": splits(qset, report),
        }
        print(f"{name}: done in {wall:.0f} s", file=sys.stderr)

    settings = {
        "backend": args.backend,
        "rerank": args.rerank,
        "k": K,
        "sets": names,
        "split": args.split or "all",
        "datasets": relative(args.datasets),
        "scratch": relative(args.out),
        "store_was_empty": cold,
        "code": code_version(),
    }
    path = save(args.name or f"quality-{args.backend}", {"settings": settings, "sets": results})
    print(table(results), durations(results), sep="\n\n")
    print(f"\nwritten: {relative(path)}")


if __name__ == "__main__":
    main()
