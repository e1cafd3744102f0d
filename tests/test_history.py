"""Saved conversations: the store in a temp folder, the page's sidebar (AppTest) and
`assistant chat --resume` in a real process (reading what is typed) or in this one."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, SEEDS, Invoke, cli_env
from streamlit.testing.v1 import AppTest

from assistant.core.config import Settings
from assistant.core.errors import StoreError, UsageError
from assistant.core.types import REFUSAL, Answer, Hit, Quote, Sentence, ShortAnswer, Source
from assistant.ingest.removal import drop
from assistant.library import Library
from assistant.store.corpus import Corpus
from assistant.store.history import HISTORY_FILE, History, answer_from_dict

APP = str(ROOT / "assistant" / "ui" / "app.py")
GIFTS = "What gifts did Putin and Kim exchange?"
FOLLOW_UP = "What did they exchange?"  # needs the earlier question to find its story
CITED_LINE = "exchanged rifles as gifts"
ZORBLAX = "The Zorblax rocket engine was designed by engineers at Acme Propulsion in Tallinn.\n"
ASK_ZORBLAX = "Which company designed the Zorblax rocket engine?"


def _answer(question: str = "Do cats purr?") -> Answer:
    quote = Quote("Cats purr.", 0, 10)
    source = Source(1, "c1", "f.txt", (2, 3), "Cats", "Cats purr. Loudly.", 40, [quote], None)
    hits = [
        Hit("c1", "Cats purr. Loudly.", {"source": "f.txt", "line_start": 2, "line_end": 3,
            "title": "Cats"}, 0.5, 0.25, 1.5),
        Hit("c2", "Page text.", {"source": "g.pdf", "line_start": 1, "line_end": 1,
            "title": "", "page": 4}, 0.25, None, 0.75),
    ]  # fmt: skip
    return Answer(
        question, "Cats purr. [1]", False, "extractive", [source], hits,
        timings_ms={"total": 12.5}, standalone_question=f"{question} (cats)",
        sentences=[Sentence("Cats purr.", [1], 0.5, True)], invalid_markers=1,
        corrected_markers=2, usage={"prompt_tokens": 3}, short_answer=ShortAnswer("Cats", 1, 0, 4),
        verdict="yes",
    )  # fmt: skip


# --- the store ------------------------------------------------------------------------


@pytest.mark.fast
def test_an_answer_reads_back_as_it_was_written() -> None:
    answer = _answer()
    assert answer_from_dict(answer.to_dict()) == answer
    refusal = Answer.refusal("Who won?", "extractive", answer.retrieved)
    assert answer_from_dict(refusal.to_dict()).to_dict() == refusal.to_dict()


@pytest.mark.fast
def test_conversations_are_listed_newest_first_titled_by_their_first_question(
    tmp_path: Path,
) -> None:
    store = History.open(tmp_path)
    store.save("a", "t1", _answer("First question?"), "seeds")
    store.save("b", "t2", _answer("Other question?"), "notes")
    store.save("a", "t3", _answer("Second question?"), "seeds")
    listed = History.open(tmp_path).conversations()
    assert [(c.id, c.title, c.turns, c.collection) for c in listed] == [
        ("a", "First question?", 2, "seeds"),
        ("b", "Other question?", 1, "notes"),
    ]
    turns = store.turns("a")
    assert [(t.id, t.answer.question, t.collection) for t in turns] == [
        ("t1", "First question?", "seeds"),
        ("t3", "Second question?", "seeds"),
    ]
    assert turns[0].answer == _answer("First question?")
    assert (tmp_path / HISTORY_FILE).is_file()


@pytest.mark.fast
def test_rename_rate_and_delete(tmp_path: Path) -> None:
    store = History.open(tmp_path)
    store.save("a", "t1", _answer(), "seeds")
    store.save("b", "t2", _answer(), "seeds")
    store.rename("a", "  Cats  ")
    store.rename("a", "   ")  # a blank title is ignored
    store.rate("a", "t1", "up")
    assert store.find("a") is not None and store.find("a").title == "Cats"  # type: ignore[union-attr]
    assert [t.feedback for t in store.turns("a")] == ["up"]
    store.rate("a", "t1", None)
    assert [t.feedback for t in store.turns("a")] == [None]
    store.delete("a")
    assert [c.id for c in store.conversations()] == ["b"] and store.turns("a") == []
    with pytest.raises(UsageError, match=r"No saved conversation 'a'.*assistant chat --list"):
        store.resume("a")


@pytest.mark.fast
@pytest.mark.parametrize(
    ("damage", "needles"),
    [
        (b"not a database at all, just some text", ("is damaged", "not an SQLite database")),
        (b"", ("is damaged", "the file is empty")),
        (b"SQLite format 3\x00" + b"\x07" * 200, ("is damaged",)),
    ],
    ids=["not SQLite", "empty", "malformed"],
)
def test_a_damaged_store_is_one_clear_error_and_is_left_as_it_was(
    tmp_path: Path, damage: bytes, needles: tuple[str, ...]
) -> None:
    (tmp_path / HISTORY_FILE).write_bytes(damage)
    with pytest.raises(StoreError) as caught:
        History.open(tmp_path)
    message = str(caught.value)
    assert all(n in message for n in needles), message
    assert "\n" not in message and "move it aside" in message
    assert (tmp_path / HISTORY_FILE).read_bytes() == damage


# --- the page -------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path, seeded_dir: Path, monkeypatch: pytest.MonkeyPatch, cache_dir: Path):  # type: ignore[no-untyped-def]
    """A copy of the seeded store, the page's settings pointing at it."""
    copy = tmp_path / "store"
    shutil.copytree(seeded_dir, copy)
    monkeypatch.setenv("ASSISTANT_STORE_DIR", str(copy))
    monkeypatch.setenv("ASSISTANT_CACHE_DIR", str(cache_dir))
    monkeypatch.setenv("ASSISTANT_SEEDS_DIR", str(SEEDS))
    return copy


