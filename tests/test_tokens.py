"""tiktoken works offline from the encodings shipped in the bpe-openai package."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from assistant.text.tokens import EXPECTED_SHA256, count_tokens, encoding, install_encodings

pytestmark = pytest.mark.fast


def test_encodings_are_unpacked_under_the_names_tiktoken_looks_for(tmp_path: Path) -> None:
    folder = install_encodings(tmp_path)
    for name, sha in EXPECTED_SHA256.items():
        url = f"https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"
        cached = folder / hashlib.sha1(url.encode()).hexdigest()
        assert hashlib.sha256(cached.read_bytes()).hexdigest() == sha


def test_a_corrupted_cache_file_is_replaced(tmp_path: Path) -> None:
    folder = install_encodings(tmp_path)
    victim = sorted(folder.iterdir())[0]
    victim.write_bytes(b"garbage")
    install_encodings(tmp_path)
    assert victim.read_bytes() != b"garbage"


def test_both_encodings_count_tokens_with_the_network_blocked(cache_dir: Path) -> None:
    assert os.environ["TIKTOKEN_CACHE_DIR"] == str(cache_dir / "tiktoken")
    # [15339, 1917] is "hello world" in cl100k_base in tiktoken's own documentation.
    assert encoding("cl100k_base").encode("hello world") == [15339, 1917]
    text = "Kim Jong Un travelled to Vladivostok by armored train."
    o200k = encoding("o200k_base")
    assert o200k.decode(o200k.encode(text)) == text
    assert o200k.encode(text) != encoding("cl100k_base").encode(text)
    assert count_tokens(text) == len(encoding("cl100k_base").encode(text))
