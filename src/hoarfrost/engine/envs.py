"""Which environments an account's functions and procedures use (for `hoarfrost envs`)."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from hoarfrost.packages.lock import Lock

if TYPE_CHECKING:
    from hoarfrost.engine.engine import Engine

__all__ = ["referenced_environments"]


def referenced_environments(engine: Engine) -> dict[str, list[str]]:
    """Environment key -> qualified names of the functions and procedures frozen on it."""
    used: dict[str, list[str]] = defaultdict(list)
    for kind in ("FUNCTION", "PROCEDURE"):
        for obj in engine.catalog.list(kind):
            text = obj.props.get("lock")
            if text:
                used[Lock.from_json(text).key].append(f"{obj.qualified}{obj.signature}")
    return dict(used)
