"""The real snowflake-snowpark-python and its dependencies for CPython 3.11 wheels, downloaded
from PyPI once (tests, demo): what a repository must host for procedures' Snowpark sessions."""

from __future__ import annotations

from pathlib import Path

from tests.support.downloads import download_wheels

__all__ = ["snowpark_wheels"]

PLATFORMS = ["manylinux_2_28_x86_64", "manylinux2014_x86_64", "manylinux_2_17_x86_64", "any"]


def snowpark_wheels(dest: Path) -> Path:
    platforms = [a for p in PLATFORMS for a in ("--platform", p)]
    extra = ["--python-version", "3.11", "--implementation", "cp", "--abi", "cp311", *platforms]
    return download_wheels(dest, ["snowflake-snowpark-python"], extra_args=extra)
