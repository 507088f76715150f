"""Resolve a function's package specs into a :class:`Lock` with ``uv pip compile``.

uv runs as a subprocess with an explicit argv (never a shell) and an environment built from
nothing (:func:`uv_env`), so no ``UV_*``/``PIP_*`` variable, config file, keyring or netrc of the
engine's user can change what it does, and it never downloads an interpreter.

The index URL is the gateway's loopback URL; the per-build token in its path is a credential, so it
is never put in argv (``/proc/<pid>/cmdline`` is readable by every local user) nor in the
environment: it travels in the requirements file (``--index-url`` line, a form uv reads from
requirements files), inside a private 0700 directory. Messages from uv are redacted before they
reach an error.

Output is ``--format pylock.toml`` (PEP 751): it names each wheel's URL and sha256, which the
requirements.txt format does not (it lists the hashes of every file of a version, unnamed).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from packaging import tags as ptags
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename

from hoarfrost.errors import ConfigurationError, PackageError
from hoarfrost.packages.lock import Lock, LockedPackage
from hoarfrost.packages.runtimes import SUPPORTED_VERSIONS, Runtime

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the engine's own interpreter is 3.11+ in practice
    import tomli as tomllib

__all__ = [
    "CONFLICT",
    "PREFIX",
    "UvInvocation",
    "check_index_url",
    "compile_invocation",
    "host_platform",
    "platform_for",
    "private_workdir",
    "redact",
    "resolve",
    "run_uv",
    "tag_rank",
    "uv_binary",
    "uv_env",
]

# SPEC.md section 6: the reference texts users search for.
PREFIX = (
    "Cannot create a Python function with the specified packages. "
    "Please check your packages specification and try again."
)
CONFLICT = "One or more package conflicts were detected."

COMPILE_TIMEOUT = 900.0


@dataclass(frozen=True)
class UvInvocation:
    """Everything a uv run gets: argv, environment and the files written before it starts.

    ``files`` maps a file name inside the private work directory to its text; the index URL is
    only ever there.
    """

    argv: tuple[str, ...]
    env: Mapping[str, str]
    files: Mapping[str, str]


def uv_binary() -> str:
    from uv import find_uv_bin  # the PyPI "uv" package ships the binary beside our interpreter

    return os.fsdecode(find_uv_bin())


def uv_env(cache_dir: Path) -> dict[str, str]:
    """The whole environment of a uv subprocess: an allowlist, nothing inherited."""
    return {
        "PATH": os.defpath,
        "HOME": str(cache_dir / "uv-home"),  # no ~/.netrc, ~/.config/uv, keyring of the user
        "LANG": "C.UTF-8",
        "NO_COLOR": "1",
        "UV_NO_CONFIG": "1",
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_NO_PROGRESS": "1",
        # The gateway on loopback is the only peer and retries upstream itself; uv's own retries
        # would only delay a clear error (12 s for a refused connection).
        "UV_HTTP_RETRIES": "0",
        "UV_CACHE_DIR": str(cache_dir / "uv-cache"),
    }


def check_index_url(index_url: str) -> None:
    """Refuse an index URL that carries userinfo: credentials belong to the gateway only."""
    parts = urlsplit(index_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError("The package index URL must be an http(s) URL.")
    if parts.username is not None or parts.password is not None:
        raise ConfigurationError(
            "The package index URL must not carry credentials; uv talks to the gateway only."
        )


def redact(text: str, index_url: str | None) -> str:
    """``text`` without the index URL's token-like path segments or any URL userinfo."""
    text = re.sub(r"(?<=://)[^/@\s]+@", "", text)
    if index_url:
        for segment in urlsplit(index_url).path.split("/"):
            if len(segment) >= 8 and segment not in ("simple", "packages"):
                text = text.replace(segment, "<redacted>")
    return text


