"""Shared fixtures: settings in a temp folder, one embedder per session, a seeded store."""

from __future__ import annotations

import http.server
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from assistant.core.config import Settings
from assistant.library import Library
from assistant.pipeline import Assistant
from assistant.text.tokens import use_offline_encodings

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SEED_FILE = SEEDS / "000_46f147bf0e9866ff.txt"
# The browser tests drive Debian's chromium; without it they skip with this reason.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_MISSING = "Chromium not found"
CHROMIUM_INSTALL = "sudo apt-get install chromium"  # what .ci/run does when it is missing

# Fixtures that load the ONNX model or start a server: a test marked `fast` uses none
# of them (`make check` runs only those, in seconds, with nothing but this checkout).
SLOW_FIXTURES = {
    "embeddings", "seeded_dir", "seeded", "any_seeded", "seeded_server", "chroma_server",
    "store_settings", "llm_server", "llm_settings", "page_url",
}  # fmt: skip


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A `fast` test that asks for a slow fixture is a mistake in the test, reported at once."""
    for item in items:
        slow = SLOW_FIXTURES & set(getattr(item, "fixturenames", ()))
        if item.get_closest_marker("fast") and slow:
            raise pytest.UsageError(
                f"{item.nodeid} is marked fast but uses {', '.join(sorted(slow))}: "
                "use the fakes of tests/fakes.py, or drop the mark."
            )


@pytest.hookimpl(wrapper=True, tryfirst=True)  # outermost: after pytest's own summary
def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> Iterator[None]:
    """One line at the end of the run when the browser tests could not run."""
    yield
    skipped = terminalreporter.stats.get("skipped", [])
    if any(CHROMIUM_MISSING in str(report.longrepr) for report in skipped):
        terminalreporter.write_line(
            f"Browser tests skipped: {CHROMIUM_MISSING} ({CHROMIUM}). "
            f"Install it with: {CHROMIUM_INSTALL}",
            yellow=True,
            bold=True,
        )


@contextmanager
def loopback_server(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    """A real HTTP server on loopback answering with ``handler``; yields its base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()  # a short poll interval: shutdown() returns at once, not after 0.5 s
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def cli_env(store: Path, cache: Path, **extra: str) -> dict[str, str]:
    """The environment of an `assistant` subprocess: none of the user's settings, this store."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OPENAI_"))}
    env.update(ASSISTANT_STORE_DIR=str(store), ASSISTANT_CACHE_DIR=str(cache), **extra)
    return env


def run_cli(
    *args: str, store: Path, cache: Path, cwd: Path | None = None, **extra: str
) -> subprocess.CompletedProcess[str]:
    """Run `python -m assistant ARGS` to the end, as a user would, and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        capture_output=True, text=True, env=cli_env(store, cache, **extra), cwd=cwd,
        timeout=600, check=False,
    )  # fmt: skip


@dataclass(frozen=True)
class Ran:
    """What a user sees of a command: its exit status and what it printed (as ``run_cli``)."""

    returncode: int
    stdout: str
    stderr: str


# Runs `assistant ARGS` in this process; ``input`` is typed at its prompts, ``extra`` are
# its ASSISTANT_* variables (see the `invoke` fixture).
Invoke = Callable[..., Ran]


@pytest.fixture
def invoke(monkeypatch: pytest.MonkeyPatch, embeddings, cache_dir: Path) -> Invoke:  # type: ignore[no-untyped-def]
    """`assistant ARGS` as ``run_cli`` runs it, in this process and with the session's
    embedder (about 2 s less a command): the same entry point, ``main`` (errors as one
    line, exit codes), with what it prints captured by Click's ``CliRunner``. As in a
    process of its own, an uncaught exception prints its traceback on stderr and exits 1,
    and a library's logged warnings go to stderr. Tests of the process itself (its exit on
    a signal, `chat` reading a pipe, what `python -m assistant` prints) keep ``run_cli``."""
    import logging
    import traceback

    from click.testing import CliRunner

    from assistant.cli import common, main
    from assistant.pool import Pool

    def pool(settings: Settings) -> Pool:
        return Pool(settings, embeddings if settings.embedding == "minilm" else None)

    monkeypatch.setattr(common, "open_pool", pool)

    def run(*args: str, store: Path, input: str | None = None, **extra: str) -> Ran:
        env = {"ASSISTANT_STORE_DIR": str(store), "ASSISTANT_CACHE_DIR": str(cache_dir), **extra}
        with CliRunner().isolation(input=input, env=env) as (stdout, stderr, _):
            warnings = logging.StreamHandler(sys.stderr)  # logging's last resort, in a process
            warnings.setLevel(logging.WARNING)
            logging.getLogger().addHandler(warnings)
            try:
                main(list(args), prog_name="assistant")
                code = 0
            except SystemExit as exc:
                code = 0 if exc.code is None else exc.code if isinstance(exc.code, int) else 1
            except Exception:  # as the interpreter ends a process on an uncaught exception
                traceback.print_exc()
                code = 1
            finally:
                logging.getLogger().removeHandler(warnings)
                sys.stdout.flush()
                sys.stderr.flush()
            return Ran(code, stdout.getvalue().decode(), stderr.getvalue().decode())

    return run


