"""Context windows: an LLM reads each passage with the sentences around it that bear on the
question, and cites the passage.

The neighbours come from a real Chroma store in a temp folder (ingested through the
assistant, on the hashing embedder); the model is a loopback OpenAI-compatible server
that records what it was sent and cites the source holding the sentence it is told to say.
"""

from __future__ import annotations

import http.server
import json
import re
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any, ClassVar

import pytest
from conftest import loopback_server
from fakes import HashEmbeddings

from assistant.core.config import Settings
from assistant.core.types import Hit
from assistant.ingest.documents import chunk_spans
from assistant.library import Library
from assistant.llm.backend import OpenAIBackend
from assistant.pipeline import Assistant
from assistant.query.context import after, before, with_context
from assistant.store.corpus import Corpus

pytestmark = pytest.mark.fast

MILL = (
    "The mill was built beside the river in 1820.\n\n"
    "Its wheel turned for a hundred years without stopping.\n\n"
    "The miller sold flour to the bakers of three towns.\n\n"
    "In the hard winter of 1901 the river froze solid.\n\n"
    "The village rebuilt the wheel the following spring.\n"
)
HARBOUR = (
    "The harbour was dredged to take larger fishing boats.\n\n"
    "A new lighthouse was lit on the northern pier in 1888.\n\n"
    "Storms closed the harbour for a month every autumn.\n"
)
# The store cuts each one-sentence paragraph into a chunk of its own.
CHUNKING = {"chunk_tokens": 20, "chunk_overlap": 5}
FLOUR = "The miller sold flour to the bakers of three towns."
QUESTION = "Who did the miller sell flour to?"
# A question that the sentence after FLOUR bears on too.
FROZE = "Who did the miller sell flour to in the winter the river froze solid?"


# -- the prompt (pure) -------------------------------------------------------------------


def test_the_prompt_shows_a_neighbour_bearing_on_the_question_as_context_outside_the_source(
    settings: Settings,
) -> None:
    backend = OpenAIBackend(settings, HashEmbeddings(), base_url="http://127.0.0.1:9/v1")
    harbour = {"source": "harbour.txt", "line_start": 5, "line_end": 5}
    mill = {"source": "mill.txt", "line_start": 5, "line_end": 5}
    before, after = "Its wheel turned.", "In the hard winter of 1901 the river froze solid."
    hits = [
        Hit("a", "Storms closed the harbour.", harbour, 1.0),
        Hit("b", FLOUR, mill, 0.9, before=before, after=after),
    ]
    messages, budget = backend.messages(FROZE, hits, [])
    prompt = str(messages[-1].content)
    assert (
        f'<source n="2" file="mill.txt" location="line 5">\n{FLOUR}\n</source>\n'
        f'<context source="2" side="after">\n{after}\n</context>'
    ) in prompt
    assert before not in prompt, "a neighbour the question does not bear on is left out"
    assert '<context source="1"' not in prompt, "a chunk without neighbours gets no context"
    assert "<context> around a source only to read it, never to cite" in str(messages[0].content)
    assert budget.dropped_context == 0
    asked_else = str(backend.messages(QUESTION, hits, [])[0][-1].content)
    assert "<context" not in asked_else, "neither neighbour bears on the flour alone"


# -- the neighbours of a chunk (pure, on the chunker's own overlapping spans) -----------


STORY = (
    "The mill was built by the river. Its wheel turned for a century. Then came the "
    "railway. The miller sold flour to the bakers of three towns, and the bakers sold "
    "bread at the market on Saturdays. In winter the river froze. The wheel stopped."
)


def test_neighbours_of_overlapping_chunks_are_the_text_just_outside_them() -> None:
    spans = chunk_spans(STORY, chunk_tokens=20, overlap=8)
    hits = [
        Hit(str(i), STORY[s:e], {"doc_id": "d", "chunk_index": i, "start": s}, 0.0)
        for i, (s, e) in enumerate(spans)
    ]
    assert any(b[0] < a[1] for a, b in pairwise(spans)), "some chunks overlap"
    for (first, (_, end)), (second, (start, _)) in pairwise(zip(hits, spans, strict=True)):
        following, preceding = after(second, first, 1), before(first, second, 1)
        assert following and following not in first.text, "nothing the chunk already shows"
        assert STORY[end:].lstrip(" .").startswith(following), "the words right after it"
        assert preceding and preceding not in second.text
        assert STORY[:start].rstrip().endswith(preceding), "the words right before it"
    assert before(hits[0], hits[1], 2).count(". ") >= 1, "two sentences when asked for two"


# -- the neighbours in a real store ----------------------------------------------------------


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> Settings:
    """A store of two documents of several chunks each, embedded with the hashing embedder."""
    folder = tmp_path_factory.mktemp("context")
    docs = folder / "docs"
    docs.mkdir()
    (docs / "mill.txt").write_text(MILL, encoding="utf-8")
    (docs / "harbour.txt").write_text(HARBOUR, encoding="utf-8")
    settings = Settings(store_dir=folder / "store", cache_dir=cache_dir, **CHUNKING)
    Library(settings, HashEmbeddings()).ingest([docs])
    return settings


