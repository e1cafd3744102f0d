"""Request and response models of the HTTP API, in OpenAI's shapes plus the citations.

Each model carries an example, so `/docs` shows a request and a response for every route.
Fields OpenAI defines and the assistant does not use (``temperature``, ``top_p``, ...)
are accepted and ignored, so existing clients work unchanged.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from assistant.pipeline import MAX_QUESTION_CHARS

MAX_MESSAGES = 64
# A question is at most MAX_QUESTION_CHARS (the pipeline checks it). Other messages may
# be longer: an earlier answer with its Sources footer, or a client's prompt that
# quotes passages of its own (which are dropped, see openai_format.question_of).
MAX_MESSAGE_CHARS = 8 * MAX_QUESTION_CHARS

PUTIN = "What gifts did Putin and Kim exchange?"
QUOTE = (
    "Russian President Vladimir Putin and North Korean leader Kim Jong-un exchanged rifles "
    "as gifts during their meeting in Russia"
)
CITED = f"{QUOTE}. [1]\n\nSources:\n[1] 000_46f147bf0e9866ff.txt, line 16: “{QUOTE}”"


class TextPart(BaseModel):
    """One part of a message's content given as a list (only text parts are read)."""

    model_config = ConfigDict(extra="allow")
    type: str = "text"
    text: str = ""


class ChatMessage(BaseModel):
    """One message of the conversation."""

    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[TextPart] | None = None

    @model_validator(mode="after")
    def _not_too_long(self) -> ChatMessage:
        if len(self.text) > MAX_MESSAGE_CHARS:
            raise ValueError(
                f"a message is {len(self.text):,} characters long; keep each under "
                f"{MAX_MESSAGE_CHARS:,} (a question under {MAX_QUESTION_CHARS:,})"
            )
        return self

    @property
    def text(self) -> str:
        """The message's text (text parts joined)."""
        if isinstance(self.content, list):
            return "".join(p.text for p in self.content if p.type == "text")
        return self.content or ""


class StreamOptions(BaseModel):
    """OpenAI's ``stream_options``: ``include_usage`` adds a usage chunk before ``[DONE]``."""

    include_usage: bool = False


class ChatRequest(BaseModel):
    """``POST /v1/chat/completions``: ``model`` names the collection to answer from."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "model": "seeds",
                    "messages": [{"role": "user", "content": PUTIN}],
                    "stream": False,
                }
            ]
        },
    )
    model: str = Field(description="The collection (`GET /v1/models` lists them).")
    messages: list[ChatMessage] = Field(min_length=1, max_length=MAX_MESSAGES)
    stream: bool = False
    stream_options: StreamOptions | None = None


class Citation(BaseModel):
    """A cited source: its number in the text, file, where in it, and the quoted sentences."""

    n: int
    source: str
    lines: list[int] | None = Field(None, description="First and last line (text files).")
    page: int | None = Field(None, description="Page (PDFs).")
    quote: str


class ResponseMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    index: int = 0
    message: ResponseMessage
    finish_reason: Literal["stop"] = "stop"


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class Grounding(BaseModel):
    """The assistant's fields beside OpenAI's: citations, refusal, unsupported sentences."""

    citations: list[Citation] = Field(default_factory=list)
    refused: bool = False
    unsupported: list[int] = Field(
        default_factory=list, description="Indices of answer sentences their sources do not back."
    )
    system_messages_ignored: int = 0


class ChatResponse(Grounding):
    """A whole answer (``stream: false``), with the grounding fields at the top level."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "chatcmpl-5b0c...",
                    "object": "chat.completion",
                    "created": 1764320000,
                    "model": "seeds",
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": CITED},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 9, "completion_tokens": 61, "total_tokens": 70},
                    "citations": [
                        {
                            "n": 1,
                            "source": "000_46f147bf0e9866ff.txt",
                            "lines": [16, 16],
                            "page": None,
                            "quote": QUOTE,
                        }
                    ],
                    "refused": False,
                    "unsupported": [],
                    "system_messages_ignored": 0,
                }
            ]
        }
    )
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage


class Model(BaseModel):
    """A collection, as OpenAI lists a model."""

    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "assistant"
    answer_model: str = Field(
        description="The model that writes the answers (the same for every collection)."
    )


class ModelList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "object": "list",
                    "data": [
                        {
                            "id": "seeds",
                            "object": "model",
                            "created": 0,
                            "owned_by": "assistant",
                            "answer_model": "Qwen2.5 Coder 1.5B Instruct (Q4_K_M)",
                        }
                    ],
                }
            ]
        }
    )
    object: Literal["list"] = "list"
    data: list[Model]


class ErrorBody(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorResponse(BaseModel):
    """Every error, in OpenAI's shape."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "error": {
                        "message": "No collection 'nope': GET /v1/models lists them.",
                        "type": "invalid_request_error",
                        "param": "model",
                        "code": "model_not_found",
                    }
                }
            ]
        }
    )
    error: ErrorBody
