"""Whether the sources answer the question, asked of the model on its own before it answers.

Offered the refusal sentence as one way to reply, the local 1.5B model took it for
questions its sources plainly answer ("How are Kim's armored limousines put onto
his train?", whose source says "using a specially designed ramp"), whatever the
wording of the rule. Asked only "Does any of the sources answer this question?",
it says yes to that question (a share of 0.75-0.89 over the prompts tried). So the
decision is a request of its own, one token long, read from the probabilities of
"yes" and "no" the server reports (``logprobs``); a server that reports none is read
by the word it wrote, and one that writes neither is not refused by it. Below the
model's threshold the answer is the refusal and nothing is written; above it the
answer is written without the refusal to choose from (the local grammar leaves it
out), and the check still refuses an answer that no source backs.

The decision request is the answer's prompt with the yes/no question appended, so
llama.cpp's prompt cache (``cache_prompt``) serves the answer request all but its
last few tokens: the decision costs the question's dozen tokens and one generated
token more than the answer alone.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from langchain_core.messages import AIMessage

# Below this share of "yes" the question is refused, by model: the GGUF file's name for
# the local backend, the model's name for another server. Refit by evaluating the fit
# questions (seed tune split, RGB fit half, RGB unanswerable fit half) with the
# threshold at 0 and reading ``answerable_permille`` from each question's usage
# (docs/performance.md has the commands and the figures).
THRESHOLDS = {
    # On those 104 questions (2026-12-05, sources fenced by number) the share ran
    # 0.68-0.91 for RGB's answerable ones and 0.68-0.92 for the seeds' but one (0.56),
    # and 0.53-0.83 for the 8 seed unanswerable ones that reach it (the guard refuses
    # the others): 0.65 refuses 5 of those 8 and that one answerable question. RGB's
    # unanswerable ones ran 0.66-0.88: no threshold refuses them without refusing
    # answerable ones.
    "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf": 0.65,
    # SmolLM2-135M says yes with a share of 0.10-0.17 whether or not a source answers
    # (four seed questions): no signal to refuse by, so it never refuses here, and the
    # check refuses what no source backs.
    "SmolLM2-135M-Instruct.Q4_1.gguf": 0.0,
}
# Any other model: its plain yes or no.
DEFAULT_THRESHOLD = 0.5
TOP_LOGPROBS = 10


def threshold_for(model: str) -> float:
    """The share of "yes" below which ``model``'s answer is the refusal."""
    return THRESHOLDS.get(model, DEFAULT_THRESHOLD)


def yes_share(reply: AIMessage) -> float:
    """P(yes) / (P(yes) + P(no)) of the reply's first token; its word when none is reported."""
    logprobs = reply.response_metadata.get("logprobs") or {}
    content = logprobs.get("content") or []
    tops = content[0].get("top_logprobs", []) if content else []
    yes = sum(math.exp(t["logprob"]) for t in tops if _word(t["token"]) == "yes")
    no = sum(math.exp(t["logprob"]) for t in tops if _word(t["token"]) == "no")
    if yes + no > 0:
        return yes / (yes + no)
    # No probabilities: its word. A reply that is neither (a server that answers every
    # request, as this project's own API does) decides nothing: the answer request and
    # its check do.
    return 0.0 if _word(str(reply.content)) == "no" else 1.0


def _word(text: str) -> str:
    """The first word of ``text``, lower-cased."""
    words = re.findall(r"\w+", text.lower())
    return words[0] if words else ""
