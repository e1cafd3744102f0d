"""What an ingest will change, as a pure comparison of the files found with the stored ids."""

from __future__ import annotations

import pytest
from langchain_core.documents import Document

from assistant.ingest.changes import chunk_key, plan, within

pytestmark = pytest.mark.fast


def _doc(doc_id: str, text: str, occurrence: int = 0) -> Document:
    return Document(page_content=text, metadata={"doc_id": doc_id, "occurrence": occurrence})


def _keys(*docs: Document) -> set[str]:
    return {chunk_key(d) for d in docs}


def test_files_are_new_changed_unchanged_or_gone_within_the_paths_only() -> None:
    kept, old = _doc("/a/notes/x.txt", "kept"), _doc("/a/notes/x.txt", "old")
    new = _doc("/a/notes/x.txt", "new")
    same = _doc("/a/notes/y.txt", "same")
    known = {
        "/a/notes/x.txt": _keys(kept, old),
        "/a/notes/y.txt": _keys(same),
        "/a/notes/gone.txt": _keys(
            _doc("/a/notes/gone.txt", "g1"), _doc("/a/notes/gone.txt", "g2")
        ),
        "/b/notes/x.txt": _keys(_doc("/b/notes/x.txt", "other folder, same name")),
        "/a/notes2/z.txt": _keys(_doc("/a/notes2/z.txt", "a sibling whose name starts alike")),
    }
    found = {
        "/a/notes/x.txt": [kept, new],
        "/a/notes/y.txt": [same],
        "/a/notes/fresh.txt": [_doc("/a/notes/fresh.txt", "fresh")],
    }
    result = plan(known, found, ["/a/notes"])
    assert (result.new, result.changed, result.unchanged) == (
        ["/a/notes/fresh.txt"], ["/a/notes/x.txt"], ["/a/notes/y.txt"],
    )  # fmt: skip
    assert result.gone == ["/a/notes/gone.txt"]
    assert (result.chunks_added, result.chunks_unchanged, result.chunks_deleted) == (2, 2, 3)


def test_a_single_file_scope_touches_only_that_file() -> None:
    known = {"/a/notes/x.txt": {"k1"}, "/a/notes/y.txt": {"k2"}}
    assert plan(known, {}, ["/a/notes/x.txt"]).gone == ["/a/notes/x.txt"]
    assert plan(known, {}, ["/a/notes/y"]).gone == []


def test_the_chunk_id_depends_on_the_file_the_text_and_its_repeat() -> None:
    ids = {
        chunk_key(_doc("/a/notes/x.txt", "t")),
        chunk_key(_doc("/b/notes/x.txt", "t")),
        chunk_key(_doc("/a/notes/x.txt", "t", occurrence=1)),
        chunk_key(_doc("/a/notes/x.txt", "u")),
    }
    assert len(ids) == 4


@pytest.mark.parametrize(
    ("doc_id", "scope", "inside"),
    [
        ("/a/notes/x.txt", "/a/notes", True),
        ("/a/notes/x.txt", "/a/notes/", True),
        ("/a/notes/sub/x.txt", "/a/notes", True),
        ("/a/notes/x.txt", "/a/notes/x.txt", True),
        ("/a/notes2/x.txt", "/a/notes", False),
        ("/a/notes", "/a/notes/x.txt", False),
        ("notes/x.txt", "notes", True),  # a legacy id, as `assistant remove` is given it
    ],
)
def test_within(doc_id: str, scope: str, inside: bool) -> None:
    assert within(doc_id, scope) is inside
