"""OpenAI's chat shapes to the assistant's and back: pure functions on plain data.

Messages become a question and its history; an ``Answer`` becomes the message text
(markers kept, a ``Sources:`` footer that plain clients show), the grounding fields,
the token usage, and the chunks of a streamed answer.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from assistant.api.schema import ChatMessage, Citation, Grounding, Usage
from assistant.core.errors import UsageError
from assistant.core.types import Answer, Source, Turn
from assistant.text.tokens import count_tokens

FOOTER = "\n\nSources:\n"
# Passages a client quotes itself, fenced as the assistant's own prompt fences them
# (prompts/question.txt): the assistant's `openai` backend and RAG clients like it send
# their retrieved passages and then "Question: ...". This server answers from its own
# documents, so the passages are dropped and the question line is the question; such a
# client lists the sources itself, so its answers go without the Sources footer.
_FENCED = re.compile(r"<source\b[^>]*>.*?</source>", re.DOTALL)
_QUESTION_LINE = re.compile(r"^Question:[ \t]*(.+)$", re.MULTILINE)


@dataclass
class Conversation:
    """What a list of messages asks: the question, the earlier turns, the system messages."""

    question: str
    history: list[Turn] = field(default_factory=list)
    system_ignored: int = 0
    prompt_text: str = ""  # every message's text, for counting prompt tokens
    quoted: bool = False  # the client sent passages of its own (and lists its sources)


def quotes_passages(text: str) -> bool:
    """Whether a user message carries passages the client retrieved itself."""
    return _FENCED.search(text) is not None


def question_of(text: str) -> str:
    """The question in a user message, without any passages the client quoted itself."""
    unfenced = _FENCED.sub("", text)
    if unfenced == text:
        return text.strip()
    lines = _QUESTION_LINE.findall(unfenced)
    return (lines[-1] if lines else unfenced).strip()


def without_footer(text: str) -> str:
    """An earlier answer as the assistant wrote it, without the Sources footer."""
    return text.split(FOOTER, 1)[0].strip()


def conversation_of(messages: list[ChatMessage]) -> Conversation:
    """Earlier user/assistant pairs are the history; the last user message is the question."""
    *earlier, last = messages
    if last.role != "user":
        raise UsageError("The last message must be the user's question (role 'user').")
    history: list[Turn] = []
    asked: str | None = None
    system = 0
    for message in earlier:
        if message.role in ("system", "developer"):
            system += 1  # the assistant's own instructions are not replaced by a client's
        elif message.role == "user":
            asked = question_of(message.text)
        elif message.role == "assistant" and asked is not None:
            history.append(Turn(asked, without_footer(message.text)))
            asked = None
    texts = "\n".join(m.text for m in messages if m.role not in ("system", "developer"))
    return Conversation(question_of(last.text), history, system, texts, quotes_passages(last.text))


def footer(answer: Answer, talk: Conversation | None = None) -> str:
    """The Sources footer: one line per cited source with its quote; empty for a refusal."""
    if not answer.sources or (talk and talk.quoted):
        return ""
    lines = [f"{s.label}: “{s.quote}”" for s in answer.sources]
    return FOOTER + "\n".join(lines)


def citation(source: Source) -> Citation:
    """One cited source: its lines in a text file, its page in a PDF."""
    lines = None if source.page is not None else list(source.lines)
    return Citation(
        n=source.n, source=source.source, lines=lines, page=source.page, quote=source.quote
    )


def grounding(answer: Answer, system_ignored: int = 0) -> Grounding:
    """The citations, the refusal and the unsupported sentences of ``answer``."""
    citations = [citation(s) for s in answer.sources]
    unsupported = [i for i, s in enumerate(answer.sentences) if not s.supported]
    return Grounding(
        citations=citations, refused=answer.refused, unsupported=unsupported,
        system_messages_ignored=system_ignored,
    )  # fmt: skip


def usage(answer: Answer, prompt_text: str, completion_text: str) -> Usage:
    """The model's own counts for an LLM answer; tiktoken's for an extractive one."""
    prompt = answer.usage.get("prompt_tokens") or count_tokens(prompt_text)
    completion = answer.usage.get("completion_tokens") or count_tokens(completion_text)
    return Usage(
        prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion
    )


def chunk(
    ident: str, created: int, model: str, delta: dict[str, str], finish: str | None = None
) -> dict[str, object]:
    """One ``chat.completion.chunk`` of a streamed answer."""
    return {
        "id": ident,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def sse(data: dict[str, object] | str) -> str:
    """One server-sent event: ``data: ...`` and a blank line."""
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return f"data: {text}\n\n"
