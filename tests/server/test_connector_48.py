"""The connector's 4.8.x line (the one Snowpark pins) against ``hoarfrost serve``: Arrow
results and chunked large results. The connector runs in its own venv, built once by uv under
``~/.cache/hoarfrost-test-venvs/connector-4.8`` (``HOARFROST_TEST_VENVS``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.server.conftest import PASSWORD, USER, ServedAccount

VENVS = Path(
    os.environ.get("HOARFROST_TEST_VENVS", Path.home() / ".cache" / "hoarfrost-test-venvs")
)
BIG = 300_000


@pytest.fixture(scope="session")
def connector_48() -> Path:
    venv = VENVS / "connector-4.8"
    python = venv / "bin" / "python"
    stamp = venv / ".installed"
    if not stamp.exists():
        uv = Path(sys.executable).with_name("uv")
        subprocess.run([str(uv), "venv", "-q", "--clear", "-p", "3.11", str(venv)], check=True)
        subprocess.run(
            [str(uv), "pip", "install", "-q", "snowflake-connector-python[pandas]>=4.8,<4.9"],
            check=True,
            env={**os.environ, "VIRTUAL_ENV": str(venv)},
        )
        stamp.touch()
    return python


def test_connector_48_reads_arrow_and_chunks(served: ServedAccount, connector_48: Path) -> None:
    script = Path(__file__).with_name("connector48_client.py")
    argv = [str(connector_48), str(script), str(served.port), USER, PASSWORD, str(BIG)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["version"].startswith("4.8")
    assert seen["scalars"] is True and seen["null"] is None
    assert seen["tz_utc"] == "2024-01-02T01:04:05.123456+00:00"
    assert seen["variant"] == {"a": 1}
    assert seen["fetchall"] is True and seen["pandas"] is True
    assert seen["arrow"] == BIG and seen["pandas_batches"] == BIG
    assert seen["result_batches"][0] > 1 and seen["result_batches"][1] == BIG
