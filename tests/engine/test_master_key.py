"""master.key is created atomically: concurrent first opens of a new home all get the same key.

Real processes, started together on a new home, each open the key ring and encrypt a probe; the
test then decrypts every probe with the key the home kept. Before the fix, a process that lost
the race read the file while the winner was still writing it ("must be 32 bytes").
"""

from __future__ import annotations

import base64
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

from hoarfrost.catalog.crypto import KEY_FILE, KeyRing

PROCESSES = 12
ROUNDS = 2
AAD = "probe"

# Waits for the go file, so that every process opens the key ring at the same moment.
OPENER = """
import base64, os, sys, time
from pathlib import Path
from hoarfrost.catalog.crypto import KeyRing

home, go, ready = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
ready.touch()
while not go.exists():
    time.sleep(0.0002)
ring = KeyRing.load(home, None)
print(base64.b64encode(ring.encrypt(b"same key", "probe")).decode())
"""


def _open_together(home: Path, scratch: Path) -> list[subprocess.CompletedProcess[str]]:
    go = scratch / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", OPENER, str(home), str(go), str(scratch / f"ready-{i}")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(PROCESSES)
    ]
    deadline = time.monotonic() + 60
    while len(list(scratch.glob("ready-*"))) < PROCESSES:
        assert time.monotonic() < deadline, "the openers did not start"
        time.sleep(0.01)
    go.touch()
    done = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        done.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return done


def test_concurrent_first_opens_share_one_whole_key(tmp_path: Path) -> None:
    for round_ in range(ROUNDS):
        home, scratch = tmp_path / f"home-{round_}", tmp_path / f"scratch-{round_}"
        home.mkdir()
        scratch.mkdir()
        results = _open_together(home, scratch)
        failures = [r.stderr.strip().splitlines()[-1:] for r in results if r.returncode != 0]
        assert not failures, f"round {round_}: {len(failures)} opens failed: {failures[:3]}"
        key_file = home / KEY_FILE
        assert len(base64.b64decode(key_file.read_text().strip(), validate=True)) == 32
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert sorted(os.listdir(home)) == [KEY_FILE]  # no temporary file left behind
        kept = KeyRing.load(home, None)
        for result in results:
            assert kept.decrypt(base64.b64decode(result.stdout.strip()), AAD) == b"same key"


def test_an_existing_key_is_kept(tmp_path: Path) -> None:
    first = KeyRing.load(tmp_path, None)
    blob = first.encrypt(b"x", AAD)
    assert KeyRing.load(tmp_path, None).decrypt(blob, AAD) == b"x"