@pytest.fixture
def facts(store: Path, cache_dir: Path, embeddings) -> Settings:  # type: ignore[no-untyped-def]
    """Beside the seeds, a collection 'facts' holding one file of its own; its settings."""
    docs = store.parent / "facts"
    docs.mkdir()
    (docs / "zorblax.md").write_text(ZORBLAX, encoding="utf-8")
    settings = Settings(store_dir=store, cache_dir=cache_dir)
    Library(settings, embeddings, Corpus.open(settings, "facts")).ingest([docs])
    return settings


def _page() -> AppTest:
    """A new page, as a new browser session (or a restarted server) opens it."""
    return _run(AppTest.from_file(APP, default_timeout=120))


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question)
    return _run(at)


def _listed(at: AppTest) -> list[str]:
    return [b.label for b in at.sidebar.button if b.key and b.key.startswith("open-")]


def _picked(at: AppTest) -> str:
    return str(at.sidebar.selectbox(key="collection").value)


def _choose(at: AppTest, collection: str) -> AppTest:
    at.sidebar.selectbox(key="collection").set_value(collection)
    return _run(at)


def _last_answer(at: AppTest) -> str:
    """The last answer as shown (or its refusal), then its sources."""
    last = at.chat_message[-1]
    shown = [m.value for m in last.markdown] + [i.value for i in last.info]
    return "\n".join(shown + [m.value for m in last.expander[0].markdown]).replace("\\", "")


def test_a_conversation_is_reopened_as_it_was_and_continued(store: Path) -> None:
    first = _ask(_page(), GIFTS)
    first.feedback[0].set_value(1)
    _run(first)
    [saved] = History.open(store).conversations()
    assert saved.title == GIFTS and saved.collection == "seeds"

    later = _page()
    assert _listed(later) == [GIFTS]
    assert not later.chat_message
    later.button(key=f"open-{saved.id}").click()
    _run(later)
    user, answer = later.chat_message
    assert GIFTS in user.markdown[0].value.replace("\\", "")
    assert CITED_LINE in answer.markdown[0].value and ">[1]</a>" in answer.markdown[0].value
    sources = "\n".join(m.value for m in later.expander[0].markdown)
    assert "<mark style=" in sources and "000_46f147bf0e9866ff.txt</code>, line 16" in sources
    assert later.feedback[0].value == 1  # the thumbs as they were given
    assert not later.sidebar.get("download_button")[0].disabled

    _ask(later, FOLLOW_UP)
    turns = History.open(store).turns(saved.id)
    assert [t.answer.question for t in turns] == [GIFTS, FOLLOW_UP]
    assert "putin" in (turns[1].answer.standalone_question or "").lower()  # history was used
    assert [c.id for c in History.open(store).conversations()] == [saved.id]


def test_a_conversation_is_reopened_in_its_own_collection(store: Path, facts: Settings) -> None:
    at = _choose(_page(), "facts")
    _ask(at, ASK_ZORBLAX)
    assert "Acme Propulsion" in _last_answer(at)
    [saved] = History.open(store).conversations()
    _choose(at, "seeds")
    assert not at.chat_message and _picked(at) == "seeds"

    at.button(key=f"open-{saved.id}").click()
    _run(at)
    assert _picked(at) == "facts" and "Collection</b>: facts" in at.sidebar.markdown[0].value
    assert not at.warning and len(at.chat_message) == 2  # the earlier turn, as it was shown
    _ask(at, "In which city was the Zorblax engine designed?")
    answer = _last_answer(at)
    assert "Tallinn" in answer and "zorblax.md" in answer and REFUSAL not in answer
    turns = History.open(store).turns(saved.id)
    assert [t.collection for t in turns] == ["facts", "facts"]


