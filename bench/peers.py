"""The benchmarks' peers, kept out of the project's dependencies.

fakesnow (with its server extra) and tpchgen-cli are installed once, with uv, into a venv under
``~/.cache/hoarfrost-bench`` (``HOARFROST_BENCH_CACHE``). fakesnow 0.12 imports connector
modules that the 5.x line moved, so that venv pins the connector's 4.x line. A :class:`Peer` is
a process of that venv running ``bench/peer_main.py``: one JSON request a line on its stdin, one
JSON answer a line on its stdout, so the benchmark can interleave it with our own runs.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

CACHE = Path(os.environ.get("HOARFROST_BENCH_CACHE", Path.home() / ".cache" / "hoarfrost-bench"))
VENV = CACHE / "fakesnow-venv"
PEER_PACKAGES = [
    "fakesnow[server]==0.12.1",
    "snowflake-connector-python<5",
    "tpchgen-cli==4.0.0",
    "pandas",
    "pyarrow",
]
HERE = Path(__file__).resolve().parent


def peer_python() -> Path:
    """The peer venv's interpreter, built on first use."""
    python = VENV / "bin" / "python"
    stamp = VENV / ".bench-installed"
    if not stamp.exists():
        uv = Path(sys.executable).with_name("uv")
        subprocess.run([str(uv), "venv", "-q", "-p", "3.11", str(VENV)], check=True)
        env = {**os.environ, "VIRTUAL_ENV": str(VENV)}
        subprocess.run([str(uv), "pip", "install", "-q", *PEER_PACKAGES], check=True, env=env)
        stamp.touch()
    return python


def tpch_dir(scale: float) -> Path:
    """Parquet files of TPC-H at ``scale``, generated once by tpchgen-cli."""
    out = CACHE / f"tpch-sf{scale:g}"
    if not (out / "lineitem.parquet").exists():
        cli = peer_python().with_name("tpchgen-cli")
        subprocess.run([str(cli), "parquet", "-s", f"{scale:g}", f"--output-dir={out}"], check=True)
    return out


class Peer:
    def __init__(self, *args: str):
        self.proc = subprocess.Popen(
            [str(peer_python()), str(HERE / "peer_main.py"), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def ask(self, **request: Any) -> Any:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        answer = json.loads(self.proc.stdout.readline())
        if "error" in answer:
            raise RuntimeError(f"peer: {answer['error']}")
        return answer

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=60)


def median_ms(times: list[float]) -> float:
    return statistics.median(times) * 1000