def hashed_store(folder: Path, files: dict[str, str], **settings: object) -> Settings:
    """Settings of a store in ``folder`` holding ``files`` (name -> text), ingested with the
    hashing embedder (``tests/fakes.py``); ``settings`` override the defaults."""
    from tests.fakes import HashEmbeddings

    docs = folder / "docs"
    docs.mkdir()
    for name, text in files.items():
        (docs / name).write_text(text, encoding="utf-8")
    store = Settings(_env_file=None, store_dir=folder / "store", **settings)  # type: ignore[call-arg]
    Library(store, HashEmbeddings()).ingest([docs])
    return store


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the user's settings, .env or store: all state lives in a temp folder."""
    for name in list(os.environ):
        if name.startswith(("ASSISTANT_", "OPENAI_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh tiktoken cache, filled from the installed package as `make install` does."""
    folder = tmp_path_factory.mktemp("cache")
    use_offline_encodings(folder)
    return folder


@pytest.fixture
def settings(tmp_path: Path, cache_dir: Path) -> Settings:
    """Settings for a store of the test's own."""
    return Settings(store_dir=tmp_path / "vectorstore", cache_dir=cache_dir)


@pytest.fixture(scope="session")
def embeddings():  # type: ignore[no-untyped-def]
    """The real MiniLM embedder, loaded once."""
    from assistant.store.embeddings import MiniLMEmbeddings

    return MiniLMEmbeddings()


@pytest.fixture(scope="session")
def seeded_dir(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path, embeddings) -> Path:  # type: ignore[no-untyped-def]
    """A store holding the seed corpus, built once; tests only read it."""
    store = tmp_path_factory.mktemp("seeded") / "vectorstore"
    Library(Settings(store_dir=store, cache_dir=cache_dir), embeddings).ingest([SEEDS])
    return store


@pytest.fixture
def seeded(seeded_dir: Path, cache_dir: Path, embeddings) -> Assistant:  # type: ignore[no-untyped-def]
    """An assistant over the seeded store, with the shared embedder injected."""
    return Assistant(Settings(store_dir=seeded_dir, cache_dir=cache_dir), embeddings)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A copy of the seeds that a test may change."""
    folder = tmp_path / "docs"
    shutil.copytree(SEEDS, folder)
    return folder


@pytest.fixture(scope="session")
def llm_server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The real llama.cpp server with the bundled SmolLM2-135M, on a loopback port.

    One thread: on two cores shared with the test process (and often a benchmark), two
    llama.cpp threads wait on each other whenever one is descheduled; the LLM tests of
    test_llm.py and the judge's took 33-43 s with two, 24 s with one (same load).
    """
    from assistant.llm.local_server import LocalServer, bundled_model

    log = tmp_path_factory.mktemp("llm") / "server.log"
    server = LocalServer(bundled_model(), context=2048, threads=1, log_path=log)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def llm_settings(settings: Settings, seeded_dir: Path, llm_server) -> Settings:  # type: ignore[no-untyped-def]
    """Settings for the `openai` backend pointed at the local server, over the seeded store."""
    return settings.model_copy(
        update={
            "store_dir": seeded_dir,
            "backend": "openai",
            "openai_base_url": llm_server.base_url,
            "openai_model": "local",
            "temperature": 0.0,  # greedy; the text still varies between requests
            "context_window": 2048,
            "max_answer_tokens": 120,
            "timeout": 120.0,
        }
    )


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A real `chroma run` server on a free loopback port, with its data in a temp folder."""
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    folder = tmp_path_factory.mktemp("chroma-server")
    chroma = Path(sys.executable).with_name("chroma")
    log = (folder / "server.log").open("wb")
    process = subprocess.Popen(
        [str(chroma), "run", "--path", str(folder / "data"), "--host", "127.0.0.1",
         "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError(
                    f"chroma run did not start; see {folder / 'server.log'}"
                ) from None
            time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(10)


@pytest.fixture(params=["embedded", "server"])
def store_settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    """Settings for a fresh store, embedded or in its own collection on the Chroma server."""
    if request.param == "embedded":
        return settings
    import uuid

    url = request.getfixturevalue("chroma_server")
    return settings.model_copy(
        update={"chroma_url": url, "collection": f"t{uuid.uuid4().hex[:12]}"}
    )


@pytest.fixture(scope="session")
def seeded_server(chroma_server: str, tmp_path_factory, cache_dir: Path, embeddings) -> Settings:  # type: ignore[no-untyped-def]
    """Settings of the seed corpus ingested into the Chroma server."""
    settings = Settings(
        store_dir=tmp_path_factory.mktemp("seeded-server"), cache_dir=cache_dir,
        chroma_url=chroma_server, collection="seeds",
    )  # fmt: skip
    Library(settings, embeddings).ingest([SEEDS])
    return settings


@pytest.fixture(params=["embedded", "server"])
def any_seeded(request: pytest.FixtureRequest, seeded: Assistant, embeddings) -> Assistant:  # type: ignore[no-untyped-def]
    """The seeded assistant, embedded or against the Chroma server."""
    if request.param == "embedded":
        return seeded
    return Assistant(request.getfixturevalue("seeded_server"), embeddings)
