"""The `assistant` command as a user runs it: its output and exit status, in this process
(``invoke``) or, where the process itself is the point, a real one (``run_cli``)."""

from __future__ import annotations

import http.server
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT, SEED_FILE, SEEDS, Invoke, loopback_server, run_cli
from typer.testing import CliRunner

from assistant.cli import app
from assistant.core.config import LOCAL_GGUF
from assistant.core.types import REFUSAL

run = run_cli


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "vectorstore"


def test_ingest_ask_and_reingest(store: Path, invoke: Invoke) -> None:
    first = invoke("ingest", str(SEEDS), store=store)
    assert first.returncode == 0, first.stderr
    assert "11 added" in first.stdout
    again = invoke("ingest", str(SEEDS), store=store)
    assert "0 added, 11 unchanged, 0 deleted" in again.stdout

    gifts = invoke("ask", "What gifts did Putin and Kim exchange?", store=store)
    assert gifts.returncode == 0, gifts.stderr
    assert "rifles" in gifts.stdout and "glove" in gifts.stdout
    assert f"[1] {SEED_FILE.name}, line 16:" in gifts.stdout

    fifa = invoke("ask", "Who won the 2022 FIFA World Cup?", store=store)
    assert fifa.returncode == 0
    assert fifa.stdout.strip() == "The documents do not contain the answer to this question."


def test_ask_json_contract(store: Path, invoke: Invoke) -> None:
    assert invoke("ingest", str(SEEDS), store=store).returncode == 0
    out = invoke(
        "ask",
        "What gifts did Putin and Kim exchange?",
        "--json",
        "-k",
        "3",
        store=store,
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["refused"] is False and data["backend"] == "extractive"
    assert data["sources"][0]["n"] == 1 and data["sources"][0]["lines"] == [16, 16]
    assert "rifles" in data["sources"][0]["quote"]
    assert len(data["retrieved"]) == 3
    assert data["timings_ms"]["total"] > 0
    assert data["verdict"] is None  # not a yes/no question
    # A "what" question gets a short answer: a span of the cited chunk that opens the answer.
    short = data["short_answer"]
    assert short is not None and data["answer"].startswith(f"{short['text']} — ")
    cited = data["sources"][short["source"] - 1]["text"]
    assert cited[short["start"] : short["end"]] == short["text"]


def test_stats(store: Path, invoke: Invoke) -> None:
    invoke("ingest", str(SEEDS), store=store)
    out = invoke("stats", "--json", store=store, OPENAI_API_KEY="sk-test-secret")
    data = json.loads(out.stdout)
    assert (data["documents"], data["chunks"]) == (1, 11)
    assert data["embedding_model"] == "all-MiniLM-L6-v2"
    assert data["openai_api_key"] == "set"
    assert "sk-test-secret" not in out.stdout


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        pytest.param(("ask", "   "), 2, "error: The question is empty", marks=pytest.mark.fast),
        (("ask", "What gifts?"), 1, "run `assistant ingest seeds/`"),
        (("ingest", "no/such/folder"), 1, "no/such/folder: no such file or folder"),
    ],
)
def test_errors_are_one_clear_line(store: Path, cache_dir: Path, args, code, message) -> None:  # type: ignore[no-untyped-def]
    out = run(*args, store=store, cache=cache_dir)
    assert out.returncode == code
    assert message in out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1


@pytest.mark.fast
def test_bad_setting_names_the_variable(store: Path, cache_dir: Path) -> None:
    out = run("ask", "hi", store=store, cache=cache_dir, ASSISTANT_K="zero")
    assert out.returncode == 2 and "ASSISTANT_K" in out.stderr and "Traceback" not in out.stderr


def test_debug_shows_the_traceback(store: Path, cache_dir: Path) -> None:
    out = run("ask", "What gifts?", store=store, cache=cache_dir, ASSISTANT_DEBUG="1")
    assert out.returncode != 0 and "Traceback" in out.stderr


