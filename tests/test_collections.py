"""Named collections: the `--collection` option, `assistant collections`, and bad names."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from conftest import Invoke, Ran, run_cli

from assistant.core.config import Settings
from assistant.core.errors import UsageError
from assistant.store.corpus import Corpus, check_name

GOOD = ["seeds", "my-docs", "a.b_c-9", "x" * 63, "1.2.3", "abc"]
BAD = ["ab", "x" * 64, "-docs", "docs-", "my..docs", "192.168.0.1", "my docs", "dócs"]


@pytest.mark.fast
@pytest.mark.parametrize("name", GOOD)
def test_names_chroma_accepts_are_accepted(tmp_path: Path, name: str) -> None:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    assert check_name(name) == name
    client = chromadb.PersistentClient(
        str(tmp_path / "chroma"), settings=ChromaSettings(anonymized_telemetry=False)
    )
    client.create_collection(name, embedding_function=None)


@pytest.mark.fast
@pytest.mark.parametrize("name", BAD)
def test_names_chroma_refuses_are_refused_before_the_store_opens(tmp_path: Path, name: str) -> None:
    settings = Settings(store_dir=tmp_path / "store")
    with pytest.raises(UsageError, match="Invalid collection name"):
        Corpus.open(settings, name)
    assert not (tmp_path / "store").exists()


@pytest.mark.fast
@pytest.mark.parametrize("command", [("ask", "What gifts?"), ("ingest", "."), ("stats",)])
def test_a_bad_collection_name_is_one_line_and_creates_nothing(
    tmp_path: Path, cache_dir: Path, command: tuple[str, ...]
) -> None:
    store = tmp_path / "store"
    out = run_cli(*command, "--collection", "my..docs", store=store, cache=cache_dir)
    assert out.returncode == 2
    assert out.stderr.startswith("error: Invalid collection name 'my..docs'")
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr
    assert not store.exists()


# --- the commands, on the embedded store and on a real `chroma run` server --------------

ZORBLAX = "The Zorblax rocket engine was designed by engineers at Acme Propulsion in Tallinn.\n"
QUUXO = "The Quuxo suspension bridge over the Douro was built by Ferreira Steel in Porto.\n"


@pytest.fixture(params=["embedded", "server"])
def where(request: pytest.FixtureRequest) -> dict[str, str]:
    """The environment of a store of the test's own, embedded or on the Chroma server."""
    if request.param == "embedded":
        return {}
    return {"ASSISTANT_CHROMA_URL": request.getfixturevalue("chroma_server")}


def _folder(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / f"{name}.md").write_text(text, encoding="utf-8")
    return folder


def _on(invoke: Invoke, tmp_path: Path, env: dict[str, str]) -> Invoke:
    """The commands on the test's store (in this process); ``answer`` is typed at a prompt."""

    def run(*args: str, answer: str | None = None) -> Ran:
        return invoke(*args, store=tmp_path / "store", input=answer, **env)

    return run


def test_each_command_works_on_the_collection_it_names(
    tmp_path: Path, invoke: Invoke, where: dict[str, str]
) -> None:
    alpha, beta = (f"alpha-{uuid.uuid4().hex[:8]}", f"beta-{uuid.uuid4().hex[:8]}")
    run = _on(invoke, tmp_path, where)
    zorblax, quuxo = _folder(tmp_path, "zorblax", ZORBLAX), _folder(tmp_path, "quuxo", QUUXO)
    made = run("ingest", str(zorblax), "--collection", alpha)
    assert made.returncode == 0, made.stderr
    assert f"1 in collection '{alpha}'" in made.stdout
    assert run("ingest", str(quuxo), "-c", beta).returncode == 0

    question = "Who designed the Zorblax rocket engine?"
    asked = run("ask", question, "--json", "--collection", alpha)
    assert "Acme Propulsion" in json.loads(asked.stdout)["answer"]
    refused = run("ask", question, "--json", "--collection", beta)
    assert json.loads(refused.stdout)["refused"] is True
    missing = run("ask", question, "--collection", "gamma-none")
    assert missing.returncode == 1 and "collection 'gamma-none'" in missing.stderr

    stats = json.loads(run("stats", "--json", "--collection", beta).stdout)
    assert (stats["collection"], stats["documents"], stats["chunks"]) == (beta, 1, 1)
    listed = {c["name"]: c for c in json.loads(run("collections", "--json").stdout)}
    assert listed[alpha] == {
        "name": alpha, "documents": 1, "chunks": 1, "embedding_model": "all-MiniLM-L6-v2"
    }  # fmt: skip
    assert beta in listed
    text = run("collections").stdout
    assert f"{alpha}: 1 document, 1 chunk, all-MiniLM-L6-v2" in text

    chat = run("chat", "-c", beta, answer="Who built the Quuxo bridge?\n")
    assert chat.returncode == 0 and "Ferreira Steel" in chat.stdout


