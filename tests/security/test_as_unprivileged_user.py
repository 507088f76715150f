"""The attack modules hold for an engine that is not root too (issue 10): when the suite runs as
root (CI does), this runs them again as an unprivileged user.

The interpreters live under /root (0700) here, so the run happens in a private mount namespace
where /root is a world-traversable tmpfs holding only a bind mount of the pyenv tree; the
account, caches and temporary files are the user's own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODULES = ["tests/security/test_sql_surface.py", "tests/security/test_udf_attacks.py"]
NOBODY = 65534

SCRIPT = r"""
set -e
mount --make-rprivate /
old="$1"; shift
mount --bind /root "$old"
mount -t tmpfs -o mode=0755 tmpfs /root
if [ -d "$old/.pyenv" ]; then mkdir /root/.pyenv && mount --bind "$old/.pyenv" /root/.pyenv; fi
exec "$@"
"""


def test_attack_modules_pass_as_an_unprivileged_user() -> None:
    if os.geteuid() != 0:
        # Already unprivileged: the modules themselves ran as this user in this session.
        assert os.geteuid() != 0
        return
    for tool in ("unshare", "setpriv", "mount"):
        assert shutil.which(tool), f"{tool} (util-linux) is needed to run as another user"
    # Not under pytest's tmp_path: its parents are 0700 to everyone but root.
    base = Path(tempfile.mkdtemp(prefix="hoarfrost-unprivileged-"))
    try:
        _run_as_nobody(base)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _run_as_nobody(base: Path) -> None:
    base.chmod(0o755)
    home, old = base / "home", base / "oldroot"
    home.mkdir()
    old.mkdir()
    os.chown(home, NOBODY, NOBODY)
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "TMPDIR": str(home),
        "PYTHONPATH": str(ROOT / "src"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "HOARFROST_TEST_WHEELS": str(home / "wheels"),
    }
    argv = [
        "unshare",
        "--mount",
        "sh",
        "-c",
        SCRIPT,
        "sh",
        str(old),
        "setpriv",
        f"--reuid={NOBODY}",
        f"--regid={NOBODY}",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "env",
        "-i",
        *(f"{k}={v}" for k, v in env.items()),
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        f"--basetemp={home / 'pytest'}",
        "-c",
        str(ROOT / "pyproject.toml"),
        "--rootdir",
        str(ROOT),
        *(str(ROOT / m) for m in MODULES),
    ]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=1200)
    tail = (done.stdout + done.stderr)[-4000:]
    assert done.returncode == 0, tail
    assert " passed" in tail and "failed" not in tail and "error" not in tail.lower(), tail
