"""The HTTP API (`assistant serve`), driven by clients nobody here wrote.

One real server process over the seeded store for the module, on a free loopback
port with an API key; the `openai` package (whole and streamed), LangChain's
ChatOpenAI and the assistant's own `openai` backend ask it the same two questions.
The pure parts (messages to a question, the footer, the bind check) are fast tests.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from assistant.api.openai_format import conversation_of, footer, question_of
from assistant.api.schema import ChatMessage
from assistant.api.server import check_bind
from assistant.core.config import Settings
from assistant.core.errors import UsageError
from assistant.core.types import REFUSAL, Quote, Source
from assistant.llm.prompts import fence_source, render
from assistant.pipeline import Assistant
from tests.conftest import SEED_FILE, cli_env, run_cli

KEY = "sk-test-4f7d1c0e9b2a"
PUTIN = "What gifts did Putin and Kim exchange?"
FIFA = "Who won the 2022 FIFA World Cup?"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, seeded_dir: Path, cache_dir: Path
) -> Iterator[str]:
    """A real `assistant serve` over a copy of the seeded store (uploads change it); …/v1."""
    yield from serve(
        tmp_path_factory.mktemp("api"), seeded_dir, cache_dir, ASSISTANT_MAX_FILE_MB="0.05"
    )


def serve(folder: Path, seeded_dir: Path, cache_dir: Path, **settings: str) -> Iterator[str]:
    """Run `assistant serve` with ``settings`` over a copy of the seeded store; yield …/v1."""
    port = free_port()
    store = shutil.copytree(seeded_dir, folder / "vectorstore")
    env = cli_env(store, cache_dir, ASSISTANT_API_PORT=str(port), ASSISTANT_API_KEY=KEY, **settings)
    with (folder / "server.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "assistant", "serve"], stdout=log, stderr=subprocess.STDOUT,
            env=env, cwd=folder, start_new_session=True,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while True:
        try:
            httpx.get(f"{url}/models", headers={"Authorization": f"Bearer {KEY}"}, timeout=2)
            break
        except httpx.TransportError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError((folder / "server.log").read_text()) from None
            time.sleep(0.3)
    yield url
    process.terminate()
    process.wait(10)
    assert KEY not in (folder / "server.log").read_text()  # the key is never logged


def seed_cited(text: str, citations: list[dict[str, object]]) -> None:
    """The cited answer to PUTIN: rifles, marker [1], and the seed file among the citations."""
    assert "rifle" in text.lower() and "[1]" in text
    assert SEED_FILE.name in text  # the Sources footer a plain client shows
    assert citations[0]["n"] == 1 and citations[0]["source"] == SEED_FILE.name


def test_openai_package_whole_answers(server: str) -> None:
    from openai import OpenAI

    client = OpenAI(base_url=server, api_key=KEY)
    cited = client.chat.completions.create(
        model="seeds", messages=[{"role": "system", "content": "Be brief."},
                                 {"role": "user", "content": PUTIN}],
    )  # fmt: skip
    extra = cited.model_extra or {}
    seed_cited(cited.choices[0].message.content or "", extra["citations"])
    assert extra["refused"] is False and extra["system_messages_ignored"] == 1
    assert cited.usage and cited.usage.prompt_tokens > 0 and cited.usage.completion_tokens > 20
    refused = client.chat.completions.create(
        model="seeds", messages=[{"role": "user", "content": FIFA}]
    )
    assert refused.choices[0].message.content == REFUSAL
    assert (refused.model_extra or {})["refused"] is True


def test_openai_package_streams_with_citations_last(server: str) -> None:
    from openai import OpenAI

    client = OpenAI(base_url=server, api_key=KEY)
    for question in (PUTIN, FIFA):
        chunks = list(
            client.chat.completions.create(
                model="seeds",
                messages=[{"role": "user", "content": question}],
                stream=True,
                stream_options={"include_usage": True},
            )
        )
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert len(chunks) > 5  # word by word, not all at once
        last = chunks[-1].model_extra or {}
        assert chunks[-1].usage and chunks[-1].usage.total_tokens > 0
        if question == PUTIN:
            seed_cited(text, last["citations"])
        else:
            assert text == REFUSAL and last["refused"] is True and last["citations"] == []


def test_langchain_chat_openai(server: str) -> None:
    from langchain_openai import ChatOpenAI

    chat = ChatOpenAI(model="seeds", base_url=server, api_key=KEY)  # type: ignore[arg-type]
    seed_cited(str(chat.invoke(PUTIN).content), [{"n": 1, "source": SEED_FILE.name}])
    assert str(chat.invoke(FIFA).content) == REFUSAL


def test_the_assistants_own_openai_backend(  # type: ignore[no-untyped-def]
    server: str, seeded_dir: Path, cache_dir: Path, embeddings
) -> None:
    """A second assistant whose `openai` backend is this server: its checks pass our answer."""
    settings = Settings(
        store_dir=seeded_dir, cache_dir=cache_dir, backend="openai", openai_base_url=server,
        openai_api_key=KEY, openai_model="seeds", max_retries=0,
    )  # fmt: skip
    second = Assistant(settings, embeddings)
    cited = second.ask(PUTIN)
    assert not cited.refused and "rifle" in cited.answer.lower() and "[1]" in cited.answer
    assert cited.sources[0].source == SEED_FILE.name
    assert "Sources:" not in cited.answer  # it lists its sources itself: no footer for it
    assert cited.usage["completion_tokens"] > 0
    assert second.ask(FIFA).refused


def test_an_llm_answerer_behind_the_api(  # type: ignore[no-untyped-def]
    tmp_path: Path, seeded_dir: Path, cache_dir: Path, llm_server
) -> None:
    """The `openai` backend (here on the bundled llama.cpp model) answers through the API.

    The small model's wording varies between requests even at temperature 0, so this
    checks what holds for any answer: the model wrote it (its usage), and it is either
    the refusal or sentences whose markers all name a cited source.
    """
    from openai import OpenAI

    backend = {
        "ASSISTANT_BACKEND": "openai", "ASSISTANT_OPENAI_BASE_URL": llm_server.base_url,
        "ASSISTANT_OPENAI_MODEL": "local", "ASSISTANT_CONTEXT_WINDOW": "2048",
        "ASSISTANT_MAX_ANSWER_TOKENS": "120", "ASSISTANT_TIMEOUT": "120",
    }  # fmt: skip
    for url in serve(tmp_path, seeded_dir, cache_dir, **backend):
        client = OpenAI(base_url=url, api_key=KEY, timeout=300)
        answer = client.chat.completions.create(
            model="seeds", messages=[{"role": "user", "content": PUTIN}]
        )
        text = answer.choices[0].message.content or ""
        extra = answer.model_extra or {}
        assert answer.usage and answer.usage.completion_tokens > 0  # the model's own count
        if extra["refused"]:
            assert text == REFUSAL and extra["citations"] == []
        else:
            numbers = {int(n) for n in re.findall(r"\[(\d+)\]", text.split("Sources:")[0])}
            assert numbers and numbers == {c["n"] for c in extra["citations"]}
            assert all(c["source"] == SEED_FILE.name for c in extra["citations"])


def test_a_key_is_required_and_never_echoed(server: str) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": KEY}):
        reply = httpx.get(f"{server}/models", headers=headers)
        assert reply.status_code == 401 and KEY not in reply.text
        assert reply.json()["error"]["code"] == "invalid_api_key"
    reply = httpx.post(
        f"{server}/chat/completions", headers={"Authorization": f"Bearer {KEY}"},
        json={"model": "seeds", "messages": [{"role": "user", "content": KEY}]},
    )  # fmt: skip
    assert reply.status_code == 200  # a question that is the key is answered, not echoed
    assert KEY not in reply.text


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 400, "invalid_json"),
        (b'{"model": "seeds"}', 422, "invalid_value"),
        (b'{"model": "nope", "messages": [{"role": "user", "content": "hi"}]}', 404,
         "model_not_found"),
        (b'{"model": "seeds", "messages": [{"role": "user", "content": "' + b"a" * 2001
         + b'"}]}', 400, "invalid_request"),
        (b'{"model": "seeds", "messages": [{"role": "assistant", "content": "' + b"a" * 16_001
         + b'"}, {"role": "user", "content": "Why?"}]}', 422, "invalid_value"),
        (b'{"model": "seeds", "messages": [{"role": "user", "content": "   "}]}', 400,
         "invalid_request"),
        (b'{"model": "seeds", "messages": [{"role": "user", "content": "' + b"a" * 2_100_000
         + b'"}]}', 413, "request_too_large"),
    ],
)  # fmt: skip
def test_errors_in_openais_shape(server: str, body: bytes, status: int, code: str) -> None:
    reply = httpx.post(
        f"{server}/chat/completions", content=body,
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
    )  # fmt: skip
    assert reply.status_code == status
    error = reply.json()["error"]
    assert error["code"] == code and error["message"] and "type" in error and "param" in error
    assert "Traceback" not in reply.text


def test_a_body_without_length_is_cut_at_the_limit(server: str) -> None:
    def chunks() -> Iterator[bytes]:  # sent chunked: no Content-Length to refuse it by
        yield b'{"model": "seeds", "messages": [{"role": "user", "content": "'
        for _ in range(40):
            yield b"a" * 65536
        yield b'"}]}'

    reply = httpx.post(
        f"{server}/chat/completions", content=chunks(),
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
    )  # fmt: skip
    assert reply.status_code == 413 and reply.json()["error"]["code"] == "request_too_large"


def test_serving_beyond_loopback_without_a_key_refuses_to_start(
    tmp_path: Path, cache_dir: Path
) -> None:
    done = run_cli("serve", "--host", "0.0.0.0", store=tmp_path / "vs", cache=cache_dir)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "ASSISTANT_API_KEY" in done.stderr


NOTE = b"""# Lighthouse log

