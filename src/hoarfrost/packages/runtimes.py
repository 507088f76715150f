"""Discovery of the CPython interpreters that run Python UDFs (RUNTIME_VERSION 3.10 to 3.13).

Where an interpreter may come from, highest priority first:

1. the setting ``python_3_X`` (``HOARFROST_PYTHON_3_X``): when set it is the only candidate for
   that version, so a bad path is reported rather than silently replaced;
2. ``python3.X`` on ``PATH``;
3. pyenv's versions directory (``$PYENV_ROOT/versions/*/bin/python3.X``, newest patch first);
4. uv-managed interpreters (``$UV_PYTHON_INSTALL_DIR`` or ``$XDG_DATA_HOME/uv/python``).

pyenv shims are never used: a shim is a shell script that picks an interpreter from the
*caller's* pyenv configuration at run time (``pyenv global``), so it may run another version or
fail. Every candidate is run once, in isolated mode, to confirm it is CPython of the right
version and to learn its full version and real executable; results are cached per process.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from hoarfrost.config import Settings
from hoarfrost.errors import ConfigurationError, InvalidValue

__all__ = [
    "SUPPORTED_VERSIONS",
    "Runtime",
    "clear_cache",
    "discover_runtimes",
    "parse_runtime_version",
    "require_runtime",
]

SUPPORTED_VERSIONS: tuple[str, ...] = ("3.10", "3.11", "3.12", "3.13")

# Runs inside the candidate interpreter: standard library only, valid on every 3.x.
_PROBE = (
    "import json, platform, sys; print(json.dumps([platform.python_implementation(), "
    "platform.python_version(), '%d.%d' % sys.version_info[:2]]))"
)
_PROBE_TIMEOUT = 20.0


@dataclass(frozen=True)
class Runtime:
    """A verified CPython interpreter for one ``RUNTIME_VERSION``."""

    version: str  # "3.11"
    executable: Path  # real interpreter, symlinks resolved
    full_version: str  # "3.11.7"
    source: str = "path"  # setting | path | pyenv | uv


def parse_runtime_version(value: object) -> str:
    """The canonical ``"3.X"`` of a RUNTIME_VERSION value, or an :class:`InvalidValue`.

    SQL hands over text (``'3.10'`` or the bare number ``3.10``, kept as written). A float can
    only say ``3.1`` for 3.10 (the trailing zero is lost), so that one spelling is accepted from a
    float, never from text, where ``'3.1'`` is more likely a typo.
    """
    if isinstance(value, float):
        text = "3.10" if value == 3.1 else repr(value)
    elif isinstance(value, str):
        text = value.strip().strip("'\"").strip()
    else:
        text = str(value)
    if text in SUPPORTED_VERSIONS:
        return text
    raise InvalidValue(
        f"Unsupported RUNTIME_VERSION {str(value)!r}. "
        f"Supported runtime versions: {', '.join(SUPPORTED_VERSIONS)}."
    )


@dataclass(frozen=True)
class _SearchPlaces:
    """Everything discovery depends on: the cache key of one discovery."""

    settings_paths: tuple[tuple[str, str | None], ...]
    path_dirs: tuple[str, ...]
    pyenv_root: str
    uv_dir: str


_cache: dict[_SearchPlaces, dict[str, Runtime]] = {}
_cache_lock = threading.Lock()


def clear_cache() -> None:
    """Forget discovered runtimes (after installing an interpreter, for example)."""
    with _cache_lock:
        _cache.clear()


def discover_runtimes(
    settings: Settings, environ: Mapping[str, str] | None = None
) -> dict[str, Runtime]:
    """Verified runtimes by version (``"3.10"`` ...), discovered once per process and places."""
    places = _search_places(settings, os.environ if environ is None else environ)
    with _cache_lock:
        found = _cache.get(places)
        if found is None:
            found = {}
            for version in SUPPORTED_VERSIONS:
                runtime = _first_valid(version, _candidates(version, places))
                if runtime is not None:
                    found[version] = runtime
            _cache[places] = found
    return dict(found)


def require_runtime(
    settings: Settings, version: object, environ: Mapping[str, str] | None = None
) -> Runtime:
    """The runtime for ``version`` or a :class:`ConfigurationError` listing those available."""
    wanted = parse_runtime_version(version)
    found = discover_runtimes(settings, environ)
    if wanted in found:
        return found[wanted]
    available = ", ".join(f"{v} ({r.executable})" for v, r in sorted(found.items())) or "none"
    configured = settings.get(_setting_name(wanted))
    why = (
        f" The setting HOARFROST_{_setting_name(wanted).upper()} names {configured}, "
        f"which is not a CPython {wanted} interpreter."
        if configured
        else f" Install CPython {wanted} or set HOARFROST_{_setting_name(wanted).upper()}."
    )
    raise ConfigurationError(
        f"Python runtime {wanted} is not available on this machine.{why} "
        f"Available runtimes: {available}."
    )


def _setting_name(version: str) -> str:
    return "python_" + version.replace(".", "_")


def _search_places(settings: Settings, environ: Mapping[str, str]) -> _SearchPlaces:
    home = Path(environ.get("HOME") or Path.home())
    data_home = Path(environ.get("XDG_DATA_HOME") or home / ".local" / "share")
    configured = tuple(
        (v, str(p) if (p := settings.get(_setting_name(v))) else None) for v in SUPPORTED_VERSIONS
    )
    return _SearchPlaces(
        settings_paths=configured,
        path_dirs=tuple(d for d in environ.get("PATH", "").split(os.pathsep) if d),
        pyenv_root=environ.get("PYENV_ROOT") or str(home / ".pyenv"),
        uv_dir=environ.get("UV_PYTHON_INSTALL_DIR") or str(data_home / "uv" / "python"),
    )


def _candidates(version: str, places: _SearchPlaces) -> Iterator[tuple[Path, str]]:
    configured = dict(places.settings_paths)[version]
    if configured:
        yield Path(configured), "setting"
        return  # the setting wins: no silent fallback to another interpreter
    name = f"python{version}"
    for directory in places.path_dirs:
        yield Path(directory) / name, "path"
    for path in _newest_first(Path(places.pyenv_root, "versions").glob(f"*/bin/{name}")):
        yield path, "pyenv"
    uv_glob = f"cpython-{version}.*/bin/{name}"
    for path in _newest_first(Path(places.uv_dir).glob(uv_glob)):
        yield path, "uv"


def _newest_first(paths: Iterable[Path]) -> list[Path]:
    def patch_key(path: Path) -> tuple[int, ...]:
        # versions/3.11.7/bin/python3.11 or cpython-3.11.7-linux-x86_64-gnu/bin/python3.11
        match = re.search(r"(\d+)\.(\d+)\.(\d+)", path.parent.parent.name)
        return tuple(int(g) for g in match.groups()) if match else (0,)

    return sorted(paths, key=patch_key, reverse=True)


def _first_valid(version: str, candidates: Iterable[tuple[Path, str]]) -> Runtime | None:
    seen: set[Path] = set()
    for path, source in candidates:
        if not _is_executable_file(path) or _is_shim(path):
            continue
        real = path.resolve()
        if real in seen:
            continue
        seen.add(real)
        runtime = _probe(real, version, source)
        if runtime is not None:
            return runtime
    return None


def _is_executable_file(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _is_shim(path: Path) -> bool:
    """pyenv (and asdf) shims live in a ``shims`` directory and are scripts, not binaries."""
    if path.parent.name == "shims":
        return True
    try:
        with path.open("rb") as f:
            return f.read(2) == b"#!"
    except OSError:
        return True


def _probe(executable: Path, version: str, source: str) -> Runtime | None:
    try:
        done = subprocess.run(
            [str(executable), "-I", "-S", "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=_PROBE_TIMEOUT,
            env={"PATH": os.defpath},
            check=False,
        )
        impl, full_version, minor = json.loads(done.stdout)
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    if impl != "CPython" or minor != version:
        return None
    return Runtime(version=version, executable=executable, full_version=full_version, source=source)
