"""``/v1/chat/completions`` and ``/v1/models``: OpenAI's chat, answered from a collection.

A streamed answer sends its text as it is written, then any change the citation
check made, the Sources footer, and, in the last chunk before ``[DONE]``, the
grounding fields (``citations``, ``refused``, ``unsupported``).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from assistant.answerers import answer_model
from assistant.api import openai_format as fmt
from assistant.api.errors import ERRORS, of_assistant
from assistant.api.schema import (
    ChatRequest,
    ChatResponse,
    Choice,
    Model,
    ModelList,
    ResponseMessage,
)
from assistant.api.service import Service, Shared
from assistant.core.errors import AssistantError
from assistant.core.types import Answer
from assistant.pipeline import Assistant

router = APIRouter(prefix="/v1", tags=["chat"])
log = logging.getLogger("assistant.api")


@router.get("/models", response_model=ModelList, responses=ERRORS)
async def models(svc: Shared) -> ModelList:
    """The collections, one model each: the ``model`` of a chat request picks one."""
    names = await run_in_threadpool(svc.names)
    writer = answer_model(svc.settings)
    return ModelList(data=[Model(id=name, answer_model=writer) for name in names])


@router.post(
    "/chat/completions",
    response_model=ChatResponse,
    responses={
        **ERRORS,
        200: {
            "description": "The answer; with `stream: true`, server-sent events "
            "(`data: {chunk}` lines, the grounding fields in the last, then `data: [DONE]`).",
            "content": {"text/event-stream": {}},
        },
    },
)
async def chat_completions(body: ChatRequest, svc: Shared) -> ChatResponse | StreamingResponse:
    """Answer the last user message from collection ``model``, citing its sources."""
    talk = fmt.conversation_of(body.messages)
    assistant = await run_in_threadpool(svc.assistant, body.model)
    usage_chunk = bool(body.stream_options and body.stream_options.include_usage)
    head = Head(f"chatcmpl-{uuid.uuid4().hex}", int(time.time()), body.model, talk, usage_chunk)
    if body.stream:
        return await streamed(svc, assistant, head)
    async with svc.turn():
        answer = await run_in_threadpool(assistant.ask, talk.question, talk.history)
    text = answer.answer + fmt.footer(answer, talk)
    return ChatResponse(
        id=head.ident, created=head.created, model=body.model,
        choices=[Choice(message=ResponseMessage(content=text))],
        usage=fmt.usage(answer, talk.prompt_text, text),
        **fmt.grounding(answer, talk.system_ignored).model_dump(),
    )  # fmt: skip


async def streamed(svc: Service, assistant: Assistant, head: Head) -> StreamingResponse:
    """The answer as server-sent events; it holds its answer slot until the last one."""
    stream = assistant.stream(head.talk.question, head.talk.history)  # a bad question: 400
    pieces = iter(stream)
    turn = svc.turn()
    await turn.__aenter__()
    try:  # retrieval runs before the first piece: its errors are still a status code
        first = await run_in_threadpool(next, pieces, None)
    except BaseException:
        await turn.__aexit__(None, None, None)
        raise

    async def events() -> AsyncIterator[str]:
        try:
            async for event in head.events(first, pieces, lambda: stream.answer):
                yield event
        finally:
            await turn.__aexit__(None, None, None)

    return StreamingResponse(events(), media_type="text/event-stream")


class Head:
    """The fixed parts of a streamed answer's chunks, and the events of one answer."""

    def __init__(
        self, ident: str, created: int, model: str, talk: fmt.Conversation, include_usage: bool
    ) -> None:
        self.ident, self.created, self.model = ident, created, model
        self.talk, self.include_usage = talk, include_usage

    def chunk(self, delta: dict[str, str], finish: str | None = None) -> dict[str, object]:
        return fmt.chunk(self.ident, self.created, self.model, delta, finish)

    async def events(
        self, first: str | None, pieces: Iterator[str], answer_of: Callable[[], Answer | None]
    ) -> AsyncIterator[str]:
        """The answer's events: role, text pieces, corrections and footer, grounding, [DONE]."""
        yield fmt.sse(self.chunk({"role": "assistant", "content": ""}))
        shown: list[str] = []
        piece = first
        try:
            while piece is not None:
                shown.append(piece)
                yield fmt.sse(self.chunk({"content": piece}))
                piece = await run_in_threadpool(next, pieces, None)
        except Exception as exc:  # the headers are sent: the error is the last event
            yield fmt.sse(stream_error(exc))
            yield fmt.sse("[DONE]")
            return
        answer = answer_of()
        assert answer is not None  # set once the stream is exhausted
        for event in self.closing(answer, "".join(shown)):
            yield event

    def closing(self, answer: Answer, streamed: str) -> Iterator[str]:
        """After the streamed text: the check's changes, the footer, the grounding, [DONE]."""
        tail = ""
        if answer.answer != streamed.strip():  # the check changed it (as `assistant ask` shows)
            tail = ("\n\n" if streamed.strip() else "") + answer.answer
        tail += fmt.footer(answer, self.talk)
        if tail:
            yield fmt.sse(self.chunk({"content": tail}))
        last = self.chunk({}, "stop")
        usage = fmt.usage(answer, self.talk.prompt_text, streamed + tail)
        if self.include_usage:  # OpenAI's usage chunk: no choices, after the finish chunk
            yield fmt.sse(last)
            last = {**last, "choices": [], "usage": usage.model_dump()}
        last.update(fmt.grounding(answer, self.talk.system_ignored).model_dump())
        yield fmt.sse(last)
        yield fmt.sse("[DONE]")


def stream_error(exc: Exception) -> dict[str, object]:
    """The event that ends a stream that failed after its headers were sent."""
    if isinstance(exc, AssistantError):
        status, code = of_assistant(exc)
        message = str(exc)
    else:
        log.error("%s while streaming: %s", type(exc).__name__, exc)
        status, code = 500, None
        message = f"Internal error ({type(exc).__name__}); the server log says more."
    kind = "server_error" if status >= 500 else "invalid_request_error"
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}
