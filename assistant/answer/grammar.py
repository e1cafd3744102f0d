"""A llama.cpp grammar that makes a small local model cite: every sentence ends in ``[n]``.

SmolLM2-135M, the bundled model, follows "cite every claim" in the prompt too
rarely for its answers to pass the citation checks. llama.cpp's server accepts a
GBNF grammar with each request and samples only text the grammar allows, so the
model can write either the refusal sentence or one to three sentences, each
closed by a marker among the sources actually shown. The checks still score
every sentence against the source it cites; the grammar only rules out the
uncited form. Remote OpenAI-compatible servers are not sent it: not all accept it.
"""

from __future__ import annotations

MAX_SENTENCES = 3


def _literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _numbers(n_sources: int) -> str:
    """Alternatives ``"1" | "2" | ... `` for the valid source numbers."""
    return " | ".join(f'"{n}"' for n in range(1, n_sources + 1))


def cited_answer_grammar(n_sources: int, refusal: str) -> str:
    """GBNF: the refusal, or up to MAX_SENTENCES sentences each ending in a valid ``[n]``."""
    if n_sources < 1:
        return f"root ::= {_literal(refusal)}"
    more = MAX_SENTENCES - 1
    return "\n".join(
        [
            f'root ::= refusal | sentence (" " sentence){{0,{more}}}',
            f"refusal ::= {_literal(refusal)}",
            # A sentence starts with a capital or a digit and holds no brackets, line
            # break or full stop; where the model would end it, a marker must follow.
            'sentence ::= [A-Z0-9] [^\\[\\]\\n.]{10,300} (" [" number "]." | ". [" number "]")',
            f"number ::= {_numbers(n_sources)}",
        ]
    )