The keeper of the Skerry Point lighthouse painted its lantern room green in 1911.
"""


def test_documents_uploaded_listed_asked_and_removed(server: str) -> None:
    auth = {"Authorization": f"Bearer {KEY}"}
    files = [("files", ("../../lighthouse.md", NOTE)), ("files", ("photo.png", b"png"))]
    reply = httpx.post(f"{server}/documents", headers=auth, files=files,
                       data={"collection": "notes-api"}, timeout=120)  # fmt: skip
    assert reply.status_code == 200, reply.text
    uploaded = reply.json()
    assert uploaded["saved"] == ["lighthouse.md"] and uploaded["chunks_added"] >= 1
    assert uploaded["skipped"][0]["name"] == "photo.png"
    models = httpx.get(f"{server}/models", headers=auth).json()["data"]
    assert {"seeds", "notes-api"} <= {m["id"] for m in models}

    from openai import OpenAI

    client = OpenAI(base_url=server, api_key=KEY)
    asked = client.chat.completions.create(
        model="notes-api",
        messages=[{"role": "user", "content": "What colour was the lantern room painted?"}],
    )
    assert "green" in (asked.choices[0].message.content or "")
    assert (asked.model_extra or {})["citations"][0]["source"].endswith("lighthouse.md")

    listed = httpx.get(f"{server}/documents", headers=auth, params={"collection": "notes-api"})
    [doc] = listed.json()["data"]
    assert doc["path"].endswith("lighthouse.md") and doc["format"] == "md" and doc["present"]
    gone = httpx.delete(f"{server}/documents/{doc['id']}", headers=auth,
                        params={"collection": "notes-api"})  # fmt: skip
    assert gone.status_code == 200 and gone.json()["files_removed"] == 1
    again = httpx.delete(f"{server}/documents/{doc['id']}", headers=auth,
                         params={"collection": "notes-api"})  # fmt: skip
    assert again.status_code == 404 and again.json()["error"]["code"] == "document_not_found"
    assert httpx.get(f"{server}/documents", headers=auth,
                     params={"collection": "notes-api"}).json()["data"] == []  # fmt: skip


@pytest.mark.parametrize(
    ("name", "content", "status", "code"),
    [("photo.png", b"png", 400, "unsupported_file"),
     ("big.txt", b"word " * 20_000, 413, "file_too_large")],
)  # fmt: skip
def test_uploads_the_ingest_would_refuse(
    server: str, name: str, content: bytes, status: int, code: str
) -> None:
    reply = httpx.post(
        f"{server}/documents", headers={"Authorization": f"Bearer {KEY}"},
        files=[("files", (name, content))],
    )  # fmt: skip
    assert reply.status_code == status and reply.json()["error"]["code"] == code


def test_docs_show_every_route_with_examples(server: str) -> None:
    schema = httpx.get(server.removesuffix("/v1") + "/openapi.json").json()
    routes = {(path, verb) for path, verbs in schema["paths"].items() for verb in verbs}
    assert routes >= {
        ("/v1/chat/completions", "post"), ("/v1/models", "get"), ("/v1/documents", "get"),
        ("/v1/documents", "post"), ("/v1/documents/{ident}", "delete"),
    }  # fmt: skip
    models = schema["components"]["schemas"]
    for name in ("ChatRequest", "ChatResponse", "ModelList", "Document", "Uploaded", "Removed"):
        assert models[name].get("examples"), name


# -- the pure parts ------------------------------------------------------------------


@pytest.mark.fast
def test_messages_become_a_question_and_its_history() -> None:
    messages = [
        ChatMessage(role="system", content="You are a pirate."),
        ChatMessage(role="user", content="Who visited Pyongyang?"),
        ChatMessage(role="assistant", content="Shoigu [1].\n\nSources:\n[1] a.txt, line 3: “x”"),
        ChatMessage(role="user", content=[{"type": "text", "text": "Why?"}]),  # type: ignore[list-item]
    ]
    talk = conversation_of(messages)
    assert talk.question == "Why?" and talk.system_ignored == 1
    turns = [(t.question, t.answer) for t in talk.history]
    assert turns == [("Who visited Pyongyang?", "Shoigu [1].")]
    with pytest.raises(UsageError, match="last message"):
        conversation_of(messages[:3])


@pytest.mark.fast
def test_passages_a_client_quotes_are_dropped_from_its_question() -> None:
    sources = "\n\n".join(fence_source(n, "a.txt", "Question: not this one") for n in (1, 2))
    prompt = render("question", sources=sources, question=PUTIN)
    assert question_of(prompt) == PUTIN
    assert conversation_of([ChatMessage(role="user", content=prompt)]).quoted
    assert question_of("  Question: as typed  ") == "Question: as typed"


@pytest.mark.fast
def test_the_footer_names_each_cited_source() -> None:
    from assistant.core.types import Answer

    cited = Source(1, "c1", "a.pdf", (1, 1), "", "text", 0, [Quote("A quote.", 0, 8)], page=3)
    answer = Answer("q", "It is so [1].", False, "extractive", [cited], [])
    assert footer(answer) == "\n\nSources:\n[1] a.pdf, page 3: “A quote.”"
    assert footer(Answer.refusal("q", "extractive", [])) == ""


@pytest.mark.fast
@pytest.mark.parametrize(
    ("host", "key", "refused"),
    [("127.0.0.1", None, False), ("localhost", None, False), ("::1", None, False),
     ("0.0.0.0", None, True), ("example.org", None, True), ("0.0.0.0", "k", False)],
)  # fmt: skip
def test_only_loopback_serves_without_a_key(host: str, key: str | None, refused: bool) -> None:
    settings = Settings(api_host=host, api_key=key)  # type: ignore[arg-type]
    if refused:
        with pytest.raises(UsageError, match="ASSISTANT_API_KEY"):
            check_bind(settings)
    else:
        check_bind(settings)


@pytest.mark.fast
@pytest.mark.parametrize("origins", ["", "https://chat.example.org"])
def test_cors_only_for_the_origins_listed(origins: str) -> None:
    from fastapi.testclient import TestClient

    from assistant.api.app import create_app

    client = TestClient(create_app(Settings(api_cors=origins, api_key="k")))  # type: ignore[arg-type]
    preflight = client.options(
        "/v1/models",
        headers={"Origin": "https://chat.example.org", "Access-Control-Request-Method": "GET"},
    )
    allowed = preflight.headers.get("access-control-allow-origin")
    assert allowed == (origins or None)
    assert client.get("/v1/models").status_code == 401  # the key is checked before the store


@pytest.mark.fast
def test_answers_take_turns_and_a_long_queue_is_told_to_come_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import asyncio

    from assistant.api import service
    from assistant.api.errors import ApiError

    monkeypatch.setattr(service, "MAX_WAITING", 1)
    shared = service.Service(Settings())

    async def answer(done: list[int]) -> None:
        async with shared.turn():
            done.append(1)

    async def scenario() -> None:
        running = [shared.turn() for _ in range(service.ANSWERS_AT_ONCE)]
        for slot in running:
            await slot.__aenter__()
        done: list[int] = []
        queued = asyncio.create_task(answer(done))
        await asyncio.sleep(0.01)
        assert done == []  # both slots are taken: it waits
        with pytest.raises(ApiError) as busy:
            await answer(done)
        assert busy.value.status_code == 429
        await running[0].__aexit__(None, None, None)
        await queued
        assert done == [1]

    asyncio.run(scenario())
