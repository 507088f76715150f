"""Environment benchmark (issue 3): a realistic stack from a local pypiserver, in one run.

    .venv/bin/python bench/envs.py [--runtime 3.11] [--wheels DIR] [--repeat 3]
                                   [--repeat-existing 1000] [--settle 30]

numpy, pandas, pyarrow, scikit-learn and their dependencies are downloaded once from PyPI (by pip,
into ``bench/.cache/wheels-<runtime>``) and served by pypiserver on loopback. Every contender then
starts from a cold cache of its own:

* bare uv      ``uv pip compile --generate-hashes`` + ``uv pip install --target`` (and the same
               with ``--compile-bytecode``, which our environments always are: like for like);
* hoarfrost    ``resolve()`` + ``EnvStore.ensure()`` (uv underneath, hashes required, linked out
               of uv's cache, bytecode compiled except the libraries' bundled test suites (see
               hoarfrost.packages.bytecode), made read-only, renamed into place);
* existing     ``EnvStore.ensure()`` when the environment already exists (the CREATE fast path);
* pip          ``pip install --target --require-hashes --no-deps`` of the same lock (pip compiles
               bytecode by default), compared with hoarfrost's build step; and, for information,
               ``pip --no-compile`` against bare ``uv pip install`` without bytecode (bytecode
               compilation is the same CPython work for both installers and dominates on a
               small machine).

Each contender runs ``--repeat`` times, round robin, each time with a cold cache of its own and
after ``--settle`` seconds of quiet (see :func:`settle`); the medians are compared, and the pip
ratio is also printed round by round. Run it on an otherwise idle machine: on this kind of VM
(ext4, 2 cores) creating files soon after heavy writes or mass deletions (a test run, a previous
benchmark's cleanup) is markedly slower.

Targets: hoarfrost cold <= 1.3x bare uv; existing < 20 ms; hoarfrost build >= 5x faster than pip.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from tests.support.pypiserver import PypiServer  # noqa: E402

from hoarfrost.config import Settings  # noqa: E402
from hoarfrost.packages.envstore import EnvStore  # noqa: E402
from hoarfrost.packages.installer import UvInstaller  # noqa: E402
from hoarfrost.packages.lock import Lock  # noqa: E402
from hoarfrost.packages.resolver import resolve, uv_binary  # noqa: E402
from hoarfrost.packages.runtimes import Runtime, require_runtime  # noqa: E402

STACK = ["numpy", "pandas", "pyarrow", "scikit-learn"]


SETTLE_SECONDS = 30.0


def settle(seconds: float) -> None:
    """Let the machine quiesce before a timed run, so that no contender pays for the previous
    one's writes (each writes several hundred MB in thousands of files): flush dirty pages, then
    wait. Measured on a 2-core VM: an install started right after another runs up to 40% slower
    (both uv's extraction and bytecode compilation), one started 30 s later does not."""
    os.sync()
    time.sleep(seconds)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run(argv: list[str], env: dict[str, str] | None = None) -> None:
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def pip_python(runtime: Runtime) -> str:
    """pip must run under the runtime's minor version (downloads and --target installs)."""
    same = f"{sys.version_info[0]}.{sys.version_info[1]}" == runtime.version
    return sys.executable if same else str(runtime.executable)


def download(wheels: Path, runtime: Runtime) -> None:
    done = wheels / ".complete"
    if done.exists():
        return
    wheels.mkdir(parents=True, exist_ok=True)
    print(f"downloading {', '.join(STACK)} and dependencies into {wheels} (once) ...", flush=True)
    argv = [pip_python(runtime), "-m", "pip", "download", "--only-binary", ":all:"]
    run([*argv, "--dest", str(wheels), *STACK])
    done.touch()


def uv_env(cache: Path) -> dict[str, str]:
    return {
        "PATH": os.defpath,
        "HOME": str(cache),
        "UV_CACHE_DIR": str(cache / "uv"),
        "UV_NO_CONFIG": "1",
    }


def bare_uv(
    work: Path, runtime: Runtime, index_url: str, *, compile_bytecode: bool
) -> tuple[float, float]:
    """Seconds of ``uv pip compile`` and of ``uv pip install``, cold cache."""
    cache = Path(tempfile.mkdtemp(dir=work))
    (cache / "req.in").write_text("\n".join(STACK) + "\n")
    uv, python = uv_binary(), str(runtime.executable)
    common = ["--python", python, "--index-url", index_url, "--only-binary", ":all:"]
    compile_ = [uv, "pip", "compile", str(cache / "req.in"), "-o", str(cache / "req.txt")]
    install = [
        uv,
        "pip",
        "install",
        "--target",
        str(cache / "target"),
        "-r",
        str(cache / "req.txt"),
    ]
    extra = ["--compile-bytecode"] if compile_bytecode else []
    start = time.perf_counter()
    run([*compile_, *common, "--generate-hashes"], uv_env(cache))
    compiled = time.perf_counter()
    run([*install, *common, *extra], uv_env(cache))
    return compiled - start, time.perf_counter() - compiled


def ours(work: Path, runtime: Runtime, index_url: str) -> tuple[float, float, EnvStore, Lock]:
    cache = Path(tempfile.mkdtemp(dir=work))
    store = EnvStore(cache, UvInstaller(cache, {runtime.version: runtime.executable}))
    start = time.perf_counter()
    lock = resolve(STACK, runtime, index_url, cache_dir=cache)
    resolved = time.perf_counter()
    store.ensure(lock, index_url=index_url)
    return resolved - start, time.perf_counter() - resolved, store, lock


def existing(store: EnvStore, lock: Lock, repeat: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        store.ensure(lock)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), max(samples)


def pip_install(
    work: Path, runtime: Runtime, index_url: str, lock: Lock, *, compile_bytecode: bool = True
) -> float:
    cache = Path(tempfile.mkdtemp(dir=work))
    lines = [f"{p.name}=={p.version} --hash=sha256:{p.sha256}" for p in lock.packages]
    (cache / "req.txt").write_text("\n".join(lines) + "\n")
    argv = [pip_python(runtime), "-m", "pip", "install", "--target", str(cache / "target")]
    argv += ["--no-deps", "--require-hashes", "--only-binary", ":all:", "--index-url", index_url]
    argv += ["--cache-dir", str(cache / "pip"), "--disable-pip-version-check"]
    argv += [] if compile_bytecode else ["--no-compile"]
    return timed(lambda: run([*argv, "-r", str(cache / "req.txt")]))


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def pyc_count(root: Path) -> int:
    return sum(1 for _ in root.rglob("*.pyc"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runtime", default="3.11")
    parser.add_argument("--wheels", type=Path)
    parser.add_argument("--repeat", type=int, default=3, help="cold runs per contender (median)")
    parser.add_argument("--repeat-existing", type=int, default=1000)
    parser.add_argument(
        "--settle", type=float, default=SETTLE_SECONDS, help="seconds of quiet before each run"
    )
    args = parser.parse_args()
    runtime = require_runtime(Settings(), args.runtime)
    wheels = args.wheels or ROOT / "bench" / ".cache" / f"wheels-{runtime.version}"
    download(wheels, runtime)
    n = args.repeat
    with tempfile.TemporaryDirectory(prefix="hoarfrost-bench-") as tmp:
        work = Path(tmp)
        with PypiServer(wheels, work / "pypiserver") as server:
            url = server.index_url
            # Round robin, so that every contender sees the same machine weather (on a small VM
            # the file system's state after earlier deletions moves timings by tens of percent).
            plain, compiled, runs, pip, pip_plain_runs = [], [], [], [], []
            for _ in range(n):
                settle(args.settle)
                plain.append(bare_uv(work, runtime, url, compile_bytecode=False))
                settle(args.settle)
                compiled.append(sum(bare_uv(work, runtime, url, compile_bytecode=True)))
                settle(args.settle)
                runs.append(ours(work, runtime, url))
                lock = runs[-1][3]
                settle(args.settle)
                pip.append(pip_install(work, runtime, url, lock))
                settle(args.settle)
                pip_plain_runs.append(pip_install(work, runtime, url, lock, compile_bytecode=False))
            # bytecode written by bare uv and by pip (n targets each), not by hoarfrost
            uv_pycs = pyc_count(work) - sum(pyc_count(r[2].root) for r in runs)
            plain_install = statistics.median(install for _, install in plain)
            bare_plain = statistics.median(sum(pair) for pair in plain)
            bare_compiled = statistics.median(compiled)
            resolve_s = statistics.median(run[0] for run in runs)
            build_s = statistics.median(run[1] for run in runs)
            ours_s = statistics.median(run[0] + run[1] for run in runs)
            _, _, store, lock = runs[-1]
            our_pycs = pyc_count(store.path(lock))
            median_s, max_s = existing(store, lock, args.repeat_existing)
            pip_s = statistics.median(pip)
            pip_plain = statistics.median(pip_plain_runs)
        for _, _, built, _ in runs:
            built.prune(keep=set())  # read-only trees: the store knows how to remove them
    like, pip_ratio = ours_s / bare_compiled, pip_s / build_s
    rows = [
        ("bare uv compile+install", f"{bare_plain:8.2f} s"),
        ("bare uv compile+install (bytecode)", f"{bare_compiled:8.2f} s"),
        ("hoarfrost resolve", f"{resolve_s:8.2f} s"),
        ("hoarfrost build", f"{build_s:8.2f} s"),
        ("hoarfrost cold total", f"{ours_s:8.2f} s"),
        (
            f"existing env, median/max of {args.repeat_existing}",
            f"{median_s * 1e3:.3f}/{max_s * 1e3:.3f} ms",
        ),
        ("pip install of the same lock", f"{pip_s:8.2f} s"),
        ("pip install --no-compile of the same lock", f"{pip_plain:8.2f} s"),
        (
            "bytecode files: uv/pip vs hoarfrost",
            f"{uv_pycs // (2 * n)} vs {our_pycs} (bundled tests left)",
        ),
        ("cold vs bare uv --compile-bytecode", f"{like:.2f}x (<= 1.3x) {verdict(like <= 1.3)}"),
        ("cold vs bare uv defaults", f"{ours_s / bare_plain:.2f}x (informational)"),
        ("existing env", f"{max_s * 1e3:.3f} ms max (< 20 ms) {verdict(max_s < 0.020)}"),
        ("pip / hoarfrost build", f"{pip_ratio:.1f}x (>= 5x) {verdict(pip_ratio >= 5)}"),
        (
            "  the same, round by round",
            "  ".join(f"{p / r[1]:.1f}x" for p, r in zip(pip, runs, strict=True)),
        ),
        ("pip --no-compile / uv install, no bytecode", f"{pip_plain / plain_install:.1f}x (info)"),
    ]
    print(f"\n{', '.join(STACK)}: {len(lock.packages)} wheels, CPython {runtime.full_version}")
    print(f"  medians of {n} cold runs per contender, each with a cache of its own")
    for label, value in rows:
        print(f"  {label:<44} {value}")


if __name__ == "__main__":
    main()