def test_chat_answers_each_line_until_eof(store: Path, cache_dir: Path, invoke: Invoke) -> None:
    assert invoke("ingest", str(SEEDS), store=store).returncode == 0
    environment = {
        **os.environ,
        "ASSISTANT_STORE_DIR": str(store),
        "ASSISTANT_CACHE_DIR": str(cache_dir),
    }
    out = subprocess.run(
        [sys.executable, "-m", "assistant", "chat"],
        input="What gifts did Putin and Kim exchange?\nWho won the 2022 FIFA World Cup?\n",
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert "rifles" in out.stdout
    assert "The documents do not contain the answer" in out.stdout


@pytest.mark.fast
def test_help_reads_like_documentation(store: Path, cache_dir: Path) -> None:
    out = run("ask", "--help", store=store, cache=cache_dir)
    assert "Answer QUESTION from the ingested documents" in out.stdout
    assert "--json" in out.stdout


# -- an LLM answer in the terminal: streamed once, then what the check changed ----------------

GIFTS = "What gifts did Putin and Kim exchange?"
SCRIPTS = {
    # The first sentence cites a story without Putin, the second also a source that
    # was never shown, the third says what no story says.
    GIFTS: "Putin and Kim exchanged rifles as gifts [{other}]. Putin also gave Kim a glove "
    "from a space suit [{gifts}][{nowhere}]. The rifles were made of solid gold [{gifts}].",
    "What is the capital of Mars?": "The capital of Mars is Olympus [1].",
}


class _Model(http.server.BaseHTTPRequestHandler):
    """An OpenAI-compatible model on a loopback port: says the sources answer, then streams,
    word by word, the text set for the question, citing the source holding "rifles" as
    ``{gifts}`` and the first one without "Putin" as ``{other}``."""

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(200)
        self.end_headers()
        if not body.get("stream"):  # whether the sources answer (llm/answerable.py)
            said = {"role": "assistant", "content": "Yes"}
            self._send({"object": "chat.completion", "choices": [{"index": 0, "message": said}]})
            return
        prompt = body["messages"][-1]["content"]
        texts = re.findall(r'<source n="(\d+)"[^>]*>\n(.*?)\n</source>', prompt, re.DOTALL)
        gifts = next(int(n) for n, text in texts if "rifles" in text)
        other = next(int(n) for n, text in texts if "Putin" not in text)
        question = prompt.rsplit("Question: ", 1)[1].strip()
        text = SCRIPTS[question].format(gifts=gifts, other=other, nowhere=len(texts) + 5)
        for piece in re.findall(r"\S+\s*", text):
            delta = {"index": 0, "delta": {"content": piece}}
            self._send({"object": "chat.completion.chunk", "choices": [delta]}, event=True)
        self.wfile.write(b"data: [DONE]\n\n")

    def _send(self, fields: dict[str, object], event: bool = False) -> None:
        body = json.dumps({"id": "c", "created": 0, "model": "m", **fields})
        self.wfile.write(f"data: {body}\n\n".encode() if event else body.encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def scripted(
    monkeypatch: pytest.MonkeyPatch, seeded_dir: Path, cache_dir: Path
) -> Iterator[CliRunner]:
    """`assistant` in this process, answering from the seeds with the openai backend at the
    loopback model."""
    with loopback_server(_Model) as base:
        url = f"{base}/v1"
        for name, value in (("ASSISTANT_STORE_DIR", seeded_dir), ("ASSISTANT_CACHE_DIR", cache_dir),
                            ("ASSISTANT_BACKEND", "openai"), ("OPENAI_BASE_URL", url)):  # fmt: skip
            monkeypatch.setenv(name, str(value))
        yield CliRunner()


def test_an_llm_answer_is_printed_once_with_what_the_check_changed_under_it(
    scripted: CliRunner,
) -> None:
    out = scripted.invoke(app, ["ask", GIFTS])
    assert out.exit_code == 0, out.output
    streamed, *rest = out.output.splitlines()
    # As streamed: markers numbered by first citation, the one naming no source left out.
    assert streamed == (
        "Putin and Kim exchanged rifles as gifts [1]. Putin also gave Kim a glove from a "
        "space suit [2]. The rifles were made of solid gold [2]."
    )
    assert out.output.count("Putin and Kim exchanged rifles") == 1, "the answer once"
    # The check moved the first citation to the gifts story, which is now [1] throughout.
    assert rest[: rest.index("Sources:")] == [
        "⚠ 1 citation moved to the source that backs the sentence",
        "⚠ 1 citation naming no source shown to the model left out",
        "⚠ “Putin also gave Kim a glove from a space suit.” cites [1] (not [2])",
        "⚠ “The rifles were made of solid gold.” cites [1] (not [2])",
        "⚠ Unsupported by the sources it cites: The rifles were made of solid gold.",
        "",
    ]
    assert rest[-1].startswith(f"[1] {SEED_FILE.name}, line 16: ")


def test_an_llm_answer_nothing_backs_is_followed_by_the_refusal(scripted: CliRunner) -> None:
    out = scripted.invoke(app, ["ask", "What is the capital of Mars?"])
    assert out.exit_code == 0, out.output
    assert out.output.splitlines() == [
        "The capital of Mars is Olympus [1].",
        "⚠ Not backed by the passages it cites, so the answer is: "
        "The documents do not contain the answer to this question.",
    ]


# -- the local 1.5B model (`make local-model`), when it is installed -------------------------

LOCAL_MODEL = ROOT / "models" / LOCAL_GGUF


@pytest.mark.skipif(
    not LOCAL_MODEL.is_file(),
    reason=f"the local 1.5B model is not installed ({LOCAL_MODEL}): run `make local-model`",
)
def test_the_local_model_answers_from_the_seeds_and_refuses_what_they_do_not_say(
    store: Path, cache_dir: Path
) -> None:
    assert run("ingest", str(SEEDS), store=store, cache=cache_dir).returncode == 0
    local = {"ASSISTANT_BACKEND": "local", "ASSISTANT_LOCAL_MODEL": str(LOCAL_MODEL)}
    ramp = run("ask", "How are Kim's armored limousines put onto his train?", store=store,
               cache=cache_dir, **local)  # fmt: skip
    assert ramp.returncode == 0, ramp.stderr
    answer, sources = ramp.stdout.split("\nSources:\n")
    assert "ramp" in answer.splitlines()[0], ramp.stdout  # as it streamed
    cited = re.findall(r"^\[\d+\] (\S+), (line \d+|lines \d+-\d+): ", sources, re.MULTILINE)
    assert (SEED_FILE.name, "line 17") in cited, ramp.stdout
    fifa = run("ask", "Who won the 2022 FIFA World Cup?", store=store, cache=cache_dir, **local)
    assert fifa.returncode == 0, fifa.stderr
    assert REFUSAL in fifa.stdout and "Sources:" not in fifa.stdout, fifa.stdout