def chunks_of(settings: Settings, name: str) -> list[Hit]:
    """The chunks of document ``name`` in the store, in order."""
    got = Corpus.open(settings).collection().get(where={"source": name})
    metas, texts = got["metadatas"] or [], got["documents"] or []
    hits = [Hit(i, t or "", dict(m), 0.0) for i, t, m in zip(got["ids"], texts, metas, strict=True)]
    return sorted(hits, key=lambda h: int(h.metadata["chunk_index"]))


def test_a_chunk_gets_its_own_documents_adjacent_sentences(store: Settings) -> None:
    mill, harbour = chunks_of(store, "mill.txt"), chunks_of(store, "harbour.txt")
    assert len(mill) == 5 and len(harbour) == 3
    collection = Corpus.open(store).collection()
    # One batch for chunks of both documents, in the order given.
    first, middle, last, other_first, other_last = with_context(
        collection, [mill[0], mill[2], mill[4], harbour[0], harbour[2]], 1
    )
    assert middle.text == FLOUR and middle.metadata == mill[2].metadata
    assert middle.before == "Its wheel turned for a hundred years without stopping."
    assert middle.after == "In the hard winter of 1901 the river froze solid."
    assert first.before == "" and first.after == mill[1].text
    assert last.after == "", "the next document's first chunk is not this one's neighbour"
    assert other_first.before == "" and other_last.after == ""
    assert other_first.after == "A new lighthouse was lit on the northern pier in 1888."
    assert with_context(collection, [mill[2]], 0) == [mill[2]], "0 sentences: no window"


# -- the whole path, against a loopback OpenAI-compatible server ------------------------------


class _Chat(http.server.BaseHTTPRequestHandler):
    """Records each chat request; says the sources answer, then streams FLOUR citing the
    source that holds it."""

    requests: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if not body.get("stream"):  # whether the sources answer (llm/answerable.py)
            self._reply({"choices": [{"index": 0, "message": {"role": "assistant",
                        "content": "Yes"}, "finish_reason": "length"}]})  # fmt: skip
            return
        self.requests.append(body)
        prompt = body["messages"][-1]["content"]
        fences = re.findall(r'<source n="(\d+)"[^>]*>\n(.*?)\n</source>', prompt, re.DOTALL)
        n = next((n for n, text in fences if FLOUR in text), "9")
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for piece in [*re.findall(r"\S+\s*", FLOUR[:-1]), f" [{n}]."]:
            self._event({"choices": [{"index": 0, "delta": {"content": piece}}]})
        self._event({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        usage = {"prompt_tokens": 50, "completion_tokens": 12, "total_tokens": 62}
        self._event({"choices": [], "usage": usage})
        self.wfile.write(b"data: [DONE]\n\n")

    def _reply(self, fields: dict[str, object]) -> None:
        reply = json.dumps({"id": "c", "object": "chat.completion", "created": 0, "model": "m",
                            **fields}).encode()  # fmt: skip
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def _event(self, fields: dict[str, object]) -> None:
        chunk = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m", **fields}
        self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def chat_server() -> Iterator[str]:
    """The loopback chat server's /v1 URL; its requests are recorded in ``_Chat.requests``."""
    _Chat.requests = []
    with loopback_server(_Chat) as url:
        yield f"{url}/v1"


def asking(store: Settings, url: str, **more: object) -> Settings:
    """The store answered by the `openai` backend at ``url``."""
    update = {"backend": "openai", "openai_base_url": url, "max_retries": 0, **more}
    return store.model_copy(update=update)


def test_the_model_reads_a_neighbour_and_the_answer_cites_the_chunks_own_lines(
    store: Settings, chat_server: str
) -> None:
    answer = Assistant(asking(store, chat_server), HashEmbeddings()).ask(FROZE, k=2)
    [request] = _Chat.requests
    prompt = request["messages"][-1]["content"]
    cited = re.search(r'<source n="(\d+)"[^>]*>\n' + re.escape(FLOUR), prompt)
    assert cited, "the chunk is shown as a source"
    n = cited.group(1)
    assert (
        f'<context source="{n}" side="after">\n'
        "In the hard winter of 1901 the river froze solid.\n</context>"
    ) in prompt
    assert "Its wheel turned" not in prompt, "the neighbour the question does not bear on"
    assert not answer.refused and answer.answer == f"{FLOUR} [1]"
    [source] = answer.sources
    assert source.source == "mill.txt" and source.lines == (5, 5) and source.location == "line 5"
    assert source.text == FLOUR and source.quote == FLOUR, "the passage alone, not its context"
    assert answer.usage["context_dropped"] == 0


def test_no_neighbours_when_the_setting_is_zero(store: Settings, chat_server: str) -> None:
    llm = asking(store, chat_server, context_sentences=0)
    answer = Assistant(llm, HashEmbeddings()).ask(FROZE, k=2)
    [request] = _Chat.requests
    assert "<context source=" not in request["messages"][-1]["content"]
    assert not answer.refused and answer.sources[0].lines == (5, 5)
