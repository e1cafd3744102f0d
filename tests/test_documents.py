"""Loading and chunking: story boundaries on the seeds, exact offsets on any text."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SEED_FILE, SEEDS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.core.errors import NoDocumentsError
from assistant.ingest.documents import SourceFile, chunk_file, chunk_spans, load_paths
from assistant.text.formats.stories import story_spans
from assistant.text.tokens import count_tokens

pytestmark = pytest.mark.usefixtures("cache_dir")


def _file(text: str, name: str = "doc.txt") -> SourceFile:
    return SourceFile(name, f"docs/{name}", text, root="docs", whole_folder=True)


def test_seed_file_is_one_chunk_per_story() -> None:
    text = SEED_FILE.read_text(encoding="utf-8")
    chunks = chunk_file(_file(text, SEED_FILE.name))
    lines = [(c.metadata["line_start"], c.metadata["line_end"]) for c in chunks]
    # Two "Main Topic:" blocks (lines 1-5 and 6-10), then one story per line.
    assert lines == [(1, 5), (6, 10)] + [(n, n) for n in range(11, 20)]
    assert chunks[7].page_content.startswith("Russian President Vladimir Putin and North Korean")
    assert "Key Points:" in chunks[0].page_content
    for chunk in chunks:
        meta = chunk.metadata
        assert text[meta["start"] : meta["end"]] == chunk.page_content
        assert meta["source"] == SEED_FILE.name
        assert meta["doc_id"] == f"docs/{SEED_FILE.name}"
        assert len(meta["content_hash"]) == 16
        assert 0 < len(meta["title"]) <= 81


def test_chunk_index_and_titles() -> None:
    chunks = chunk_file(_file(SEED_FILE.read_text(encoding="utf-8")))
    assert [c.metadata["chunk_index"] for c in chunks] == list(range(11))
    assert chunks[0].metadata["title"].startswith("Russia's defense minister accompanies")
    assert not chunks[0].metadata["title"].startswith("Main Topic")


def test_long_prose_is_split_under_the_token_limit_with_overlap() -> None:
    paragraph = " ".join(f"Sentence number {i} talks about topic {i % 7}." for i in range(120))
    text = f"# Title\n\n{paragraph}\n\nA short closing paragraph.\n"
    chunks = chunk_file(_file(text, "long.md"), chunk_tokens=200, overlap=20)
    assert len(chunks) > 3
    for chunk in chunks:
        meta = chunk.metadata
        assert count_tokens(chunk.page_content) <= 200
        assert text[meta["start"] : meta["end"]] == chunk.page_content
    starts = [c.metadata["start"] for c in chunks]
    ends = [c.metadata["end"] for c in chunks]
    assert any(s < e for s, e in zip(starts[1:], ends[:-1], strict=True)), "expected overlap"


def test_story_spans_group_key_points_only_under_a_main_topic() -> None:
    text = "Main Topic: A\nKey Points:\n1. x\n2. y\nStory two\n1. not a key point\n"
    spans = [text[s:e] for s, e in story_spans(text)]
    assert spans == ["Main Topic: A\nKey Points:\n1. x\n2. y", "Story two", "1. not a key point"]


prose = st.lists(
    st.text(
        alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=0, max_size=300
    ),
    min_size=1,
    max_size=12,
).map(lambda parts: "\n".join(parts))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prose)
def test_chunks_cover_the_text_and_offsets_point_at_it(text: str) -> None:
    spans = chunk_spans(text, chunk_tokens=60, overlap=10)
    covered = set()
    for start, end in spans:
        assert 0 <= start < end <= len(text)
        chunk = text[start:end]
        assert chunk == chunk.strip() and chunk
        covered.update(range(start, end))
    missing = [i for i, ch in enumerate(text) if not ch.isspace() and i not in covered]
    assert not missing, f"characters outside every chunk: {missing[:5]}"


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.sampled_from(["Kim", "Putin", "train", "gifts", "Main Topic:", "\n", " "]), max_size=400
    )
)
def test_seed_like_text_respects_the_token_limit(tokens: list[str]) -> None:
    text = " ".join(tokens)
    for start, end in chunk_spans(text, chunk_tokens=50, overlap=5):
        assert count_tokens(text[start:end]) <= 50


def test_load_reads_folders_recursively_and_reports_bad_files(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / ".git").mkdir()
    (tmp_path / "a.txt").write_text("Alpha story.", encoding="utf-8")
    (tmp_path / "sub" / "b.md").write_text("# Beta\n\nBeta story.", encoding="utf-8")
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9 latin-1".encode("latin-1"))
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    (tmp_path / ".notes.txt").write_text("hidden", encoding="utf-8")
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/heads/main", encoding="utf-8")
    report = load_paths([tmp_path], max_file_mb=20)
    assert sorted(f.source for f in report.files) == ["a.txt", "latin1.txt", "sub/b.md"]
    assert [f.text for f in report.files if f.source == "latin1.txt"] == ["Café latin-1"]
    # Hidden files and folders are left out without a word; anything else is reported.
    assert [(Path(name).name, why) for name, why in report.skipped] == [
        ("image.png", "unsupported file type (.png)")
    ]
    # A file is known by its absolute path, not by its folder's name.
    root = tmp_path.resolve().as_posix()
    assert {f.doc_id for f in report.files} == {
        f"{root}/a.txt",
        f"{root}/latin1.txt",
        f"{root}/sub/b.md",
    }
    assert {f.size_bytes for f in report.files if f.source == "a.txt"} == {len("Alpha story.")}


def test_missing_path_and_empty_folder_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(NoDocumentsError, match="no such file or folder"):
        load_paths([tmp_path / "nope"], max_file_mb=20)
    (tmp_path / "notes.pdf").write_bytes(b"%PDF-1.4")
    message = (
        r"No readable documents in .* \(supported: \.txt, \.md, \.pdf, \.docx, \.html, \.htm\)\. "
        r"Skipped .*notes\.pdf: corrupt or unreadable PDF"
    )
    with pytest.raises(NoDocumentsError, match=message):
        load_paths([tmp_path], max_file_mb=20)


def test_single_file_keeps_its_folder_as_root() -> None:
    report = load_paths([SEED_FILE], max_file_mb=20)
    (only,) = report.files
    assert only.doc_id == SEED_FILE.resolve().as_posix() and not only.whole_folder
    assert only.root == SEEDS.resolve().as_posix()
