"""tiktoken without the network: its encoding files come from the ``bpe-openai`` package.

tiktoken downloads ``<name>.tiktoken`` on first use and caches it in
``TIKTOKEN_CACHE_DIR`` under the sha1 of the download URL, checking its sha256.
We unpack the same files from the installed ``bpe-openai`` wheel into a cache
folder we own, check the hashes tiktoken expects, and point tiktoken at it.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import os
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.core.errors import OfflineAssetError

if TYPE_CHECKING:
    import tiktoken

_URL = "https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"
# The sha256 values tiktoken_ext.openai_public passes as ``expected_hash``.
EXPECTED_SHA256 = {
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
}


def _package_data_dir() -> Path:
    spec = importlib.util.find_spec("bpe_openai")
    if spec is None or not spec.submodule_search_locations:
        raise OfflineAssetError(
            "The package 'bpe-openai' (tiktoken encodings) is not installed: run `make install`."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def install_encodings(cache_dir: Path) -> Path:
    """Unpack and verify the encodings into ``cache_dir/tiktoken``; return that folder."""
    target = cache_dir / "tiktoken"
    target.mkdir(parents=True, exist_ok=True)
    for name, sha in EXPECTED_SHA256.items():
        dest = target / hashlib.sha1(_URL.format(name=name).encode()).hexdigest()
        if dest.exists() and hashlib.sha256(dest.read_bytes()).hexdigest() == sha:
            continue
        data = gzip.decompress((_package_data_dir() / f"{name}.tiktoken.gz").read_bytes())
        if hashlib.sha256(data).hexdigest() != sha:
            raise OfflineAssetError(
                f"{name}.tiktoken from 'bpe-openai' does not match the hash tiktoken expects; "
                "reinstall it with `make install`."
            )
        tmp = dest.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(dest)
    return target


@cache  # once per process and folder: it hashes ~5 MB of encoding files
def use_offline_encodings(cache_dir: Path) -> None:
    """Make sure the encodings are in place and point tiktoken at them (before first use)."""
    os.environ["TIKTOKEN_CACHE_DIR"] = str(install_encodings(cache_dir))


@cache
def encoding(name: str = "cl100k_base") -> tiktoken.Encoding:
    """The tiktoken encoding ``name``; ``use_offline_encodings`` must have run first."""
    import tiktoken

    return tiktoken.get_encoding(name)


def count_tokens(text: str, name: str = "cl100k_base") -> int:
    """Number of tokens of ``text`` in encoding ``name``."""
    return len(encoding(name).encode(text, disallowed_special=()))
