"""The attack modules hold for an engine that is not root too (issue 10): when the suite runs as
root (CI does), this runs them again as an unprivileged user.

The interpreters live under /root (0700) here, and a clean clone may sit in a 0700 directory
(``mktemp -d``), so the run happens in a private mount namespace where the checkout's entries
are bind-mounted under a world-traversable directory and /root is a world-traversable tmpfs
holding only a bind mount of the pyenv tree; the account, caches and temporary files are the
user's own.
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
checkout="$1"; repo="$2"; old="$3"; shift 3
# entry by entry: a bind mount of the checkout itself would keep its directory's 0700
for entry in "$checkout"/* "$checkout"/.[!.]*; do
  [ -e "$entry" ] || continue
  target="$repo/$(basename "$entry")"
  if [ -d "$entry" ]; then mkdir -p "$target"; else : > "$target"; fi
  mount --bind "$entry" "$target"
done
mount --bind /root "$old"
mount -t tmpfs -o mode=0755 tmpfs /root
if [ -d "$old/.pyenv" ]; then mkdir /root/.pyenv && mount --bind "$old/.pyenv" /root/.pyenv; fi
cd "$repo"
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
    home, old, repo = base / "home", base / "oldroot", base / "repo"
    for made in (home, old, repo):
        made.mkdir()
    os.chown(home, NOBODY, NOBODY)
    executable = Path(sys.executable)
    if executable.is_relative_to(ROOT):  # the checkout's venv: reach it through the bind mount
        executable = repo / executable.relative_to(ROOT)
    env = {
        "PATH": f"{executable.parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "TMPDIR": str(home),
        "PYTHONPATH": str(repo / "src"),
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
        str(ROOT),
        str(repo),
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
        str(executable),
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        f"--basetemp={home / 'pytest'}",
        "-c",
        str(repo / "pyproject.toml"),
        "--rootdir",
        str(repo),
        *(str(repo / m) for m in MODULES),
    ]
    done = subprocess.run(argv, cwd=base, capture_output=True, text=True, timeout=1200)
    tail = (done.stdout + done.stderr)[-4000:]
    assert done.returncode == 0, tail
    assert " passed" in tail and "failed" not in tail and "error" not in tail.lower(), tail
