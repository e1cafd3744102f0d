"""Cold start: wall time and peak memory of `assistant ask` in a new process (warm disk),
and import time.

python bench/startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import save

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "How did Kim travel to Russia?"


def wall(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def peak_mib(command: list[str], env: dict[str, str]) -> float:
    """Peak RSS of one run of ``command``, from a child Python that runs it alone."""
    probe = (
        "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
        "capture_output=True); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    done = subprocess.run([sys.executable, "-c", probe, *command], env=env, check=True,
                          capture_output=True, text=True)  # fmt: skip
    return int(done.stdout.strip()) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--backends", nargs="+", default=["extractive"])
    args = parser.parse_args()
    cli = str(Path(sys.executable).with_name("assistant"))
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "ASSISTANT_STORE_DIR": tmp}
        subprocess.run(
            [cli, "ingest", str(ROOT / "seeds")], env=env, check=True, capture_output=True
        )
        asks, peaks = {}, {}
        for backend in args.backends:
            with_backend = {**env, "ASSISTANT_BACKEND": backend}
            wall([cli, "ask", QUESTION], with_backend)  # warm the disk cache
            asks[backend] = [wall([cli, "ask", QUESTION], with_backend) for _ in range(args.runs)]
            peaks[backend] = [peak_mib([cli, "ask", QUESTION], with_backend) for _ in range(3)]
        imports = [
            wall([sys.executable, "-c", "import assistant.cli"], env) for _ in range(args.runs)
        ]
        bare = [wall([sys.executable, "-c", "pass"], env) for _ in range(args.runs)]
    rows = {
        "runs": args.runs,
        **{f"ask_cold_s_{b}": round(statistics.median(v), 2) for b, v in asks.items()},
        **{f"ask_peak_mib_{b}": round(statistics.median(v)) for b, v in peaks.items()},
        "import_cli_s": round(statistics.median(imports), 3),
        "python_alone_s": round(statistics.median(bare), 3),
    }
    print(f"{'measure':<34}{'median s':>10}")
    for backend in asks:
        label = f"assistant ask ({backend}, new process)"
        print(f"{label:<34}{rows[f'ask_cold_s_{backend}']:>10}")
        print(f"{'  its peak RSS, MiB':<34}{rows[f'ask_peak_mib_{backend}']:>10}")
    print(f"{'python -c import assistant.cli':<34}{rows['import_cli_s']:>10}")
    print(f"{'python -c pass':<34}{rows['python_alone_s']:>10}")
    print(f"written to {save('startup', rows)}")


if __name__ == "__main__":
    main()
