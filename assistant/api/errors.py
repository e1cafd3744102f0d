"""Every error of the HTTP API in OpenAI's shape, with its status code, and never a traceback.

``{"error": {"message", "type", "param", "code"}}``: the assistant's own errors keep
their message (it says what to do next); anything unexpected is logged and answered
with a generic 500.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from fastapi import HTTPException
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.api.schema import ErrorResponse
from assistant.core.errors import (
    AssistantError,
    EmbeddingMismatchError,
    LLMError,
    NoCollectionError,
    NothingIndexedError,
    StoreBusyError,
    StoreError,
)

if TYPE_CHECKING:
    from fastapi import FastAPI, Request

log = logging.getLogger("assistant.api")

# The assistant's errors by status: a store that cannot be opened is the server's
# problem (503), a busy ingest lock a moment's wait (429), a failing model upstream 502.
STATUS: list[tuple[type[AssistantError], int, str]] = [
    (StoreBusyError, 429, "store_busy"),
    (NothingIndexedError, 404, "model_not_found"),
    (NoCollectionError, 404, "model_not_found"),
    (EmbeddingMismatchError, 503, "store_unavailable"),
    (StoreError, 503, "store_unavailable"),
    (LLMError, 502, "upstream_error"),
]
# The error responses `/docs` lists for every route.
ERRORS: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorResponse, "description": what}
    for status, what in [
        (400, "Bad request: malformed JSON, an empty or too long question."),
        (401, "Missing or wrong API key (when ASSISTANT_API_KEY is set)."),
        (404, "Unknown collection (model) or document."),
        (413, "Request body or file too large."),
        (422, "A field is missing or has the wrong type."),
        (429, "Too many requests waiting, or the store is busy ingesting."),
        (503, "The vector store cannot be opened."),
    ]
}
TYPES = {401: "authentication_error", 429: "rate_limit_error", 502: "api_error", 503: "api_error"}


class ApiError(HTTPException):
    """An error answered as it is: status, message, OpenAI's type, param and code."""

    def __init__(self, status: int, message: str, code: str, param: str | None = None) -> None:
        super().__init__(status, message)
        self.message, self.code, self.param = message, code, param


def body(status: int, message: str, code: str | None, param: str | None = None) -> JSONResponse:
    """The error response in OpenAI's shape."""
    kind = TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    error = {"message": message, "type": kind, "param": param, "code": code}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"error": error}, status_code=status, headers=headers)


def of_assistant(exc: AssistantError) -> tuple[int, str]:
    """Status and code of one of the assistant's errors (400 unless listed in STATUS)."""
    for kind, status, code in STATUS:
        if isinstance(exc, kind):
            return status, code
    return 400, "invalid_request"


def install(app: FastAPI, debug: bool) -> None:
    """Answer every error in OpenAI's shape."""

    @app.exception_handler(ApiError)
    async def _api(request: Request, exc: ApiError) -> JSONResponse:
        return body(exc.status_code, exc.message, exc.code, exc.param)

    @app.exception_handler(AssistantError)
    async def _assistant(request: Request, exc: AssistantError) -> JSONResponse:
        status, code = of_assistant(exc)
        return body(status, str(exc), code)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        if first.get("type") == "json_invalid":
            return body(400, "The request body is not valid JSON.", "invalid_json")
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return body(422, f"{where or 'body'}: {first.get('msg')}", "invalid_value", where or None)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return body(exc.status_code, str(exc.detail), None)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("%s on %s: %s", type(exc).__name__, request.url.path, exc, exc_info=debug)
        return body(500, f"Internal error ({type(exc).__name__}); the server log says more.", None)
