"""A llama.cpp grammar that makes a small local model cite: every sentence ends in ``[n]``.

SmolLM2-135M, the bundled model, follows "cite every claim" in the prompt too
rarely for its answers to pass the citation checks. llama.cpp's server accepts a
GBNF grammar with each request and samples only text the grammar allows, so the
model can write either the refusal sentence or one to three sentences, each
closed by a marker among the sources actually shown. The checks still score
every sentence against the source it cites; the grammar only rules out the
uncited form. Remote OpenAI-compatible servers are not sent it: not all accept it.

A full stop inside a sentence is allowed when a letter or digit follows it ("2.5
million") or it ends initials ("the U.S. Open"), at most three times a sentence;
anywhere else a full stop ends the sentence, so its marker comes next. (Allowing any
character after it let the 1.5B model, wanting to stop after "ramp.", write "//"
rather than a marker.) Each stretch between such stops is at most 300 characters:
unbounded, SmolLM2-135M once wrote "3.1.1.2.3.4.5..." up to the answer's token limit.
"""

from __future__ import annotations

MAX_SENTENCES = 3


def _literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _numbers(n_sources: int) -> str:
    """Alternatives ``"1" | "2" | ... `` for the valid source numbers."""
    return " | ".join(f'"{n}"' for n in range(1, n_sources + 1))


def cited_answer_grammar(n_sources: int, refusal: str, refusable: bool = True) -> str:
    """GBNF: the refusal (when ``refusable``), or up to MAX_SENTENCES sentences each ending
    in a valid ``[n]``; with no source, only the refusal."""
    if n_sources < 1:
        return f"root ::= {_literal(refusal)}"
    more = MAX_SENTENCES - 1
    answer = f'sentence (" " sentence){{0,{more}}}'
    return "\n".join(
        [
            f"root ::= refusal | {answer}" if refusable else f"root ::= {answer}",
            f"refusal ::= {_literal(refusal)}",
            # A sentence opens with a capital, a digit or a quotation mark, holds no
            # brackets, line break or "<" (the 1.5B model wrote "according to <source
            # n=...>"), and ends with its marker before or after the full stop.
            'sentence ::= [A-Z0-9"“] body (" " cite "." | ". " cite)',
            # At most three full stops inside: SmolLM2-135M, free to write "." and a
            # digit anywhere, counted "113.114.115..." up to the token limit.
            "body ::= run (inner run?){0,3}",
            "run ::= [^\\[\\]\\n.<]{1,300}",
            'inner ::= "." [A-Za-z0-9] | "." [A-Z] ". "',
            'cite ::= "[" number "]"',
            f"number ::= {_numbers(n_sources)}",
        ]
    )
