"""Answer latency on the seed questions: the extractive backend end to end, and the local LLM.

For the local backend (on llama.cpp, started here: the 1.5B model of `make
local-model` when installed, else SmolLM2-135M) it reports time to first token,
the whole answer, generation speed (completion tokens per second after the first
token) and the prompt tokens the server had to read (those not served from its
cache), p50 / p95 over the questions.

    python bench/answer.py [--local-questions 20]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import percentile, save

ROOT = Path(__file__).resolve().parent.parent


def questions() -> list[str]:
    """The questions of the seed gold set that need no conversation history."""
    rows = [json.loads(line) for line in (ROOT / "tests/eval/seeds.jsonl").read_text().splitlines()]
    return [r["question"] for r in rows if not r.get("history")]


def summary(values: list[float]) -> dict[str, float]:
    return {"p50": round(percentile(values, 50), 1), "p95": round(percentile(values, 95), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--local-questions", type=int, default=20)
    parser.add_argument("--name", default="answer", help="Results file: bench/results/NAME.json")
    args = parser.parse_args()

    from assistant.answerers import local_model_name
    from assistant.core.config import Settings
    from assistant.library import Library
    from assistant.pipeline import Assistant

    asked = questions()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(store_dir=Path(tmp), backend="extractive")
        extractive = Assistant(settings)
        Library(settings, extractive.embeddings, extractive.corpus).ingest([ROOT / "seeds"])
        extractive.ask(asked[0])  # load the model and indexes before timing
        totals = [extractive.ask(q).timings_ms["total"] for q in asked]

        local = Assistant(settings.model_copy(update={"backend": "local"}), extractive.embeddings)
        local.ask(asked[0])  # start the server and warm it
        ttft, speed, local_totals, read = [], [], [], []
        for question in asked[: args.local_questions]:
            answer = local.ask(question)
            t = answer.timings_ms
            ttft.append(t["first_token"])
            local_totals.append(t["total"])
            usage = answer.usage
            read.append(usage.get("prompt_tokens", 0) - usage.get("prompt_tokens_cached", 0))
            generating = (t["total"] - t["first_token"] - t.get("check", 0.0)) / 1000
            if generating > 0 and answer.usage.get("completion_tokens"):
                speed.append(answer.usage["completion_tokens"] / generating)

    rows = {
        "extractive": {"questions": len(asked), "total_ms": summary(totals)},
        "local": {
            "model": f"{local_model_name(local.settings)}, llama.cpp via xllamacpp",
            "threads": local.settings.local_threads or os.cpu_count(),
            "source_tokens": local.settings.local_source_tokens,
            "questions": len(ttft),
            "time_to_first_token_ms": summary(ttft),
            "tokens_per_s": summary(speed),
            "total_ms": summary(local_totals),
            "prompt_tokens_read": summary(read),
        },
    }
    print(f"{'backend':<12}{'measure':<24}{'p50':>10}{'p95':>10}")
    print(
        f"{'extractive':<12}{'answer, end to end ms':<24}"
        f"{rows['extractive']['total_ms']['p50']:>10}{rows['extractive']['total_ms']['p95']:>10}"
    )
    print(f"local model: {rows['local']['model']}")
    for label, key in (("first token ms", "time_to_first_token_ms"), ("tokens/s", "tokens_per_s"),
                       ("answer, end to end ms", "total_ms"),
                       ("prompt tokens read", "prompt_tokens_read")):  # fmt: skip
        figures = rows["local"][key]
        print(f"{'local':<12}{label:<24}{figures['p50']:>10}{figures['p95']:>10}")
    print(f"written to {save(args.name, rows)}")


if __name__ == "__main__":
    main()
