"""The frozen result of resolving a function's packages (DESIGN.md decision 4).

A :class:`Lock` is stored with the function at CREATE and never re-resolved: every later
execution uses exactly these files. Its JSON form is canonical (sorted keys and packages, no
whitespace) so equal locks have equal bytes and equal keys.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import Version

from hoarfrost.errors import InternalError

__all__ = ["LOCK_FORMAT", "Lock", "LockedPackage"]

LOCK_FORMAT = 1


@dataclass(frozen=True)
class LockedPackage:
    """One installed distribution: the exact wheel file and its sha256."""

    name: str  # PEP 503 normalised
    version: str
    filename: str  # the wheel's file name, e.g. "numpy-2.1.0-cp311-cp311-manylinux_2_17_x86_64.whl"
    sha256: str  # lowercase hex
    url: str | None = None  # informational only; never part of the key (it changes per build)

    def __post_init__(self) -> None:
        # Checked here so a hand-edited or corrupt stored lock fails loudly, not at install time.
        try:
            wheel_name, wheel_version, _build, _tags = parse_wheel_filename(self.filename)
            same = wheel_name == canonicalize_name(self.name) and wheel_version == Version(
                self.version
            )
        except ValueError as exc:  # InvalidWheelFilename, InvalidVersion
            raise InternalError(f"invalid locked file {self.filename!r}: {exc}") from None
        if not same:
            raise InternalError(f"{self.filename} is not {self.name}=={self.version}")
        if len(self.sha256) != 64 or any(c not in "0123456789abcdef" for c in self.sha256):
            raise InternalError(f"invalid sha256 for {self.filename}: {self.sha256!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "filename": self.filename,
            "sha256": self.sha256,
            "url": self.url,
        }


@dataclass(frozen=True)
class Lock:
    """Every package of an environment plus what it was resolved for."""

    packages: tuple[LockedPackage, ...]
    runtime: str  # "3.11"
    python_full_version: str  # "3.11.7"
    platform: str  # uv's --python-platform value, e.g. "x86_64-manylinux_2_36"
    requested: tuple[str, ...] = ()  # the specs as the user wrote them
    _key: str = field(default="", init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Normalise order so that construction order never changes the JSON or the key.
        object.__setattr__(self, "packages", tuple(sorted(self.packages, key=lambda p: p.name)))
        names = [p.name for p in self.packages]
        if len(set(names)) != len(names):
            raise InternalError(f"a lock lists a package twice: {names}")
        object.__setattr__(self, "_key", _sha256_json(self._environment_identity()))

    @property
    def key(self) -> str:
        """The environment key: sha256 of the canonical JSON of what determines its files.

        That is the packages (name, version, file, sha256), the runtime, its full version and the
        platform. The requested specs and the URLs are left out on purpose: ``app`` and
        ``app>=1`` that freeze the same files share one environment, and a URL names the build's
        gateway port and token, which change every time.
        """
        return self._key

    def installed_packages(self) -> list[str]:
        """``name==version`` of every package, sorted: DESCRIBE FUNCTION's installed_packages."""
        return [f"{p.name}=={p.version}" for p in self.packages]

    def files(self) -> list[tuple[str, str]]:
        """``(sha256, filename)`` pairs, the shape the retention store links from."""
        return [(p.sha256, p.filename) for p in self.packages]

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": LOCK_FORMAT,
            "packages": [p.to_dict() for p in self.packages],
            "runtime": self.runtime,
            "python_full_version": self.python_full_version,
            "platform": self.platform,
            "requested": list(self.requested),
        }

    def to_json(self) -> str:
        return _canonical_json(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> Lock:
        try:
            data = json.loads(text)
            if data.get("format") != LOCK_FORMAT:
                raise ValueError(f"unknown lock format {data.get('format')!r}")
            return cls(
                packages=tuple(_package(p) for p in data["packages"]),
                runtime=data["runtime"],
                python_full_version=data["python_full_version"],
                platform=data["platform"],
                requested=tuple(data.get("requested", ())),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InternalError(f"stored package lock is unreadable: {exc}") from None

    def _environment_identity(self) -> dict[str, Any]:
        packages: Iterable[dict[str, Any]] = (
            {k: v for k, v in p.to_dict().items() if k != "url"} for p in self.packages
        )
        return {
            "format": LOCK_FORMAT,
            "packages": list(packages),
            "runtime": self.runtime,
            "python_full_version": self.python_full_version,
            "platform": self.platform,
        }


def _package(data: dict[str, Any]) -> LockedPackage:
    return LockedPackage(
        name=data["name"],
        version=data["version"],
        filename=data["filename"],
        sha256=data["sha256"],
        url=data.get("url"),
    )


def _canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _sha256_json(data: Any) -> str:
    return hashlib.sha256(_canonical_json(data).encode()).hexdigest()
