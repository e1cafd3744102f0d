"""The chat page, driven like a user by Streamlit's AppTest, and the pure parts it shows through."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import ROOT, SEEDS
from streamlit.testing.v1 import AppTest

from assistant.core.config import Settings
from assistant.core.types import REFUSAL, Answer, Quote, Sentence, ShortAnswer, Source
from assistant.ingest.uploads import safe_filename, save_uploads
from assistant.ui.render import (
    answer_html,
    conversation_markdown,
    escape_markdown,
    highlight,
    quote_spans,
    text_html,
)

APP = str(ROOT / "assistant" / "ui" / "app.py")
GIFTS = "What gifts did Putin and Kim exchange?"
CITED_LINE = "exchanged rifles as gifts"
EVIL = (
    "The Zorblax rocket engine was built by <script>alert(1)</script> engineers "
    'at Acme, says <img src=x onerror="alert(2)"> the report.\n'
)


@pytest.fixture
def store(tmp_path: Path, seeded_dir: Path) -> Path:
    """A copy of the seeded store that the page may write to (uploads, feedback)."""
    copy = tmp_path / "store"
    shutil.copytree(seeded_dir, copy)
    return copy


@pytest.fixture
def page(monkeypatch: pytest.MonkeyPatch, store: Path, cache_dir: Path) -> AppTest:
    """The page over the seeded store, run once (its settings come from the environment)."""
    monkeypatch.setenv("ASSISTANT_STORE_DIR", str(store))
    monkeypatch.setenv("ASSISTANT_CACHE_DIR", str(cache_dir))
    monkeypatch.setenv("ASSISTANT_SEEDS_DIR", str(SEEDS))
    return _run(AppTest.from_file(APP, default_timeout=120))


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def ask(at: AppTest, question: str) -> AppTest:
    """Type ``question`` into the chat input and send it."""
    at.chat_input[0].set_value(question)
    return _run(at)


def shown(markdown_text: str) -> str:
    """Roughly what a reader sees of a Markdown element: escapes and entities resolved."""
    import html

    return html.unescape(markdown_text.replace("\\", ""))


def page_text(at: AppTest) -> str:
    """Every text and label on the page, main area and sidebar."""
    texts = [
        e.value
        for kind in ("markdown", "caption", "info", "error", "warning")
        for e in at.get(kind)
    ]
    labels = [e.label for kind in ("button", "expander", "status", "slider") for e in at.get(kind)]
    return "\n".join(map(str, texts + labels))


def sidebar_captions(at: AppTest) -> str:
    return "\n".join(shown(c.value) for c in at.sidebar.caption)


def main_text(at: AppTest) -> str:
    return "\n".join(m.value for m in at.main.markdown)


def sources(at: AppTest, turn: int = -1) -> str:
    expander = at.main.expander[turn]
    assert expander.label.startswith("Sources")
    return "\n".join(m.value for m in expander.markdown)


# --- the page -------------------------------------------------------------------------


def test_empty_state_says_what_the_corpus_is_and_offers_examples(page: AppTest) -> None:
    assert "news summaries from September 2023" in main_text(page)
    examples = [b.label for b in page.main.button]
    assert len(examples) == 3 and GIFTS in examples
    assert not page.chat_message


def test_sidebar_names_backend_models_and_corpus(page: AppTest) -> None:
    side = "\n".join(m.value for m in page.sidebar.markdown)
    assert "extractive — no LLM: answers quote the documents" in side
    assert "all-MiniLM-L6-v2" in side
    assert "1 document, 11 chunks" in side
    assert page.sidebar.slider[0].value == 4


def test_seed_question_gets_a_cited_answer_with_its_sources(page: AppTest) -> None:
    ask(page, GIFTS)
    user, assistant = page.chat_message
    assert user.markdown[0].value == escape_markdown(GIFTS)
    answer = assistant.markdown[0].value
    assert CITED_LINE in answer
    assert ">[1]</a>" in answer  # the marker, linked to its source
    held = sources(page)
    assert "000_46f147bf0e9866ff.txt</code>, line 16" in held
    assert "<mark style=" in held and CITED_LINE in held.split("<mark", 1)[1].split("</mark>")[0]
    assert "score " in held  # the other retrieved chunks, with their scores
    cited = page.expander[0].label.removeprefix("Sources · ").split(" cited")[0]
    assert page.expander[0].label == f"Sources · {cited} cited · {4 - int(cited)} more retrieved"
    assert not page.info


def test_clicked_example_question_is_answered(page: AppTest) -> None:
    next(b for b in page.main.button if b.label == GIFTS).click()
    _run(page)
    assert CITED_LINE in page.chat_message[1].markdown[0].value


def test_unanswerable_question_is_refused_not_answered(page: AppTest) -> None:
    ask(page, "Who won the 2022 FIFA World Cup?")
    assert [shown(i.value) for i in page.info] == [REFUSAL]
    assert page.expander[0].label.startswith("Sources · none cited")
    assert "<mark" not in sources(page)


def test_follow_up_keeps_the_conversation(page: AppTest) -> None:
    ask(page, GIFTS)
    ask(page, "Where did Kim Jong Un's armored train depart from?")
    assert len(page.chat_message) == 4
    assert "Pyongyang" in page.chat_message[3].markdown[0].value
    assert CITED_LINE in page.chat_message[1].markdown[0].value


def test_k_control_sets_how_many_passages_are_retrieved(page: AppTest) -> None:
    page.sidebar.slider[0].set_value(2)
    ask(page, GIFTS)
    cited = page.expander[0].label.removeprefix("Sources · ").split(" cited")[0]
    assert page.expander[0].label == f"Sources · {cited} cited · {2 - int(cited)} more retrieved"


def test_new_conversation_clears_history(page: AppTest) -> None:
    ask(page, GIFTS)
    assert page.chat_message
    assert not page.sidebar.get("download_button")[0].disabled
    next(b for b in page.sidebar.button if b.label == "New conversation").click()
    _run(page)
    assert not page.chat_message
    assert len(page.main.button) == 3  # the empty state is back
    assert page.sidebar.get("download_button")[0].disabled


def test_upload_is_ingested_and_then_answerable(page: AppTest, store: Path) -> None:
    body = b"The Zorblax rocket engine was designed by engineers at Acme Propulsion in Tallinn.\n"
    page.sidebar.file_uploader[0].set_value(("../../zorblax notes.md", body, "text/markdown"))
    _run(page)
    assert (store / "uploads" / "seeds" / "zorblax notes.md").read_bytes() == body
    assert "Indexed: 1 new" in sidebar_captions(page)
    assert "2 documents, 12 chunks" in "\n".join(m.value for m in page.sidebar.markdown)
    ask(page, "Who designed the Zorblax rocket engine?")
    answer = page.chat_message[1].markdown[0].value
    assert "Acme Propulsion" in answer
    assert "zorblax notes.md</code>" in sources(page)
    _run(page)  # a rerun does not ingest the same upload again
    assert "Indexed: 1 new" in sidebar_captions(page)


def test_document_markup_is_shown_as_text(page: AppTest) -> None:
    page.sidebar.file_uploader[0].set_value(("evil.md", EVIL.encode(), "text/markdown"))
    _run(page)
    ask(page, "Who built the Zorblax rocket engine?")
    rendered = page.chat_message[1].markdown[0].value + sources(page)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered
    assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;" in rendered
    assert "<script" not in rendered and "<img" not in rendered


def test_feedback_is_appended_without_the_api_key(
    page: AppTest, store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-shown-0123")
    monkeypatch.setenv("ASSISTANT_BACKEND", "extractive")  # the key alone would pick OpenAI
    ask(page, GIFTS)
    page.feedback[0].set_value(1)
    _run(page)
    record = json.loads((store / "feedback.jsonl").read_text().strip())
    assert record["rating"] == "up" and record["question"] == GIFTS
    assert CITED_LINE in record["answer"] and 1 <= len(record["cited_chunk_ids"]) <= 3
    assert record["timestamp"]
    shown_text = page_text(page)
    assert "all-MiniLM-L6-v2" in shown_text and "Sources · " in shown_text
    assert "sk-test-not-shown" not in json.dumps(record) + shown_text


def test_first_start_ingests_the_seeds(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, cache_dir: Path
) -> None:
    monkeypatch.setenv("ASSISTANT_STORE_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("ASSISTANT_CACHE_DIR", str(cache_dir))
    monkeypatch.setenv("ASSISTANT_SEEDS_DIR", str(SEEDS))
    at = _run(AppTest.from_file(APP, default_timeout=120))
    assert at.status and "First start: indexing" in at.status[0].label
    assert "11 chunks added" in at.status[0].label
    assert "1 document, 11 chunks" in "\n".join(m.value for m in at.sidebar.markdown)
    assert CITED_LINE in ask(at, GIFTS).chat_message[1].markdown[0].value


def test_errors_are_one_message_without_traceback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, cache_dir: Path
) -> None:
    monkeypatch.setenv("ASSISTANT_STORE_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("ASSISTANT_CACHE_DIR", str(cache_dir))
    monkeypatch.setenv("ASSISTANT_SEEDS_DIR", str(tmp_path / "no-seeds"))
    at = _run(AppTest.from_file(APP, default_timeout=120))
    assert "No documents yet" in at.info[0].value
    ask(at, GIFTS)
    assert "No documents indexed" in at.error[0].value


def test_invalid_setting_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_K", "0")
    at = _run(AppTest.from_file(APP, default_timeout=120))
    assert "ASSISTANT_K" in at.error[0].value


# --- what the page shows, as plain functions ----------------------------------------------


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("notes.md", "notes.md"),
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\windows\\x.md", "x.md"),
        ("..", "upload"),
        (".hidden.md", "hidden.md"),
        ("a<b>|c?.md", "a_b__c_.md"),
        ("résumé 2024.md", "résumé 2024.md"),
        ("x" * 300 + ".md", "x" * 117 + ".md"),
    ],
)
def test_safe_filename(name: str, safe: str) -> None:
    assert safe_filename(name) == safe


def test_save_uploads_refuses_other_types_and_big_files(settings: Settings) -> None:
    settings = settings.model_copy(update={"max_file_mb": 0.001})
    saved = save_uploads(settings, [("a.md", b"fine"), ("b.exe", b"MZ"), ("c.txt", b"x" * 2000)])
    assert [p.name for p in saved.paths] == ["a.md"]
    assert saved.paths[0].parent == settings.store_dir / "uploads" / "seeds"
    assert [name for name, _ in saved.skipped] == ["b.exe", "c.txt"]


def test_highlight_escapes_and_marks_the_quote() -> None:
    text = "Intro <b>. The <i>quote</i> here.\nNext line."
    start = text.index("The")
    out = highlight(text, [(start, start + len("The <i>quote</i> here."))])
    assert out.startswith("Intro &lt;b&gt;. ")
    assert "The &lt;i&gt;quote&lt;/i&gt; here.</mark><br>Next line." in out
    assert out.count("<mark") == 1


def test_quote_spans_are_relative_to_the_chunk() -> None:
    src = Source(
        1, "id", "f.txt", (3, 3), "", "One. Two three.", 100, [Quote("Two three.", 105, 115)]
    )
    assert quote_spans(src) == [(5, 15)]
    src.quotes = [Quote("Two three.", 0, 10)]  # offsets that disagree: found by its text
    assert quote_spans(src) == [(5, 15)]


def _answer(**changes: object) -> Answer:
    src = Source(1, "c1", "f.txt", (2, 2), "", "Cats purr.", 0, [Quote("Cats purr.", 0, 10)])
    answer = Answer(
        "Do cats purr?",
        "Cats purr. [1] Dogs fly. [1] See [7].",
        False,
        "openai",
        [src],
        [],
        sentences=[Sentence("Cats purr.", [1]), Sentence("Dogs fly.", [1], 0.1, False)],
    )
    for name, value in changes.items():
        setattr(answer, name, value)
    return answer


def test_answer_html_links_markers_and_marks_unsupported_sentences() -> None:
    out = answer_html(_answer(), "t1")
    assert out.count('href="#src-t1-1"') == 2
    assert "[7]" in out and "#src-t1-7" not in out  # a marker with no source stays text
    assert 'title="Not supported by the passage it cites"' in out
    assert "⚠ Dogs fly." in out
    assert "⚠ Cats" not in out


def test_answer_html_reads_markers_as_the_checks_do() -> None:
    cats = _answer().sources[0]
    dogs = Source(2, "c2", "g.txt", (1, 1), "", "Dogs bark.", 0, [Quote("Dogs bark.", 0, 10)])
    for text in ("Cats purr and dogs bark. [1][2]", "Cats purr and dogs bark. [1, 2]"):
        out = answer_html(_answer(answer=text, sentences=[], sources=[cats, dogs]), "t")
        assert out.count('href="#src-t-1"') == out.count('href="#src-t-2"') == 1, text
        assert "[1, 2]" not in out


def test_answer_html_escapes_the_answer() -> None:
    out = answer_html(_answer(answer="<script>x</script> [1]", sentences=[]), "t")
    assert "&lt;script&gt;x&lt;/script&gt;" in out and "<script" not in out


def test_answer_html_shows_the_short_answer_in_bold() -> None:
    out = answer_html(_answer(short_answer=ShortAnswer("Cats", 1, 0, 4)), "t")
    assert out.startswith("<div><b>Cats</b> purr. <a ") and out.count("<b>") == 1
    # a span that does not open the answer is not made bold anywhere
    assert "<b>" not in answer_html(_answer(short_answer=ShortAnswer("purr", 1, 5, 9)), "t")


def test_answer_html_escapes_a_hostile_short_answer() -> None:
    span = "<img onerror=x>"
    out = answer_html(
        _answer(answer=f"{span} is what it says. [1]", short_answer=ShortAnswer(span, 1, 0, 15)),
        "t",
    )
    assert out.startswith("<div><b>&lt;img onerror=x&gt;</b> is what it says.")
    assert "<img" not in out
    # marks smuggled into the text (the private-use characters that stand for tags) are dropped
    smuggled = answer_html(_answer(answer="Cats \ue002purr\ue000. [1]", sentences=[]), "t")
    assert "<b>" not in smuggled and "<span" not in smuggled


def test_bold_and_unsupported_marks_nest() -> None:
    unsupported = "Dogs fly."
    out = answer_html(
        _answer(
            answer="Cats purr. Dogs fly. [1]",
            short_answer=ShortAnswer("Cats purr. Dogs", 1, 0, 15),
            sentences=[Sentence(unsupported, [1], 0.1, False)],
        ),
        "t",
    )
    assert out.startswith('<div><b>Cats purr. </b><span title="Not supported')
    assert "⚠ <b>Dogs</b> fly.</span>" in out


def test_escape_markdown_leaves_nothing_to_interpret() -> None:
    assert escape_markdown("**a** $x$ <b> [l](u) :red[r]") == (
        r"\*\*a\*\* \$x\$ \<b\> \[l\]\(u\) \:red\[r\]"
    )
    # bare URLs and addresses get an invisible word joiner, so they are not linked
    assert escape_markdown("https://x.org www.y.org a@b.org").replace("\u2060", "|") == (
        r"https\:|//x\.org www|\.y\.org a@|b\.org"
    )
    assert text_html("a\r\nb\x00") == "a<br>b"


def test_conversation_markdown_holds_answers_and_sources() -> None:
    refused = Answer.refusal("Who won?", "extractive", [])
    out = conversation_markdown([_answer(), refused])
    assert "## 1. Do cats purr?" in out and "## 2. Who won?" in out
    assert "[1] `f.txt`, line 2:" in out and "> Cats purr." in out
    assert f"*{REFUSAL}*" in out
