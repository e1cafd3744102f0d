"""Faults in the store: an ingest killed midway or run twice at once, and a store that is
damaged, unreadable, read-only, built with another model or out of reach.

Each fault is driven through the `assistant` command as a user meets it: the exit
status, a message that says what to do, no traceback, and the store's files left
as they were (never rebuilt behind the user's back).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import SEEDS, Invoke, Ran, cli_env
from fakes import HashEmbeddings
from legacy_store import write_legacy

from assistant.core.config import Settings
from assistant.library import Library
from assistant.pipeline import Assistant
from assistant.store.client import CHROMA_FILE
from assistant.store.corpus import Corpus
from assistant.store.history import HISTORY_FILE, History
from assistant.store.keyword import KeywordIndex
from assistant.store.records import record_keys

FILES = 150  # short one-sentence files: three batches of 64 that embed in a few seconds
STEP = "64"  # ASSISTANT_INGEST_BATCH of the killed ingests, so that they die midway
QUESTION = "What gifts did Putin and Kim exchange?"


def _start(*args: str, env: dict[str, str], **kwargs) -> subprocess.Popen[str]:  # type: ignore[no-untyped-def]
    return subprocess.Popen(
        [sys.executable, "-m", "assistant", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def _finish(process: subprocess.Popen[str]) -> subprocess.CompletedProcess[str]:
    out, err = process.communicate(timeout=300)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def _run_all(*commands: tuple[str, ...], env: dict[str, str], **kwargs):  # type: ignore[no-untyped-def]
    """Run the commands side by side (each is a cold start) and wait for all of them."""
    return [_finish(p) for p in [_start(*c, env=env, **kwargs) for c in commands]]


def _name(i: int) -> str:
    """A made-up name of its own for each file, so a question can find that file."""
    syllables = ["ka", "lo", "mir", "ven", "tu", "sa", "dor", "bel", "qui", "rho"]
    return "".join(syllables[int(d)] for d in f"{i:03d}").capitalize() + "ix"


def _write_corpus(folder: Path) -> None:
    rng = random.Random(3)
    words = (
        "river train summit minister harbor winter rocket treaty village market council "
        "border letter garden engine doctor island bridge museum festival"
    ).split()
    folder.mkdir(parents=True)
    for i in range(FILES):
        sentence = " ".join(rng.choice(words) for _ in range(10))
        text = f"{_name(i)} reported from station {1000 + i} about the {sentence}.\n"
        (folder / f"doc{i:04d}.txt").write_text(text, encoding="utf-8")


def _snapshot(settings: Settings) -> dict[str, tuple[str, dict]]:
    """Every chunk in the collection: id -> (text, metadata but the time it was ingested)."""
    got = Corpus.open(settings).collection().get(include=["metadatas", "documents"])
    return {
        i: (d, {k: v for k, v in m.items() if k != "ingested_at"})
        for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
    }


def _assert_consistent(settings: Settings, expected: dict[str, tuple[str, dict]]) -> None:
    """The store holds exactly the expected chunks, and its three parts agree."""
    chunks = _snapshot(settings)
    assert chunks == expected  # same ids, texts and metadata: no duplicate, no orphan
    keys = set().union(*record_keys(Corpus.open(settings)).values())
    assert keys == set(chunks), "record manager and Chroma disagree"
    bm25 = KeywordIndex.load(Corpus.open(settings).bm25_dir)
    assert bm25 is not None and sorted(bm25.ids) == sorted(chunks)
    assert not Corpus.open(settings).unfinished_marker.exists()


def _records(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            return conn.execute("SELECT count(*) FROM upsertion_record").fetchone()[0]
    except sqlite3.Error:  # not created yet
        return 0


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("faults") / "reports"
    _write_corpus(folder)
    return folder


@pytest.fixture(scope="module")
def clean(corpus: Path, tmp_path_factory, cache_dir: Path, embeddings):  # type: ignore[no-untyped-def]
    """The chunks of an uninterrupted ingest of the corpus into a store of its own."""
    settings = Settings(store_dir=tmp_path_factory.mktemp("clean") / "store", cache_dir=cache_dir)
    Library(settings, embeddings).ingest([corpus])
    return _snapshot(settings)


def test_an_ingest_killed_midway_is_repaired_by_the_next(
    corpus: Path, clean, tmp_path: Path, cache_dir: Path, embeddings
) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(store_dir=tmp_path / "store", cache_dir=cache_dir)
    env = cli_env(settings.store_dir, cache_dir, ASSISTANT_INGEST_BATCH=STEP)
    first = _start("ingest", str(corpus), env=env)
    deadline = time.monotonic() + 240
    while _records(Corpus.open(settings).record_db) == 0 and first.poll() is None:
        assert time.monotonic() < deadline, "the ingest never wrote a batch"
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert first.returncode == -signal.SIGKILL, "the ingest ended before it could be killed"
    assert 0 < _records(Corpus.open(settings).record_db) < FILES
    assert Corpus.open(settings).unfinished_marker.exists()

    again = _finish(_start("ingest", str(corpus), env=env))
    assert again.returncode == 0, again.stderr
    assert "repaired the store after an interrupted ingest" in again.stderr
    assert f"{FILES} in collection" in again.stdout
    _assert_consistent(settings, clean)
    answer = Assistant(settings, embeddings).ask(f"What did {_name(17)} report?")
    assert answer.retrieved[0].source == "doc0017.txt"


def test_orphans_lost_chunks_and_stale_offsets_are_repaired(
    settings: Settings, embeddings, corpus: Path, clean, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """The states a kill can leave, made on purpose: LangChain's index() adds to Chroma
    before the record manager, so a kill between the two leaves chunks Chroma holds and
    the record manager does not know; its cleanup deletes in the other order."""
    library = Library(settings, embeddings)
    library.ingest([corpus])
    collection = Corpus.open(settings).collection()
    ids = sorted(clean)
    collection.delete(ids=ids[:2])  # lost: the record manager still lists them
    collection.update(ids=[ids[2]], metadatas=[{**clean[ids[2]][1], "start": 999}])
    stale = {**clean[ids[3]][1], "doc_id": "reports/gone.txt"}
    collection.add(ids=["orphan"], embeddings=[[0.1] * 384], documents=["x"], metadatas=[stale])
    Corpus.open(settings).unfinished_marker.touch()  # the kill came before the ingest finished

    report = library.ingest([corpus])
    assert (report.interrupted, report.orphans_removed, report.records_dropped) == (True, 1, 2)
    assert report.chunks_added == 2
    _assert_consistent(settings, clean)

    collection.delete(ids=ids[:3])  # no marker, but the counts disagree: repaired too
    report = library.ingest([corpus])
    assert (report.interrupted, report.records_dropped, report.chunks_added) == (False, 3, 3)
    _assert_consistent(settings, clean)


def test_two_ingests_at_once_run_one_after_the_other(
    corpus: Path, clean, tmp_path: Path, cache_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(store_dir=tmp_path / "store", cache_dir=cache_dir)
    env = cli_env(settings.store_dir, cache_dir)
    runs = _run_all(("ingest", str(corpus)), ("ingest", str(corpus)), env=env)
    assert [r.returncode for r in runs] == [0, 0], [r.stderr for r in runs]
    added = sorted(r.stdout.split("chunks: ")[1].split(" added")[0] for r in runs)
    assert added == ["0", str(FILES)], "the second ingest must wait, then find nothing to do"
    _assert_consistent(settings, clean)


def test_a_held_lock_stops_ingest_and_rebuild_with_a_clear_message(
    seeded_dir: Path, tmp_path: Path, cache_dir: Path
) -> None:
    from filelock import FileLock

    store = tmp_path / "store"
    shutil.copytree(seeded_dir, store)
    settings = Settings(store_dir=store, cache_dir=cache_dir)
    env = cli_env(store, cache_dir, ASSISTANT_LOCK_TIMEOUT="0.5")
    before = _fingerprint(store)
    with FileLock(Corpus.open(settings).lock_path):  # as another ingest would
        runs = _run_all(("ingest", str(SEEDS)), ("ingest", str(SEEDS), "--rebuild"), env=env)
    for run in runs:
        assert run.returncode == 1
        lock = str(Corpus.open(settings).lock_path)
        _assert_one_clear_line(run, "Another ingest is running", lock)
        assert "ASSISTANT_LOCK_TIMEOUT" in run.stderr
    assert _fingerprint(store) == before


def test_keyword_indexes_saved_at_once_leave_one_whole_index(tmp_path: Path) -> None:
    """An ingest and a question may both save the BM25 index at the same moment."""
    from concurrent.futures import ThreadPoolExecutor

    folder = tmp_path / "bm25" / "seeds"
    texts = [f"story {i} about the train" for i in range(50)]

    def save(n: int) -> None:
        KeywordIndex.build([f"id{n}-{i}" for i in range(50)], texts).save(folder)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(save, range(40)))
    index = KeywordIndex.load(folder)
    assert index is not None and len({i.split("-")[0] for i in index.ids}) == 1
    assert [p.name for p in folder.parent.iterdir()] == ["seeds"]


# --- a migration or a removal killed midway -----------------------------------------------

MANY = 800  # one-line files: a migration or a removal of many batches, long enough to kill


class FakeMiniLM(HashEmbeddings):
    """Hashed vectors under MiniLM's name: a store of thousands of chunks built in seconds,
    which the `assistant` command (the real MiniLM) opens, moves and prunes, never asks."""

    model_name = "all-MiniLM-L6-v2"


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second folder called ``reports``, elsewhere, of MANY files."""
    folder = tmp_path_factory.mktemp("many") / "reports"
    folder.mkdir()
    for i in range(MANY):
        text = f"{_name(i % 1000)} filed report {i} on the harbor.\n"
        (folder / f"r{i:05d}.txt").write_text(text, encoding="utf-8")
    return folder


