"""What an LLM is sent and how its reply is read: the layout of the sources, the prompt, the
decision whether the sources answer, and the grammar.

The model is a loopback OpenAI-compatible server that records each request, says how
likely "yes" is when asked whether the sources answer, and otherwise streams a set
answer citing the source that holds it; documents are embedded with the hashing
embedder. Nothing here needs a model file.
"""

from __future__ import annotations

import http.server
import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from conftest import loopback_server
from fakes import HashEmbeddings
from langchain_core.messages import AIMessage

from assistant.core.config import Settings
from assistant.core.types import REFUSAL, Hit
from assistant.llm.answerable import threshold_for, yes_share
from assistant.llm.backend import OpenAIBackend
from assistant.llm.grammar import cited_answer_grammar
from assistant.llm.layout import GAP, trim
from assistant.text.tokens import count_tokens
from assistant.text.words import sentence_spans

pytestmark = pytest.mark.fast

FLOUR = "The miller sold flour to the bakers of three towns."
QUESTION = "Who did the miller sell flour to?"
# A long passage (over layout.SHORT words) of which one sentence bears on QUESTION.
MILL = (
    "The mill was built beside the river in 1820 by a family of masons from the north. "
    "Its wheel turned for a hundred years without stopping, even in the driest summers. "
    f"{FLOUR} "
    "In the hard winter of 1901 the river froze solid and the wheel cracked in two. "
    "The village rebuilt the wheel the following spring with oak from the manor's woods."
)
HARBOUR = "Storms closed the harbour for a month every autumn."


def hit(text: str, name: str = "mill.txt", **context: str) -> Hit:
    return Hit(name, text, {"source": name, "line_start": 1, "line_end": 1}, 1.0, **context)


# -- the layout of the sources -------------------------------------------------------------


def test_a_long_source_is_cut_to_the_sentences_that_bear_on_the_question() -> None:
    [shown] = trim(QUESTION, [hit(MILL)], HashEmbeddings())
    assert FLOUR in shown.text and "1820" not in shown.text and "oak" not in shown.text
    assert shown.text.startswith(GAP) and shown.text.endswith(GAP), "cuts are marked"


def test_a_short_source_is_shown_whole_and_the_numbering_kept() -> None:
    hits = [hit(HARBOUR, "harbour.txt"), hit(FLOUR)]
    shown = trim(QUESTION, hits, HashEmbeddings())
    assert [s.text for s in shown] == [HARBOUR, FLOUR], "one per hit, in order, none dropped"


def test_a_neighbour_is_shown_only_when_it_bears_on_the_question() -> None:
    froze = "In the hard winter of 1901 the river froze solid."
    passage = hit(FLOUR, before="Its wheel turned for a hundred years.", after=froze)
    [plain] = trim(QUESTION, [passage], HashEmbeddings())
    assert (plain.before, plain.after) == ("", "")
    asked = "Who did the miller sell flour to in the winter the river froze solid?"
    [winter] = trim(asked, [passage], HashEmbeddings())
    assert (winter.before, winter.after) == ("", froze)


def test_within_a_token_budget_the_least_relevant_sentences_go_first_across_sources(
    cache_dir: Path,
) -> None:
    froze = "In the hard winter of 1901 the river froze solid."
    hits = [hit(MILL), hit(f"{HARBOUR} {FLOUR}", "harbour.txt", after=froze)]
    asked = "Who did the miller sell flour to in the winter the river froze solid?"
    whole = trim(asked, hits, HashEmbeddings())
    assert whole[1].after == froze, "context bearing on the question is kept without a budget"
    tight = trim(asked, hits, HashEmbeddings(), tokens=45)
    assert [c.after for c in tight] == ["", ""] and HARBOUR in tight[1].text, "context first"
    cut = trim(asked, hits, HashEmbeddings(), tokens=40)
    assert sum(count_tokens(c.text) for c in cut) <= 40
    assert HARBOUR not in cut[1].text and cut[1].text.endswith(FLOUR), "then the least relevant"
    # Too small a budget for every best sentence: each source still shows one.
    least = trim(asked, hits, HashEmbeddings(), tokens=1)
    assert all(len(sentence_spans(c.text.strip(GAP + " "))) == 1 for c in least)


# -- the prompt ------------------------------------------------------------------------------


def test_the_prompt_opens_with_a_short_fixed_system_prompt_then_numbered_sources(
    settings: Settings,
) -> None:
    backend = OpenAIBackend(settings, HashEmbeddings(), base_url="http://127.0.0.1:9/v1")
    hits = [hit(HARBOUR, "harbour.txt"), hit(FLOUR)]
    first, _ = backend.messages(QUESTION, hits, [])
    other, _ = backend.messages("When did the river freeze?", hits[::-1], [])
    system = str(first[0].content)
    assert first[0].type == "system" and system == str(other[0].content), "a cacheable prefix"
    assert len(sentence_spans(system)) <= 3
    asked = str(first[-1].content)
    assert asked.index('<source n="1" file="harbour.txt"') < asked.index(
        '<source n="2" file="mill.txt"'
    )
    assert asked.rstrip().endswith(f"Question: {QUESTION}")


def test_a_local_model_reads_sources_fenced_by_number_alone_within_its_budget(
    settings: Settings,
) -> None:
    backend = OpenAIBackend(settings, HashEmbeddings(), base_url="http://127.0.0.1:9/v1",
                            grammar=True, source_tokens=40)  # fmt: skip
    messages, _ = backend.messages(QUESTION, [hit(HARBOUR, "harbour.txt"), hit(MILL)], [])
    asked = str(messages[-1].content)
    assert '<source n="1">' in asked and '<source n="2">' in asked
    assert "harbour.txt" not in asked and "location=" not in asked
    assert FLOUR in asked and "1820" not in asked