def compile_invocation(
    workdir: Path,
    requirements: Sequence[str],
    runtime: Runtime,
    index_url: str,
    *,
    platform: str,
    cache_dir: Path,
    python_version: str | None = None,
) -> UvInvocation:
    """The exact uv call :func:`resolve` makes (a test shows it holds no credential)."""
    check_index_url(index_url)
    argv = (
        uv_binary(),
        "pip",
        "compile",
        str(workdir / "requirements.in"),
        "--output-file",
        str(workdir / "pylock.toml"),
        "--format",
        "pylock.toml",
        "--generate-hashes",
        "--only-binary",
        ":all:",
        "--python",
        str(runtime.executable),
        "--python-version",
        python_version or runtime.full_version,
        "--python-platform",
        platform,
        "--refresh",  # resolution happens once, at CREATE: it must see the index as it is now
        "--no-header",
        "--quiet",
        "--color",
        "never",
    )
    text = "".join(f"{line}\n" for line in [f"--index-url {index_url}", *requirements])
    return UvInvocation(argv=argv, env=uv_env(cache_dir), files={"requirements.in": text})


def resolve(
    specs: Sequence[str],
    runtime: Runtime,
    index_url: str,
    *,
    platform: str | None = None,
    cache_dir: Path,
) -> Lock:
    """Freeze ``specs`` for ``runtime`` and ``platform`` (host by default) against the index."""
    requirements = _parse_specs(specs)
    target = platform or host_platform()
    if not requirements:
        return Lock((), runtime.version, runtime.full_version, target, tuple(specs))
    done, output = _compile(requirements, runtime, index_url, target, cache_dir, None)
    if done.returncode != 0:
        raise _failure(done.stderr, specs, runtime, index_url, target, cache_dir)
    packages = tuple(_locked(entry, runtime, target) for entry in output.get("packages", []))
    return Lock(packages, runtime.version, runtime.full_version, target, tuple(specs))


def _parse_specs(specs: Sequence[str]) -> list[str]:
    """Canonical requirement strings; only ``name[extras]<op><version>`` forms are accepted.

    Parsing first also keeps option lines (``--index-url ...``) and newlines out of the file.
    """
    parsed: list[str] = []
    for spec in specs:
        try:
            requirement = Requirement(spec)
        except InvalidRequirement:
            raise PackageError(f"{PREFIX} 'Invalid package specification: {spec}'") from None
        if requirement.url:
            raise PackageError(f"{PREFIX} 'Direct URL requirements are not supported: {spec}'")
        parsed.append(str(requirement))
    return parsed


def _compile(
    requirements: Sequence[str],
    runtime: Runtime,
    index_url: str,
    platform: str,
    cache_dir: Path,
    python_version: str | None,
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    cache_dir.mkdir(parents=True, exist_ok=True)
    with private_workdir(cache_dir) as workdir:
        call = compile_invocation(
            workdir,
            requirements,
            runtime,
            index_url,
            platform=platform,
            cache_dir=cache_dir,
            python_version=python_version,
        )
        done = run_uv(call, workdir, timeout=COMPILE_TIMEOUT)
        out = workdir / "pylock.toml"
        output = tomllib.loads(out.read_text()) if done.returncode == 0 and out.exists() else {}
    return done, output


@contextmanager
def private_workdir(cache_dir: Path) -> Iterator[Path]:
    """A 0700 scratch directory under the cache (mkdtemp creates it 0700), removed after use."""
    tmp = cache_dir / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=tmp, prefix="uv-") as name:
        yield Path(name)


