"""What the chat page shows, as strings: document text escaped, quotes highlighted, markers linked.

Everything that came from a document or a user passes through ``html.escape``
(or ``escape_markdown``) before the few tags added here wrap it, so a document
holding ``<script>`` or ``<img onerror=...>`` shows as text. Each HTML string is a
single line (newlines become ``<br>``): Markdown ends an HTML block at a blank
line, and the rest would then be parsed as Markdown.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

from assistant.text.citations import marker, segments

if TYPE_CHECKING:
    from assistant.core.types import Answer, Hit, Source

# Every ASCII character Markdown (or Streamlit's extensions: $math$, :emoji:,
# :color[...]) gives a meaning; a backslash makes each a literal.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:&=^])")
# The page's Markdown turns bare URLs and e-mail addresses ("https://x", "www.x",
# "a@b.org") into links after escapes are resolved, so no escape stops it; an
# invisible word joiner inside the pattern ("https:\u2060//") does.
_AUTOLINK = re.compile(r"(?<=:)(?=//)|(?<=@)|(?<=www)(?=\.)", re.IGNORECASE)
_WORD_JOINER = "\u2060"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# Private-use characters mark unsupported sentences and the short answer in the raw
# text until it is escaped; any the answer itself holds are dropped first.
_SUPPORT_ON, _SUPPORT_OFF = "\ue000", "\ue001"
_BOLD_ON, _BOLD_OFF = "\ue002", "\ue003"
_PRIVATE = re.compile("[\ue000-\ue003]")

MARK = '<mark style="background:#ffe58f;color:#1f1f1f;padding:0 2px;border-radius:3px">'
CITE = "font-weight:600;text-decoration:none;font-size:0.85em;vertical-align:super"
UNSUPPORTED = (
    '<span title="Not supported by the passage it cites" '
    'style="text-decoration:underline wavy #d9534f;text-underline-offset:3px">⚠ '
)
PASSAGE = "border-left:3px solid #ffc53d;padding:0.2em 0 0.2em 0.7em;margin:0.3em 0 0.9em 0"
GREYED = "opacity:0.55;border-left:3px solid #bfbfbf;padding:0.2em 0 0.2em 0.7em;margin:0.3em 0"


def escape_markdown(text: str) -> str:
    """``text`` as Markdown that renders it literally (for streamed text and questions)."""
    unlinked = _AUTOLINK.sub(_WORD_JOINER, _CONTROL.sub("", text))
    return _MD_SPECIAL.sub(r"\\\1", unlinked)


def text_html(text: str) -> str:
    """``text`` escaped for HTML, on one line."""
    cleaned = _CONTROL.sub("", text.replace("\r\n", "\n"))
    return html.escape(cleaned).replace("\n", "<br>")


def merge_spans(spans: list[tuple[int, int]], length: int) -> list[tuple[int, int]]:
    """Spans clipped to ``[0, length]``, sorted, overlapping ones merged, empty ones dropped."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted((max(0, s), min(length, e)) for s, e in spans):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def quote_spans(source: Source) -> list[tuple[int, int]]:
    """Where the cited sentences sit inside the chunk text.

    Quote offsets count from the start of the file and the chunk starts at
    ``source.start``; should the two disagree, the quote is looked up by its text.
    """
    spans = []
    for quote in source.quotes:
        start = quote.start - source.start
        if source.text[start : start + len(quote.text)] != quote.text:
            start = source.text.find(quote.text)
        if start >= 0:
            spans.append((start, start + len(quote.text)))
    return spans


