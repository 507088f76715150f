"""Bytecode compilation of environments: library code compiled, bundled test suites left."""

from __future__ import annotations

from pathlib import Path

import pytest

from hoarfrost.config import Settings
from hoarfrost.errors import ConfigurationError
from hoarfrost.packages.bytecode import compile_environment
from hoarfrost.packages.runtimes import require_runtime


def write(root: Path, relative: str, text: str = "X = 1\n") -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def compiled(root: Path, relative: str, tag: str) -> bool:
    path = root / relative
    return any((path.parent / "__pycache__").glob(f"{path.stem}.{tag}*.pyc"))


def test_library_modules_compiled_and_bundled_tests_left_as_source(tmp_path: Path) -> None:
    runtime = require_runtime(Settings(env={}), "3.12")
    # The site-packages path itself contains a "tests" directory: only paths below it count.
    site = tmp_path / "tests" / "site-packages"
    for relative in (
        "lib/__init__.py",
        "lib/core/frame.py",
        "lib/tests/test_frame.py",
        "lib/core/test/test_inner.py",
        "lib/testing/asserts.py",
        "tests/__init__.py",  # a top-level package that happens to be called "tests"
        "single.py",
    ):
        write(site, relative)
    write(site, "lib/templates/py2.py", "print 'python 2'\n")  # does not compile: left alone
    compile_environment(runtime.executable, site)
    tag = "cpython-312"
    for relative in (
        "lib/__init__.py",
        "lib/core/frame.py",
        "lib/testing/asserts.py",
        "tests/__init__.py",
        "single.py",
    ):
        assert compiled(site, relative, tag), relative
    for relative in ("lib/tests/test_frame.py", "lib/core/test/test_inner.py"):
        assert not compiled(site, relative, tag), relative
    assert not compiled(site, "lib/templates/py2.py", tag)


def test_a_missing_interpreter_is_a_clear_error(tmp_path: Path) -> None:
    write(tmp_path, "lib/__init__.py")
    with pytest.raises(ConfigurationError, match="to compile bytecode"):
        compile_environment(tmp_path / "no-python", tmp_path)