def test_a_conversation_whose_collection_is_gone_goes_on_in_the_chosen_one(
    store: Path, facts: Settings
) -> None:
    at = _choose(_page(), "facts")
    _ask(at, ASK_ZORBLAX)
    [saved] = History.open(store).conversations()
    _choose(at, "seeds")
    drop(Corpus.open(facts, "facts"))  # as `assistant collections --delete facts --yes` does

    at.button(key=f"open-{saved.id}").click()
    _run(at)
    assert _picked(at) == "seeds" and at.sidebar.selectbox(key="collection").options == ["seeds"]
    [line] = [w.value.replace("\\", "") for w in at.warning]
    assert line == (
        'This conversation\'s collection "facts" is gone; questions in it will go to "seeds".'
    )
    _ask(at, GIFTS)
    assert CITED_LINE in _last_answer(at)
    assert [w.value.replace("\\", "") for w in at.warning] == [line]  # while it stays open
    assert [t.collection for t in History.open(store).turns(saved.id)] == ["facts", "seeds"]
    next(b for b in at.sidebar.button if b.label == "New conversation").click()
    assert not _run(at).warning


def test_a_conversation_is_renamed_and_deleted(store: Path) -> None:
    at = _ask(_page(), GIFTS)
    [saved] = History.open(store).conversations()
    at.text_input(key=f"title-{saved.id}").set_value("Gifts at the summit")
    at.button(key=f"rename-{saved.id}").click()
    _run(at)
    assert _listed(at) == ["Gifts at the summit"]
    assert _listed(_page()) == ["Gifts at the summit"]

    at.button(key=f"delete-{saved.id}").click()
    _run(at)
    assert _listed(at) == [] and History.open(store).conversations() == []
    assert not at.chat_message  # the open conversation was the one deleted


def test_new_conversation_is_saved_apart(store: Path) -> None:
    at = _ask(_page(), GIFTS)
    next(b for b in at.sidebar.button if b.label == "New conversation").click()
    _ask(_run(at), "Who won the 2022 FIFA World Cup?")
    listed = History.open(store).conversations()
    assert [c.title for c in listed] == ["Who won the 2022 FIFA World Cup?", GIFTS]
    assert History.open(store).turns(listed[0].id)[0].answer.answer == REFUSAL


def test_a_damaged_conversation_store_is_one_message_and_the_page_still_answers(
    store: Path,
) -> None:
    garbage = b"this is not a database\n" * 10
    (store / HISTORY_FILE).write_bytes(garbage)
    at = _ask(_page(), GIFTS)
    assert CITED_LINE in at.chat_message[1].markdown[0].value
    [warning] = at.warning
    assert "conversation store file" in warning.value and "is damaged" in warning.value
    assert "not saved" in warning.value
    assert not _listed(at)
    assert (store / HISTORY_FILE).read_bytes() == garbage


# --- the terminal ---------------------------------------------------------------------


def _chat(store: Path, cache: Path, *args: str, typed: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "assistant", "chat", *args],
        input=typed, capture_output=True, text=True, env=cli_env(store, cache),
        timeout=300, check=False,
    )  # fmt: skip


def test_chat_resume_continues_with_the_saved_history(
    store: Path, cache_dir: Path, invoke: Invoke
) -> None:
    first = _chat(store, cache_dir, typed=f"{GIFTS}\n")
    assert first.returncode == 0, first.stderr
    [saved] = History.open(store).conversations()
    assert f"Conversation {saved.id} (`assistant chat --resume {saved.id}`" in first.stdout

    listed = invoke("chat", "--list", store=store, input="")
    assert saved.id in listed.stdout and GIFTS in listed.stdout

    again = _chat(store, cache_dir, "--resume", saved.id, "-v", typed=f"{FOLLOW_UP}\n")
    assert again.returncode == 0, again.stderr
    assert f"> {GIFTS}" in again.stdout and "rifles" in again.stdout  # the earlier turn, shown
    standalone = next(ln for ln in again.stdout.splitlines() if "standalone question" in ln)
    assert FOLLOW_UP in standalone and "putin" in standalone.lower()
    turns = History.open(store).turns(saved.id)
    assert [t.answer.question for t in turns] == [GIFTS, FOLLOW_UP]


def test_chat_resume_of_an_unknown_id_is_one_line(store: Path, invoke: Invoke) -> None:
    out = invoke("chat", "--resume", "nosuchid", store=store, input="")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.strip() == (
        "error: No saved conversation 'nosuchid': `assistant chat --list` shows their ids."
    )


def test_chat_with_a_damaged_store_answers_without_saving(
    store: Path, cache_dir: Path, invoke: Invoke
) -> None:
    (store / HISTORY_FILE).write_bytes(b"garbage " * 100)
    out = _chat(store, cache_dir, typed=f"{GIFTS}\n")
    assert out.returncode == 0 and "rifles" in out.stdout
    [line] = out.stderr.strip().splitlines()
    assert line.startswith("warning: The conversation store file") and "not saved" in line
    resumed = invoke("chat", "--resume", "abc", store=store, input="")
    assert resumed.returncode == 1 and "is damaged" in resumed.stderr
    assert len(resumed.stderr.strip().splitlines()) == 1
