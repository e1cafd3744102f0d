"""The HTTP API under load: concurrent streaming clients against a real `assistant serve`.

python bench/api.py [--clients 8] [--questions 25]

Ingests the seeds into a fresh store, starts the server on a free loopback port,
and has each client stream the first QUESTIONS gold questions (tests/eval/seeds.jsonl),
each client from its own offset, all at once. Reports p50/p95 time to the first
content token and to the whole answer, errors, and the server's resident memory
sampled every 0.25 s across the run (bench/results/api.json).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import percentile, save

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mib(pid: int) -> float:
    """Resident memory of process ``pid`` (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start(store: Path, port: int) -> subprocess.Popen[bytes]:
    cli = str(Path(sys.executable).with_name("assistant"))
    env = {**os.environ, "ASSISTANT_STORE_DIR": str(store), "ASSISTANT_API_PORT": str(port)}
    subprocess.run([cli, "ingest", str(ROOT / "seeds")], env=env, check=True, capture_output=True)
    quiet = subprocess.DEVNULL
    server = subprocess.Popen([cli, "serve"], env=env, stdout=quiet, stderr=quiet)
    for _ in range(600):
        try:
            httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=1)
            return server
        except httpx.TransportError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("assistant serve did not start")


Result = tuple[float, float, bool]  # seconds to the first token, to [DONE]; ended well


async def ask(client: httpx.AsyncClient, question: str) -> Result:
    """Seconds to the first content token and to [DONE], and whether it ended well."""
    body = {"model": "seeds", "stream": True, "messages": [{"role": "user", "content": question}]}
    started = time.perf_counter()
    first, done, cited = None, None, False
    async with client.stream("POST", "/v1/chat/completions", json=body) as reply:
        if reply.status_code != 200:
            return 0.0, 0.0, False
        async for line in reply.aiter_lines():
            if line == "data: [DONE]":
                done = time.perf_counter()
            elif line.startswith("data: "):
                event = json.loads(line[6:])
                if "error" in event:
                    return 0.0, 0.0, False
                delta = event["choices"][0]["delta"] if event["choices"] else {}
                if delta.get("content") and first is None:
                    first = time.perf_counter()
                cited = cited or "citations" in event
    if first is None or done is None or not cited:
        return 0.0, 0.0, False
    return first - started, done - started, True


async def client_run(url: str, questions: list[str], offset: int) -> list[Result]:
    order = questions[offset:] + questions[:offset]
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        return [await ask(client, q) for q in order]


async def sample(pid: int, every: float, out: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        out.append(rss_mib(pid))
        await asyncio.sleep(every)


async def load(
    url: str, pid: int, questions: list[str], clients: int
) -> tuple[list[Result], list[float]]:
    memory: list[float] = []
    stop = asyncio.Event()
    sampler = asyncio.create_task(sample(pid, 0.25, memory, stop))
    runs = await asyncio.gather(
        *(client_run(url, questions, i * len(questions) // clients) for i in range(clients))
    )
    stop.set()
    await sampler
    return [r for run in runs for r in run], memory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--questions", type=int, default=25)
    args = parser.parse_args()
    gold = (ROOT / "tests" / "eval" / "seeds.jsonl").read_text().splitlines()
    questions = [json.loads(line)["question"] for line in gold if line.strip()][: args.questions]
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        server = start(Path(tmp) / "vectorstore", port)
        try:
            url = f"http://127.0.0.1:{port}"
            # One client alone first: the unloaded latency, and every question seen once.
            alone, warm = asyncio.run(load(url, server.pid, questions, 1))
            started = time.perf_counter()
            results, memory = asyncio.run(load(url, server.pid, questions, args.clients))
            wall = time.perf_counter() - started
        finally:
            server.terminate()
            server.wait(10)
    row = {
        "one_client": latencies(alone),
        "concurrent": latencies(results),
        "wall_s": round(wall, 1),
        "answers_per_s": round(len(results) / wall, 2),
        "server_rss_mib": {
            "before_any_question": round(warm[0], 1),
            "start": round(memory[0], 1),
            **{f"at_{q}%": round(memory[len(memory) * q // 100], 1) for q in (25, 50, 75)},
            "end": round(memory[-1], 1),
            "max": round(max(memory), 1),
            "samples": len(memory),
        },
        "clients": args.clients,
        "questions_per_client": len(questions),
    }
    print(json.dumps(row, indent=2))
    print(f"written: {save('api', row)}")


def latencies(results: list[Result]) -> dict[str, object]:
    """Requests, errors, and p50/p95 in ms to the first token and to the whole answer."""
    good = [r for r in results if r[2]]
    ttft = [r[0] * 1000 for r in good]
    total = [r[1] * 1000 for r in good]
    return {
        "requests": len(results),
        "errors": len(results) - len(good),
        "ttft_ms": {"p50": round(percentile(ttft, 50), 1), "p95": round(percentile(ttft, 95), 1)},
        "total_ms": {
            "p50": round(percentile(total, 50), 1),
            "p95": round(percentile(total, 95), 1),
        },
    }


if __name__ == "__main__":
    main()
