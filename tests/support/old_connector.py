"""Client venvs of their own: the previous connector generation (4.8.x, the one Snowpark pins)
and Snowpark itself.

The test extras install connector 5.x; 4.8 has different file-transfer code (pure Python storage
clients instead of the Rust core), so both are tested. The venv is built once, from PyPI, into a
cache directory (``~/.cache/hoarfrost-test-venvs/connector-4.8``, or
``$HOARFROST_TEST_VENVS/connector-4.8``), atomically: built beside and renamed into place. Tests
run a script in it that prints JSON on its last line.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

__all__ = [
    "CONNECTOR_48",
    "SNOWPARK",
    "client_python",
    "connector48_python",
    "run_script",
    "snowpark_python",
]

CONNECTOR_48 = "snowflake-connector-python[pandas]>=4.8,<4.9"
# Snowpark pins the 4.8 connector; its venv is the one Snowpark users have.
SNOWPARK = "snowflake-snowpark-python[pandas]>=1.56,<1.57"


def _cache() -> Path:
    base = os.environ.get("HOARFROST_TEST_VENVS") or "~/.cache/hoarfrost-test-venvs"
    return Path(base).expanduser()


_CONNECTOR_PROBE = (
    "import pandas, snowflake.connector as c, snowflake.connector.pandas_tools; "
    "assert c.__version__.startswith('4.8')"
)
_SNOWPARK_PROBE = (
    "import pandas, snowflake.snowpark as s, snowflake.connector as c; "
    "assert s.__version__.startswith('1.56') and c.__version__.startswith('4.8')"
)


def connector48_python() -> Path:
    """The interpreter of the 4.8 venv, built when missing (one builder at a time)."""
    return client_python("connector-4.8", CONNECTOR_48, _CONNECTOR_PROBE)


def snowpark_python() -> Path:
    """The interpreter of a venv with Snowpark 1.56 (and the 4.8 connector it pins)."""
    return client_python("snowpark-1.56", SNOWPARK, _SNOWPARK_PROBE)


def client_python(name: str, requirement: str, probe: str) -> Path:
    """The interpreter of the cached venv ``name`` holding ``requirement``, built when missing
    or broken (``probe`` must run in it), one builder at a time."""
    target = _cache() / name
    python = target / "bin" / "python"
    _cache().mkdir(parents=True, exist_ok=True)
    with open(_cache() / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if python.exists() and _works(python, probe):
            return python
        _build(target, requirement)
    assert _works(python, probe), f"the {name} venv does not pass: {probe}"
    return python


def _build(target: Path, requirement: str) -> None:
    build = _cache() / f"{target.name}.build-{os.getpid()}"
    shutil.rmtree(build, ignore_errors=True)
    build.parent.mkdir(parents=True, exist_ok=True)
    uv = [sys.executable, "-m", "uv"]
    subprocess.run([*uv, "venv", "-q", "--python", sys.executable, str(build)], check=True)
    subprocess.run(
        [*uv, "pip", "install", "-q", "--python", str(build / "bin" / "python"), requirement],
        check=True,
    )
    shutil.rmtree(target, ignore_errors=True)
    os.replace(build, target)


def _works(python: Path, probe: str) -> bool:
    return subprocess.run([str(python), "-c", probe], capture_output=True).returncode == 0


def run_script(python: Path, script: str, **values: Any) -> Any:
    """Run ``script`` (with ``ARGS`` bound to ``values``) and return the JSON of its last line."""
    prologue = f"import json\nARGS = json.loads({json.dumps(json.dumps(values))})\n"
    done = subprocess.run(
        [str(python), "-c", prologue + textwrap.dedent(script)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise AssertionError(f"client script failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])