# -- the decision, then the answer, against a loopback server -------------------------------


class _Model(http.server.BaseHTTPRequestHandler):
    """Records each request; asked for one token, answers "Yes" or "No" with ``yes`` as the
    probability of yes; else streams FLOUR citing the source holding it."""

    requests: ClassVar[list[dict[str, Any]]] = []
    yes: ClassVar[float] = 0.9

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.requests.append(body)
        if not body.get("stream"):
            self._decide()
            return
        sources = re.findall(
            r'<source n="(\d+)"[^>]*>\n(.*?)\n</source>', body["messages"][-1]["content"], re.DOTALL
        )
        n = next(n for n, text in sources if FLOUR in text)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for piece in [*re.findall(r"\S+\s*", FLOUR[:-1]), f" [{n}]."]:
            self._send(
                "chat.completion.chunk", {"index": 0, "delta": {"content": piece}}, event=True
            )
        self.wfile.write(b"data: [DONE]\n\n")

    def _decide(self) -> None:
        tops = [{"token": word, "logprob": math.log(p), "bytes": None}
                for word, p in (("Yes", self.yes), ("No", 1 - self.yes)) if p > 0]  # fmt: skip
        said = "Yes" if self.yes >= 0.5 else "No"
        choice = {"index": 0, "message": {"role": "assistant", "content": said},
                  "logprobs": {"content": [{**tops[0], "top_logprobs": tops}]},
                  "finish_reason": "length"}  # fmt: skip
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self._send("chat.completion", choice)

    def _send(self, kind: str, choice: dict[str, Any], event: bool = False) -> None:
        body = json.dumps(
            {"id": "c", "object": kind, "created": 0, "model": "m", "choices": [choice]}
        )
        self.wfile.write(f"data: {body}\n\n".encode() if event else body.encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def model() -> Iterator[str]:
    """The loopback model's /v1 URL; its requests are recorded in ``_Model.requests``."""
    _Model.requests, _Model.yes = [], 0.9
    with loopback_server(_Model) as url:
        yield f"{url}/v1"


def answered(settings: Settings, url: str, grammar: bool) -> tuple[str, str]:
    """What the backend streams for QUESTION over the harbour and flour passages, and its
    draft (``query/checks.py`` turns a draft into the answer)."""
    backend = OpenAIBackend(settings, HashEmbeddings(), base_url=url, model="m",
                            grammar=grammar, threshold=0.5)  # fmt: skip
    items = list(backend.stream(QUESTION, [hit(HARBOUR, "harbour.txt"), hit(FLOUR)], []))
    draft = items.pop()
    return "".join(str(piece) for piece in items), str(getattr(draft, "text", ""))


def test_sources_the_model_says_answer_are_answered_without_the_refusal_to_choose(
    settings: Settings, model: str
) -> None:
    streamed, draft = answered(settings, model, grammar=True)
    assert streamed == f"{FLOUR[:-1]} [1]." and draft == f"{FLOUR[:-1]} [2]."
    decision, answer = _Model.requests
    assert decision["max_completion_tokens"] == 1 and decision["logprobs"]
    assert decision["top_logprobs"] >= 2
    assert "Reply yes or no" in decision["messages"][-1]["content"]
    assert answer["messages"][:-1] == decision["messages"][:-1], "one cached prefix"
    assert decision["messages"][-1]["content"].startswith(answer["messages"][-1]["content"])
    assert "refusal ::=" not in answer["grammar"].split("\n")[0], "the refusal is no choice"
    assert answer["temperature"] == 0 and answer["cache_prompt"] and decision["cache_prompt"]


def test_sources_the_model_says_do_not_answer_are_refused_without_writing(
    settings: Settings, model: str
) -> None:
    _Model.yes = 0.3
    streamed, draft = answered(settings, model, grammar=True)
    assert streamed.strip() == draft == REFUSAL
    assert len(_Model.requests) == 1, "no answer is written"


def test_another_server_gets_neither_grammar_nor_cache_setting(
    settings: Settings, model: str
) -> None:
    streamed, _ = answered(settings, model, grammar=False)
    assert streamed == f"{FLOUR[:-1]} [1]."
    assert all("grammar" not in r and "cache_prompt" not in r for r in _Model.requests)


def test_the_share_of_yes_is_read_from_logprobs_else_from_the_word() -> None:
    def reply(content: str, tops: list[tuple[str, float]]) -> AIMessage:
        top = [{"token": t, "logprob": math.log(p)} for t, p in tops]
        return AIMessage(
            content, response_metadata={"logprobs": {"content": [{"top_logprobs": top}]}}
        )

    assert yes_share(
        reply("Yes", [("Yes", 0.6), (" yes", 0.1), ("No", 0.2), ("The", 0.1)])
    ) == pytest.approx(0.7 / 0.9)
    assert yes_share(AIMessage("No")) == 0.0 and yes_share(AIMessage("Yes.")) == 1.0
    # A server that answers the question instead decides nothing: it is not refused.
    assert yes_share(AIMessage("Nobody knows. North Korea [1].")) == 1.0
    assert threshold_for("gpt-4o-mini") == 0.5, "another model: its plain yes or no"


# -- the grammar -----------------------------------------------------------------------------


def test_the_grammar_may_leave_the_refusal_out() -> None:
    refusable = cited_answer_grammar(2, REFUSAL)
    decided = cited_answer_grammar(2, REFUSAL, refusable=False)
    assert refusable.startswith("root ::= refusal | sentence")
    assert decided.startswith("root ::= sentence") and 'number ::= "1" | "2"' in decided
    assert cited_answer_grammar(0, REFUSAL, refusable=False) == f'root ::= "{REFUSAL}"'
