"""Real wheels from PyPI, downloaded once into a cache directory (tests, bench and demo)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["download_wheels"]


def download_wheels(
    dest: Path,
    requirements: Sequence[str],
    *,
    extra_args: Sequence[str] = ("--python-version", "3.11"),
    python: str = sys.executable,
) -> Path:
    """Binary wheels of ``requirements`` and their dependencies in ``dest``; a marker written
    last makes later calls free (an interrupted download is simply resumed)."""
    marker = dest / ".complete"
    if marker.exists():
        return dest
    dest.mkdir(parents=True, exist_ok=True)
    print(f"downloading {', '.join(requirements)} into {dest} (once) ...", flush=True)
    argv = [python, "-m", "pip", "download", "--quiet", "--only-binary", ":all:", *extra_args]
    # The machine's pip configuration may name local mirrors; ask the index pip knows by default.
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull}
    subprocess.run([*argv, "-d", str(dest), *requirements], check=True, env=env)
    marker.touch()
    return dest