def test_collections_delete_asks_first(
    tmp_path: Path, invoke: Invoke, where: dict[str, str]
) -> None:
    name = f"gone-{uuid.uuid4().hex[:8]}"
    run = _on(invoke, tmp_path, where)
    assert run("ingest", str(_folder(tmp_path, "z", ZORBLAX)), "-c", name).returncode == 0
    records, bm25 = tmp_path / "store" / "records", tmp_path / "store" / "bm25"
    assert (records / f"{name}.sqlite3").exists() and (bm25 / name).is_dir()

    kept = run("collections", "--delete", name, answer="n\n")
    assert kept.returncode == 1
    assert f"Delete collection '{name}' (1 document, 1 chunk)" in kept.stdout
    assert f"Kept collection '{name}'" in kept.stdout
    unanswered = run("collections", "--delete", name, answer="")
    assert unanswered.returncode == 1
    assert name in {c["name"] for c in json.loads(run("collections", "--json").stdout)}

    gone = run("collections", "--delete", name, answer="y\n")
    assert gone.returncode == 0, gone.stderr
    assert f"Deleted collection '{name}'" in gone.stdout
    assert name not in {c["name"] for c in json.loads(run("collections", "--json").stdout)}
    assert not (records / f"{name}.sqlite3").exists() and not (bm25 / name).exists()
    again = run("collections", "--delete", name, "--yes")
    assert again.returncode == 1 and f"No collection '{name}'" in again.stderr


def test_collections_delete_yes_skips_the_question(tmp_path: Path, invoke: Invoke) -> None:
    # Embedded only: `--yes` asks nothing wherever the store is (the delete on the
    # server: test_collections_delete_asks_first).
    name = f"gone-{uuid.uuid4().hex[:8]}"
    run = _on(invoke, tmp_path, {})
    assert run("ingest", str(_folder(tmp_path, "z", ZORBLAX)), "-c", name).returncode == 0
    gone = run("collections", "--delete", name, "--yes")
    assert gone.returncode == 0 and "Delete collection" not in gone.stdout
    asked = run("ask", "Who designed the Zorblax rocket engine?", "-c", name)
    assert asked.returncode == 1 and "No documents indexed" in asked.stderr


def test_sources_remove_and_eval_work_on_the_collection_they_name(
    tmp_path: Path, invoke: Invoke
) -> None:
    # Embedded only: `sources` and `remove` on the server are in test_sources.py.
    alpha, beta = (f"alpha-{uuid.uuid4().hex[:8]}", f"beta-{uuid.uuid4().hex[:8]}")
    run = _on(invoke, tmp_path, {})
    zorblax, quuxo = _folder(tmp_path, "zorblax", ZORBLAX), _folder(tmp_path, "quuxo", QUUXO)
    assert run("ingest", str(zorblax), "-c", alpha).returncode == 0
    assert run("ingest", str(quuxo), "-c", beta).returncode == 0
    listed = json.loads(run("sources", "--json", "--collection", beta).stdout)
    assert [Path(d["path"]).name for d in listed] == ["quuxo.md"]

    questions = tmp_path / "q.jsonl"
    questions.write_text(
        json.dumps({"id": "z", "question": "Which company designed the Zorblax rocket engine?",
                    "answer": "Acme Propulsion"}) + "\n", encoding="utf-8",
    )  # fmt: skip
    evaluated = run("eval", str(questions), "--collection", alpha, "--out", str(tmp_path / "e"))
    assert evaluated.returncode == 0, evaluated.stderr
    report = json.loads((tmp_path / "e" / "report.json").read_text())
    assert report["meta"]["collection"] == alpha and report["metrics"]["contains_answer"] == 1.0

    wrong = run("remove", str(zorblax / "zorblax.md"), "--collection", beta)
    assert wrong.returncode == 1  # not in beta: nothing removed
    removed = run("remove", str(zorblax / "zorblax.md"), "-c", alpha)
    assert removed.returncode == 0, removed.stderr
    assert json.loads(run("sources", "--json", "-c", alpha).stdout) == []
    assert len(json.loads(run("sources", "--json", "-c", beta).stdout)) == 1