def _rows(settings: Settings, namespace: str) -> int:
    """Record-manager keys of one namespace (``/`` holds every file known by its path)."""
    corpus = Corpus.open(settings)
    try:
        with sqlite3.connect(f"file:{corpus.record_db}?mode=ro", uri=True) as conn:
            query = "SELECT count(*) FROM upsertion_record WHERE namespace = ?"
            return conn.execute(query, (f"{corpus.name}/{namespace}",)).fetchone()[0]
    except sqlite3.Error:  # not created yet
        return 0


def _kill_when(process: subprocess.Popen[str], ready: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 240
    while not ready():
        assert process.poll() is None, "the command ended before it could be killed"
        assert time.monotonic() < deadline, "the command never got there"
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait()


def _texts(settings: Settings) -> dict[str, str]:
    return {i: text for i, (text, _) in _snapshot(settings).items()}


def _assert_agree(settings: Settings) -> None:
    """Chroma, the record manager and BM25 hold the same ids, and no run is unfinished."""
    ids = set(_texts(settings))
    assert set().union(*record_keys(Corpus.open(settings)).values()) == ids
    bm25 = KeywordIndex.load(Corpus.open(settings).bm25_dir)
    assert bm25 is not None and set(bm25.ids) == ids
    assert not Corpus.open(settings).unfinished_marker.exists()


def test_a_migration_killed_midway_ends_with_the_ids_of_a_clean_ingest(
    many: Path, tmp_path: Path, cache_dir: Path
) -> None:
    settings = Settings(store_dir=tmp_path / "store", cache_dir=cache_dir)
    write_legacy(Corpus.open(settings), many, FakeMiniLM())
    clean = Settings(store_dir=tmp_path / "clean", cache_dir=cache_dir)
    Library(clean, FakeMiniLM()).ingest([many])
    env = cli_env(settings.store_dir, cache_dir)
    first = _start("ingest", str(many), env=env)
    _kill_when(first, lambda: _rows(settings, "/") > 0)  # a batch moved to its path ids
    assert _rows(settings, "reports") > 0, "killed after the migration had finished"

    again = _finish(_start("ingest", str(many), env=env))
    assert again.returncode == 0, again.stderr
    assert "repaired the store after an interrupted ingest" in again.stderr
    assert f"chunks: 0 added, {MANY} unchanged, 0 deleted" in again.stdout  # nothing embedded
    assert _texts(settings) == _texts(clean)
    assert _rows(settings, "reports") == 0
    _assert_agree(settings)


def test_a_removal_killed_midway_is_finished_by_the_next(
    many: Path, corpus: Path, tmp_path: Path, cache_dir: Path
) -> None:
    settings = Settings(store_dir=tmp_path / "store", cache_dir=cache_dir)
    Library(settings, FakeMiniLM()).ingest([many, corpus])  # two folders called reports
    kept = {
        i for i, (_, meta) in _snapshot(settings).items() if meta["doc_id"].startswith(str(corpus))
    }
    assert len(kept) == FILES
    env = cli_env(settings.store_dir, cache_dir)
    first = _start("remove", str(many), env=env)
    _kill_when(first, lambda: _rows(settings, "/") < MANY + FILES)
    assert _rows(settings, "/") > FILES, "killed after the removal had finished"
    assert Corpus.open(settings).unfinished_marker.exists()

    again = _finish(_start("remove", str(many), env=env))
    assert again.returncode == 0, again.stderr
    assert set(_texts(settings)) == kept, "the chunk ids of a removal never killed"
    _assert_agree(settings)


# --- a broken store ----------------------------------------------------------------------


def _fingerprint(folder: Path) -> dict[str, str]:
    """A hash of every file under ``folder`` but lock files: proof that nothing was rewritten."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.suffix != ".lock"
    }


def _assert_one_clear_line(run: subprocess.CompletedProcess[str] | Ran, *needles: str) -> None:
    assert "Traceback" not in run.stdout + run.stderr
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr
    for needle in needles:
        assert needle.lower() in run.stderr.lower(), run.stderr


def _as_ordinary_user() -> Callable[[], None] | None:
    """A pre-exec hook that lets the child obey file permissions even when run as root.

    Root ignores chmod because of two capabilities; dropping them from the child's
    bounding set (before exec) makes it read and write like any user. Skips the test
    when they cannot be dropped.
    """
    if os.geteuid() != 0:
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    try:
        subprocess.run(["true"], preexec_fn=lambda: _drop(libc), check=True)
    except (subprocess.SubprocessError, OSError):
        pytest.skip("running as root without the right to drop CAP_DAC_OVERRIDE")
    return lambda: _drop(libc)


def _drop(libc) -> None:  # type: ignore[no-untyped-def]
    pr_capbset_drop, cap_dac_override, cap_dac_read_search = 24, 1, 2
    for cap in (cap_dac_override, cap_dac_read_search):
        if libc.prctl(pr_capbset_drop, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _garbage(path: Path) -> None:
    path.write_bytes(random.Random(1).randbytes(path.stat().st_size))


def _built_with(store: Path, model: str) -> None:
    """Make the collection say it was built with another embedding model."""
    collection = Corpus.open(Settings(store_dir=store)).collection()
    collection.modify(metadata={**(collection.metadata or {}), "embedding_model": model})


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _writable_again(store: Path) -> None:
    store.chmod(0o755)
    for path in store.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)


@dataclass
class Fault:
    """A way to break the store, and what the user must be told."""

    make: Callable[[Path], object]
    needles: tuple[str, ...]  # what every failing command's one line must say
    asking_works: bool = False
    rebuild: str = "skip"  # "fails" (and changes nothing), "works" (the way out), or "skip"
    env: Callable[[], dict[str, str]] = dict
    permissions: bool = False  # a chmod fault: the child must obey file permissions
    # Each command in a process of its own: chromadb keeps the client of a path for the
    # life of the process, and one that failed to open a damaged chroma.sqlite3 fails the
    # next command of the same process with another message. The rest run in this one.
    processes: bool = False


DAMAGED = "is damaged"
ASIDE = "move it aside and ingest your documents again"
FAULTS = {
    "another embedding model": Fault(
        lambda store: _built_with(store, "all-mpnet-base-v2"),
        ("was built with the embedding model 'all-mpnet-base-v2'", "--rebuild"),
    ),  # test_ingest.py shows that --rebuild, the way out, works
    "garbage chroma.sqlite3": Fault(
        lambda store: _garbage(store / CHROMA_FILE), (DAMAGED, CHROMA_FILE, ASIDE),
        rebuild="fails",  # --rebuild cannot drop a collection it cannot read: nothing changes
        processes=True,
    ),
    "truncated chroma.sqlite3": Fault(
        lambda store: os.truncate(store / CHROMA_FILE, 4096), (DAMAGED, CHROMA_FILE, ASIDE),
        processes=True,
    ),
    "empty chroma.sqlite3": Fault(
        lambda store: os.truncate(store / CHROMA_FILE, 0), ("damaged (the file is empty)", ASIDE),
        processes=True,
    ),
    "garbage record manager": Fault(
        lambda store: _garbage(store / "records" / "seeds.sqlite3"),
        ("record manager file", DAMAGED, "assistant ingest PATH --rebuild"),
        asking_works=True, rebuild="works",
    ),
    "garbage keyword index": Fault(  # derived from the collection: rebuilt, not reported
        lambda store: [_garbage(p) for p in (store / "bm25" / "seeds").iterdir()], (),
        asking_works=True,
    ),
    "unreadable chroma.sqlite3": Fault(
        lambda store: (store / CHROMA_FILE).chmod(0),
        ("Cannot read the vector store file", "permission denied", "chmod -R u+rw"),
        permissions=True,
    ),
    "unreadable store folder": Fault(
        lambda store: store.chmod(0), ("permission denied", "chmod -R u+"), permissions=True,
    ),
    "read-only store folder": Fault(
        lambda store: [p.chmod(0o555) for p in (store, store / "records", store / "bm25")],
        ("read", "chmod -R u+w", "ASSISTANT_STORE_DIR"), permissions=True,
    ),
    "read-only records folder": Fault(
        lambda store: (store / "records").chmod(0o555),
        ("Cannot write to", "records", "chmod -R u+w"), asking_works=True, permissions=True,
    ),
    "unreachable Chroma server": Fault(
        lambda store: None, ("Cannot reach the Chroma server at http://127.0.0.1:", "make chroma"),
        env=lambda: {"ASSISTANT_CHROMA_URL": f"http://127.0.0.1:{_closed_port()}"},
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", list(FAULTS))
def test_a_broken_store_fails_clearly_and_is_left_as_it_was(
    name: str, seeded_dir: Path, tmp_path: Path, cache_dir: Path, invoke: Invoke
) -> None:
    fault = FAULTS[name]
    hook = _as_ordinary_user() if fault.permissions else None
    store = tmp_path / "store"
    shutil.copytree(seeded_dir, store)
    before = _fingerprint(store)
    fault.make(store)
    expected = before if fault.permissions else _fingerprint(store)
    commands = [("ask", QUESTION), ("ingest", str(SEEDS))]
    if fault.rebuild == "fails":
        commands.append(("ingest", str(SEEDS), "--rebuild"))
    extra = fault.env()
    env = cli_env(store, cache_dir, **extra)
    # A chmod fault needs processes of their own (that drop root's right to ignore
    # permissions); the faults that need no process run here, one after the other.
    own = fault.permissions or fault.processes
    try:
        if own:
            ask, *ingests = _run_all(*commands, env=env, preexec_fn=hook)
        else:
            ask, *ingests = [invoke(*c, store=store, **extra) for c in commands]
    finally:
        _writable_again(store)
    seeded = _snapshot(Settings(store_dir=seeded_dir, cache_dir=cache_dir))
    if fault.asking_works:
        assert ask.returncode == 0 and "rifles" in ask.stdout, ask.stderr
    else:
        assert ask.returncode == 1
        _assert_one_clear_line(ask, *fault.needles)
    for run in ingests:
        if fault.needles:
            assert run.returncode == 1
            _assert_one_clear_line(run, *fault.needles)
        else:
            assert run.returncode == 0, run.stderr
            assert _snapshot(Settings(store_dir=store, cache_dir=cache_dir)) == seeded
            assert sorted(KeywordIndex.load(store / "bm25" / "seeds").ids) == sorted(seeded)
    if fault.needles:
        _assert_unchanged(store, expected, seeded, cache_dir)
    if fault.rebuild == "works":
        command = ("ingest", str(SEEDS), "--rebuild")
        rebuilt = (
            _finish(_start(*command, env=env)) if own else invoke(*command, store=store, **extra)
        )
        assert rebuilt.returncode == 0 and "11 added" in rebuilt.stdout, rebuilt.stderr
        _assert_consistent(Settings(store_dir=store, cache_dir=cache_dir), seeded)


def _assert_unchanged(store: Path, expected: dict[str, str], chunks, cache_dir: Path) -> None:  # type: ignore[no-untyped-def]
    """The store's files are as they were. Chroma rewrites its own files (the database,
    the HNSW segment) when it opens a healthy store: those may differ as long as the
    collection holds the same chunks."""
    after = _fingerprint(store)
    chroma = {name for name in after | expected if _is_chroma(name)}
    if any(after.get(name) != expected.get(name) for name in chroma):
        assert _snapshot(Settings(store_dir=store, cache_dir=cache_dir)) == chunks
        after, expected = _without(after, chroma), _without(expected, chroma)
    assert after == expected, "a command that failed changed the store"


def _is_chroma(name: str) -> bool:
    """Chroma's database, or a file of a segment folder (named by its UUID)."""
    try:
        return name == CHROMA_FILE or bool(uuid.UUID(Path(name).parts[0]))
    except ValueError:
        return False