def highlight(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` as escaped HTML with each span wrapped in ``<mark>``."""
    parts, pos = [], 0
    for start, end in merge_spans(spans, len(text)):
        parts += [text_html(text[pos:start]), MARK, text_html(text[start:end]), "</mark>"]
        pos = end
    parts.append(text_html(text[pos:]))
    return "".join(parts)


def anchor_id(turn_id: str, n: int) -> str:
    """HTML id of cited source ``n`` of a turn, the target of its ``[n]`` markers."""
    return f"src-{turn_id}-{n}"


def _marker(n: int, answer: Answer, turn_id: str) -> str:
    source = next((s for s in answer.sources if s.n == n), None)
    if source is None:
        return marker([n])
    tip = f"{source.source}, {source.location}: {source.quote}"
    return (
        f'<a href="#{anchor_id(turn_id, n)}" target="_self" style="{CITE}" '
        f'title="{html.escape(tip)}">{marker([n])}</a>'
    )


def short_answer_length(answer: Answer, text: str) -> int:
    """How many characters of ``text`` the short answer takes; 0 unless it opens the text."""
    short = answer.short_answer
    if short is None or not short.text.strip() or not text.startswith(short.text):
        return 0
    return len(short.text)


def embolden(text: str, length: int) -> str:
    """``text`` with its first ``length`` characters marked bold (support marks not counted).

    The bold closes before a support mark and reopens after it, so the tags nest.
    """
    out: list[str] = []
    count, bold = 0, False
    for i, char in enumerate(text):
        if count == length:
            return "".join([*out, _BOLD_OFF if bold else "", text[i:]])
        if char in (_SUPPORT_ON, _SUPPORT_OFF):
            out += [_BOLD_OFF, char] if bold else [char]
            bold = False
            continue
        out += [char] if bold else [_BOLD_ON, char]
        bold, count = True, count + 1
    return "".join([*out, _BOLD_OFF if bold else ""])


def answer_html(answer: Answer, turn_id: str) -> str:
    """The answer text, escaped; markers linked, unsupported sentences marked, short answer bold."""
    text = _PRIVATE.sub("", answer.answer)
    short = short_answer_length(answer, text)
    for sentence in answer.unsupported:
        if sentence.text.strip():
            text = text.replace(sentence.text, _SUPPORT_ON + sentence.text + _SUPPORT_OFF, 1)
    text = embolden(text, short)
    body = "".join(
        text_html(part)
        if isinstance(part, str)
        else "".join(_marker(n, answer, turn_id) for n in part)
        for part in segments(text)
    )
    body = body.replace(_SUPPORT_ON, UNSUPPORTED).replace(_SUPPORT_OFF, "</span>")
    body = body.replace(_BOLD_ON, "<b>").replace(_BOLD_OFF, "</b>")
    return f"<div>{body}</div>"


def cited_html(source: Source, answer: Answer, turn_id: str) -> str:
    """A cited source: number, file, page or lines, and its chunk with the quotes marked."""
    where = source.location
    head = f"<b>[{source.n}]</b> <code>{text_html(source.source)}</code>, {where}"
    body = highlight(source.text, quote_spans(source))
    return (
        f'<div id="{anchor_id(turn_id, source.n)}">{head}<div style="{PASSAGE}">{body}</div></div>'
    )


def _score(value: float | None, name: str, digits: int) -> str:
    return "" if value is None else f" · {name} {value:.{digits}f}"


def retrieved_html(hit: Hit) -> str:
    """A retrieved chunk that no sentence cites, greyed, with its scores."""
    scores = (
        f"score {hit.score:.4f}" + _score(hit.dense, "dense", 2) + _score(hit.keyword, "bm25", 2)
    )
    head = f"<code>{text_html(hit.source)}</code>, {hit.location} · {scores}"
    return f'<div style="{GREYED}">{head}<br>{text_html(hit.text)}</div>'


def conversation_markdown(answers: list[Answer]) -> str:
    """The conversation as a Markdown file, each answer followed by its cited passages."""
    out = ["# Conversation\n"]
    for i, answer in enumerate(answers, 1):
        out.append(f"## {i}. {answer.question}\n")
        out.append(f"*{answer.answer}*\n" if answer.refused else f"{answer.answer}\n")
        if answer.sources:
            out.append("**Sources**\n")
        for src in answer.sources:
            out.append(f"[{src.n}] `{src.source}`, {src.location}:\n")
            out.append("\n".join(f"> {line}" for line in src.text.splitlines()) + "\n")
            if src.quotes:
                out.append(f"Cited: “{src.quote}”\n")
    return "\n".join(out)