def run_uv(
    call: UvInvocation, workdir: Path, *, timeout: float
) -> subprocess.CompletedProcess[str]:
    """Write ``call.files`` (0600) into ``workdir`` and run uv there."""
    Path(call.env["HOME"]).mkdir(mode=0o700, parents=True, exist_ok=True)
    for name, text in call.files.items():
        fd = os.open(workdir / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
    try:
        return subprocess.run(
            list(call.argv),
            env=dict(call.env),
            cwd=workdir,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise PackageError(f"{PREFIX} 'uv did not finish within {timeout:.0f} seconds.'") from None
    except OSError as exc:
        raise ConfigurationError(f"Cannot run uv: {exc.strerror}") from None


def _locked(entry: dict[str, Any], runtime: Runtime, platform: str) -> LockedPackage:
    wheels = [(_wheel_filename(w), w) for w in entry.get("wheels", [])]
    if not wheels:  # cannot happen with --only-binary :all:, but never install from an sdist
        raise PackageError(f"{PREFIX} 'No wheel for {entry['name']}=={entry['version']}.'")
    filename, wheel = min(wheels, key=lambda fw: tag_rank(fw[0], runtime, platform))
    return LockedPackage(
        name=str(canonicalize_name(entry["name"])),
        version=str(entry["version"]),
        filename=filename,
        sha256=str(wheel["hashes"]["sha256"]).lower(),
        url=None,  # the gateway's URL holds a per-build token: never stored
    )


def _wheel_filename(wheel: dict[str, Any]) -> str:
    name = wheel.get("name") or unquote(urlsplit(str(wheel.get("url", ""))).path.rsplit("/", 1)[-1])
    parse_wheel_filename(name)  # refuses anything that is not a wheel name
    return str(name)


# --- failures -----------------------------------------------------------------------------------

_NOT_IN_REGISTRY = re.compile(r"\b(\S+) was not found in the package registry")
_NO_VERSION = re.compile(r"there (?:is no version|are no versions) of ([^\s,]+)")
_ONLY_AVAILABLE = re.compile(r"only .+? (?:is|are) available and you require ([^\s,]+?)(?:,|\s|$)")
_REQUIRES_PYTHON = re.compile(r"(\S+?)(?:==\S+)? requires Python (\S+?)(?:,|\s|$)")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*")


def _failure(
    stderr: str,
    specs: Sequence[str],
    runtime: Runtime,
    index_url: str,
    platform: str,
    cache_dir: Path,
) -> PackageError:
    requested = {_canonical_name(s): s for s in specs}
    missing = _missing(stderr, requested)
    if missing:
        return PackageError(f"{PREFIX} 'Packages not found: {', '.join(missing)}'")
    if "No solution found" not in stderr:
        detail = redact(_first_error(stderr), index_url)
        return PackageError(f"{PREFIX} '{detail}'")
    python_limits = _REQUIRES_PYTHON.findall(stderr)
    if python_limits:
        why = "; ".join(f"{name} requires Python {spec}" for name, spec in python_limits)
        others = _working_runtimes(specs, runtime, index_url, platform, cache_dir)
        hint = (
            f" The packages resolve for runtime version(s): {', '.join(others)}."
            if others
            else " No supported runtime version satisfies them."
        )
        return PackageError(f"{PREFIX} '{CONFLICT}' Runtime {runtime.version}: {why}.{hint}")
    return PackageError(f"{PREFIX} '{CONFLICT}'")


def _missing(stderr: str, requested: Mapping[str, str]) -> list[str]:
    found: list[str] = []
    for name in _NOT_IN_REGISTRY.findall(stderr):
        found.append(requested.get(_canonical_name(name), name))
    for spec in _NO_VERSION.findall(stderr):
        found.append(requested.get(_canonical_name(spec), spec))
    for spec in _ONLY_AVAILABLE.findall(stderr):
        # "you require X": only a direct requirement can be "not found"; else it is a conflict
        if _canonical_name(spec) in requested:
            found.append(requested[_canonical_name(spec)])
    return list(dict.fromkeys(found))


def _working_runtimes(
    specs: Sequence[str], runtime: Runtime, index_url: str, platform: str, cache_dir: Path
) -> list[str]:
    """The other runtime versions for which the same specs resolve (uv only needs the target
    version, not an interpreter of it, to evaluate Requires-Python)."""
    requirements = _parse_specs(specs)
    working: list[str] = []
    for version in SUPPORTED_VERSIONS:
        if version == runtime.version:
            continue
        done, _ = _compile(requirements, runtime, index_url, platform, cache_dir, version)
        if done.returncode == 0:
            working.append(version)
    return working


def _canonical_name(spec: str) -> str:
    match = _NAME.match(spec.strip())
    return str(canonicalize_name(match.group(0))) if match else spec


def _first_error(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    interesting = [line for line in lines if line.startswith(("error:", "Caused by:", "cause:"))]
    return " ".join(interesting or lines[-3:]) or "uv failed without a message"


# --- platforms ----------------------------------------------------------------------------------

# The manylinux levels uv accepts as --python-platform (uv pip compile --help, uv 0.13).
_UV_MANYLINUX = (17, 28, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40)
_ARCH = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}


def host_platform() -> str:
    """uv's ``--python-platform`` value for this machine, e.g. ``x86_64-manylinux_2_36``."""
    machine = os.uname().machine.lower() if hasattr(os, "uname") else "x86_64"
    arch = _ARCH.get(machine, machine)
    if sys.platform == "darwin":
        return f"{arch}-apple-darwin"
    if sys.platform == "win32":
        return f"{arch}-pc-windows-msvc"
    glibc = _glibc_minor()
    if glibc is None:
        return f"{arch}-unknown-linux-musl"
    level = max((m for m in _UV_MANYLINUX if m <= glibc), default=_UV_MANYLINUX[0])
    return f"{arch}-manylinux_2_{level}"


def platform_for(architecture: str | None) -> str:
    """The target platform of ``RESOURCE_CONSTRAINT = (architecture = '...')``.

    'x86' means x86_64 wheels: the host's own platform when it is x86_64, else x86_64 at the
    manylinux level uv treats as the default Linux (2_28).
    """
    host = host_platform()
    if architecture is None:
        return host
    if architecture.strip().lower() != "x86":
        raise PackageError(
            f"Unsupported RESOURCE_CONSTRAINT architecture {architecture!r}; supported: 'x86'."
        )
    return host if host.startswith("x86_64-") else "x86_64-manylinux_2_28"


def _glibc_minor() -> int | None:
    try:
        text = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError, AttributeError):
        return None
    match = re.fullmatch(r"glibc 2\.(\d+)", text.strip())
    return int(match.group(1)) if match else None


def tag_rank(filename: str, runtime: Runtime, platform: str) -> int:
    """Preference of a wheel for the runtime on ``platform`` (lower is better), the order
    installers use, so the lock names the file uv would install."""
    order = _tag_order(runtime.version, platform)
    _name, _version, _build, tags = parse_wheel_filename(filename)
    return min((order.get(str(t), len(order)) for t in tags), default=len(order))


def _tag_order(version: str, platform: str) -> dict[str, int]:
    major, minor = (int(p) for p in version.split("."))
    plats = _platform_tags(platform)
    interpreter = f"cp{major}{minor}"
    ordered = [
        *ptags.cpython_tags((major, minor), [interpreter], plats),
        *ptags.compatible_tags((major, minor), interpreter, plats),
    ]
    return {str(t): i for i, t in reversed(list(enumerate(ordered)))}


def _platform_tags(platform: str) -> list[str]:
    arch, _, system = platform.partition("-")
    arch = _ARCH.get(arch, arch)
    manylinux = re.fullmatch(r"manylinux_2_(\d+)", system)
    if manylinux or system in ("manylinux2014", "unknown-linux-gnu"):
        top = int(manylinux.group(1)) if manylinux else (17 if system == "manylinux2014" else 28)
        legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
        tags: list[str] = []
        for level in range(top, 4, -1):
            tags.append(f"manylinux_2_{level}_{arch}")
            if level in legacy:
                tags.append(f"{legacy[level]}_{arch}")
        return [*tags, f"linux_{arch}"]
    if system == "unknown-linux-musl":
        return [f"musllinux_1_{m}_{arch}" for m in (2, 1, 0)] + [f"linux_{arch}"]
    return []  # other systems: only pure wheels are ranked; the first listed wins otherwise