def _without(files: dict[str, str], names: set[str]) -> dict[str, str]:
    return {name: digest for name, digest in files.items() if name not in names}


# --- the conversation store -----------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "needles"),
    [
        (0o444, ("The conversation store file", "is read-only", "chmod -R u+w")),
        (0, ("Cannot read the conversation store file", "permission denied", "chmod -R u+rw")),
    ],
    ids=["read-only", "unreadable"],
)
def test_a_broken_conversation_store_is_one_line_and_the_chat_goes_on(
    mode: int, needles: tuple[str, ...], seeded_dir: Path, tmp_path: Path, cache_dir: Path
) -> None:
    hook = _as_ordinary_user()
    store = tmp_path / "store"
    shutil.copytree(seeded_dir, store)
    History.open(store)  # an empty conversation store
    before = _fingerprint(store)
    (store / HISTORY_FILE).chmod(mode)
    env = cli_env(store, cache_dir)
    try:
        chat = _start("chat", env=env, stdin=subprocess.PIPE, preexec_fn=hook)
        out, err = chat.communicate(f"{QUESTION}\n", timeout=300)
        resume = _finish(_start("chat", "--resume", "abc", env=env, preexec_fn=hook))
    finally:
        _writable_again(store)
    assert chat.returncode == 0 and "rifles" in out, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert all(n.lower() in err.lower() for n in needles) and "not saved" in err
    assert resume.returncode == 1
    _assert_one_clear_line(resume, *needles)
    assert _fingerprint(store)[HISTORY_FILE] == before[HISTORY_FILE]
