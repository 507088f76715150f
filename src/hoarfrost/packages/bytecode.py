"""Bytecode compilation of a freshly installed environment, before it is made read-only.

Why not ``uv pip install --compile-bytecode``: it compiles every ``.py`` file, and on a realistic
stack (numpy, pandas, pyarrow, scipy, scikit-learn) two thirds of the compile work is the
libraries' own bundled test suites (``pandas/tests``, ``scipy/*/tests``, ...), which a UDF never
imports. Compiling is the dominant cost of a cold build, so we compile everything except those
directories. Should a UDF import a test module anyway, CPython compiles it in memory (the
environment is read-only, so nothing is written) and it works as before, only without the cache.

The compiler is the runtime's own interpreter (bytecode is specific to its minor version), run
isolated (``-I``) with an allowlisted environment: the standard library's ``compileall`` reading
its file list from stdin. We split the files into one list per core, balanced by size, and run
one compiler per list: ``compileall -j`` hands out one file at a time to a process pool, and
that traffic costs about a third of the work on a small machine. Files that do not compile (some
wheels ship Python 2 examples or templates) are left as source, as pip and uv do; only a compiler
that cannot run fails the build.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path

from hoarfrost.errors import ConfigurationError, PackageError

__all__ = ["SKIPPED_DIRECTORIES", "compile_environment"]

# A directory named ``tests`` or ``test`` below a top-level package, in a path relative to
# site-packages ("pandas/tests/frame/test_api.py"). Top-level packages are always compiled,
# whatever their name.
SKIPPED_DIRECTORIES = re.compile(r"^[^/]+/(?:[^/]+/)*tests?/")

COMPILE_TIMEOUT = 1800.0


def compile_environment(python: Path, site_packages: Path) -> None:
    """Write ``__pycache__`` files for every module of ``site_packages`` except bundled tests."""
    lists = _partition(_sources(site_packages), os.cpu_count() or 1)
    argv = [str(python), "-I", "-m", "compileall", "-q", "-i", "-"]
    env = {"PATH": os.defpath, "LANG": "C.UTF-8"}
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for files in lists:
            with tempfile.TemporaryFile() as names:
                names.write("".join(f"{name}\n" for name in files).encode())
                names.seek(0)
                process = subprocess.Popen(
                    argv,
                    cwd=site_packages,
                    env=env,
                    stdin=names,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                )
            processes.append(process)
        outputs = [p.communicate(timeout=COMPILE_TIMEOUT)[0] for p in processes]
    except subprocess.TimeoutExpired:
        raise PackageError(
            f"Compiling the environment did not finish within {COMPILE_TIMEOUT:.0f} seconds."
        ) from None
    except OSError as exc:
        raise ConfigurationError(
            f"Cannot run {python} to compile bytecode: {exc.strerror}"
        ) from None
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    # compileall exits 1 when some file failed to compile, which is not an error here; anything
    # else (a crash, a missing module) is.
    for process, output in zip(processes, outputs, strict=True):
        if process.returncode not in (0, 1):
            detail = " ".join(output.decode(errors="replace").split())[-500:]
            raise PackageError(f"Compiling the environment's bytecode failed: {detail}")


def _sources(site_packages: Path) -> list[tuple[int, str]]:
    """(size, relative path) of every ``.py`` file to compile."""
    found = []
    for directory, subdirectories, files in os.walk(site_packages):
        relative = os.path.relpath(directory, site_packages)
        prefix = "" if relative == "." else f"{relative}/"
        if SKIPPED_DIRECTORIES.match(prefix):
            subdirectories.clear()
            continue
        for name in files:
            if name.endswith(".py"):
                found.append((os.path.getsize(os.path.join(directory, name)), prefix + name))
    return found


def _partition(sources: list[tuple[int, str]], count: int) -> list[list[str]]:
    """Up to ``count`` non-empty lists of names with about equal total size (largest first,
    each into the lightest list)."""
    lists: list[list[str]] = [[] for _ in range(count)]
    weights = [0] * count
    for size, name in sorted(sources, reverse=True):
        lightest = weights.index(min(weights))
        lists[lightest].append(name)
        weights[lightest] += size + 1
    return [names for names in lists if names]
