"""Build small, real wheels for tests (a zip with a dist-info; no build backend needed)."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from packaging.utils import canonicalize_name


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def build_wheel(
    dest: Path,
    name: str,
    version: str,
    *,
    requires: Sequence[str] = (),
    files: Mapping[str, str] | None = None,
    tag: str = "py3-none-any",
    requires_python: str | None = None,
) -> Path:
    """Write ``{name}-{version}-{tag}.whl`` into ``dest`` and return its path.

    ``files`` maps archive paths to text; by default the wheel holds a module named after the
    distribution whose ``say_hello()`` returns ``"Hello from {name} {version}"`` and whose
    ``__version__`` is the version.
    """
    dest.mkdir(parents=True, exist_ok=True)
    module = str(canonicalize_name(name)).replace("-", "_")
    dist = f"{module}-{version}"
    if files is None:
        files = {
            f"{module}/__init__.py": (
                f"__version__ = {version!r}\n\n"
                f"def say_hello():\n    return 'Hello from {name} {version}'\n"
            )
        }
    meta = [
        "Metadata-Version: 2.1",
        f"Name: {name}",
        f"Version: {version}",
        *(f"Requires-Dist: {r}" for r in requires),
    ]
    if requires_python:
        meta.append(f"Requires-Python: {requires_python}")
    contents: dict[str, bytes] = {k: v.encode() for k, v in files.items()}
    contents[f"{dist}.dist-info/METADATA"] = ("\n".join(meta) + "\n").encode()
    contents[f"{dist}.dist-info/WHEEL"] = (
        f"Wheel-Version: 1.0\nGenerator: hoarfrost-tests\nRoot-Is-Purelib: true\nTag: {tag}\n"
    ).encode()
    record_name = f"{dist}.dist-info/RECORD"
    record = "".join(f"{p},{_record_hash(d)},{len(d)}\n" for p, d in contents.items())
    contents[record_name] = (record + f"{record_name},,\n").encode()
    path = dest / f"{dist}-{tag}.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for arcname, data in contents.items():
            info = zipfile.ZipInfo(arcname, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return path
