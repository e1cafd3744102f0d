"""The context budget: what fits in the model's window, counted with tiktoken."""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.text.tokens import count_tokens

# OpenAI's families on o200k_base: gpt-4o, gpt-4.1, gpt-5 and the o-series.
_O200K = re.compile(r"^(gpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|o\d)", re.IGNORECASE)
_WINDOWS = {"gpt-4o": 128_000, "gpt-4.1": 1_000_000, "gpt-5": 400_000, "o": 200_000}
PER_MESSAGE = 4  # tokens of chat formatting around each message


def encoding_for(model: str) -> str:
    """The tiktoken encoding that counts tokens for ``model``."""
    return "o200k_base" if _O200K.match(model) else "cl100k_base"


def window_for(model: str, default: int = 8192) -> int:
    """Known context window of an OpenAI model; ``default`` for any other model."""
    for prefix, size in _WINDOWS.items():
        if model.lower().startswith(prefix) and (prefix != "o" or _O200K.match(model)):
            return size
    return default


@dataclass
class Budget:
    """What was kept to fit the window, and the token counts."""

    sources: list[str]
    history: list[tuple[str, str]]
    prompt_tokens: int
    window: int
    dropped_sources: int
    dropped_turns: int
    dropped_context: int = 0  # kept sources shown without the context they came with


def fit(
    system: str,
    sources: list[str],
    history: list[tuple[str, str]],
    question: str,
    window: int,
    reserve: int,
    encoding: str = "cl100k_base",
    bare: list[str] | None = None,
) -> Budget:
    """Until all fits: drop the sources' context, then the lowest-ranked sources, then turns.

    ``sources`` are best first; ``bare`` holds the same sources without the sentences
    around them (``prompts.fence_source``), swapped in lowest-ranked first before any
    source is dropped. ``history`` is oldest first as (question, answer), and the oldest
    turns go first. The question and system prompt are always kept.
    """

    def cost(text: str) -> int:
        return count_tokens(text, encoding) + PER_MESSAGE

    plain = bare if bare is not None else sources
    fixed = cost(system) + cost(question)
    source_costs = [cost(s) for s in sources]
    plain_costs = [cost(s) for s in plain]
    turn_costs = [cost(q) + cost(a) for q, a in history]

    def total(n_context: int, n_sources: int, n_turns: int) -> int:
        shown = source_costs[:n_context] + plain_costs[n_context:n_sources]
        return fixed + sum(shown) + sum(turn_costs[len(turn_costs) - n_turns :])

    # The first n_context of the n_sources kept keep their context; n_context reaches 0
    # before any source is dropped.
    n_context, n_sources, n_turns = len(sources), len(sources), len(history)
    while total(n_context, n_sources, n_turns) > window - reserve and (n_sources or n_turns):
        if n_context:
            n_context -= 1
        elif n_sources:
            n_sources -= 1
        else:
            n_turns -= 1
    kept = sources[:n_context] + plain[n_context:n_sources]
    return Budget(
        sources=kept,
        history=history[len(history) - n_turns :],
        prompt_tokens=total(n_context, n_sources, n_turns),
        window=window,
        dropped_sources=len(sources) - n_sources,
        dropped_turns=len(history) - n_turns,
        dropped_context=sum(a != b for a, b in zip(kept, sources, strict=False)),
    )
