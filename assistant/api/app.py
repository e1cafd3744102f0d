"""The FastAPI app: routes, the API key, request limits, CORS and the error shape.

Safe by default: with ``ASSISTANT_API_KEY`` set every ``/v1`` route wants it as a
bearer token (compared in constant time); CORS is off unless ``ASSISTANT_API_CORS``
names origins; bodies over their limit are refused before they are read.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from starlette.concurrency import run_in_threadpool

from assistant.api import chat, documents, errors
from assistant.api.errors import ApiError
from assistant.api.service import Service
from assistant.core.config import Settings

# ASGI's own types: messages are dicts of any value (the ASGI spec, not ours).
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Message, Receive, Send], Awaitable[None]]

MAX_BODY_BYTES = 1024 * 1024  # a chat request: 64 messages of 16,000 characters fit
TOO_LARGE = "The request body is larger than {limit:,} bytes."


def create_app(settings: Settings) -> FastAPI:
    """The API over the store the settings name (the model loads when the app starts)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(app.state.service.warm)
        yield

    app = FastAPI(
        title="Grounded assistant",
        summary="OpenAI-compatible chat over your documents; every answer cites its sources.",
        version="1",
        lifespan=lifespan,
    )
    app.state.service = Service(settings)
    errors.install(app, settings.debug)
    guard = [Depends(key_check(settings))]
    app.include_router(chat.router, dependencies=guard)
    app.include_router(documents.router, dependencies=guard)
    if settings.api_cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.api_cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(BodyLimit, limit_for=lambda path: body_limit(settings, path))
    return app


def key_check(settings: Settings) -> Callable[[Request], None]:
    """The dependency that wants ``Authorization: Bearer <ASSISTANT_API_KEY>`` when it is set."""
    key = settings.api_key.get_secret_value().encode() if settings.api_key else b""

    def check(request: Request) -> None:
        if not key:
            return
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), key):
            raise ApiError(
                401, "Missing or wrong API key: send 'Authorization: Bearer <key>', the key "
                "the server was started with (ASSISTANT_API_KEY).", "invalid_api_key",
            )  # fmt: skip

    return check


def body_limit(settings: Settings, path: str) -> int:
    """Largest body of a request to ``path``: an upload may carry one file of the ingest limit."""
    if path.startswith("/v1/documents"):
        return int(settings.max_file_mb * 1024 * 1024) + MAX_BODY_BYTES
    return MAX_BODY_BYTES


class BodyLimit:
    """Refuses a body over its limit with 413: by Content-Length at once, else while it arrives."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int]) -> None:
        self.app, self.limit_for = app, limit_for

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await too_large(send, limit)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:  # raised inside the route: answered by the ApiError handler
                raise ApiError(413, TOO_LARGE.format(limit=limit), "request_too_large")
            return message

        await self.app(scope, counted, send)


async def too_large(send: Send, limit: int) -> None:
    """The 413 response in OpenAI's error shape, sent without reading the body."""
    error = {"message": TOO_LARGE.format(limit=limit), "type": "invalid_request_error",
             "param": None, "code": "request_too_large"}  # fmt: skip
    payload = json.dumps({"error": error}).encode()
    headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
