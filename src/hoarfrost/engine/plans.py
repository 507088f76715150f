"""Statements already seen, kept per engine: a statement sent again pays no tokenizing, parsing
or translation (issue 15).

Three tables, each an LRU bounded in entries and in the characters of text they hold (a
multi-megabyte statement's tokens are not kept at all):

- script text -> its statements (tokens and all): a pure function of the text;
- statement text -> its parsed node: pure as well;
- (statement text, current database, current schema, generation) -> its DuckDB translation,
  kept only for statements the engine did not rewrite (no user function call, no engine-answered
  call, no catalog-backed view). What such a translation means depends only on which user
  functions a name could resolve to, so every statement that may change that — any statement
  other than a query, DML, SHOW, DESCRIBE, CALL, a transaction's BEGIN/COMMIT/ROLLBACK or
  SET/UNSET of a variable (substituted before the key is taken), and every DDL — moves the
  generation on and
  the old translations become unreachable. USE and ALTER SESSION are in that set as well.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Generic, TypeVar

from hoarfrost.sql.ast import Ordinary, Parsed
from hoarfrost.sql.statements import parse
from hoarfrost.sql.tokens import Statement, split
from hoarfrost.sql.translate import Translation

if TYPE_CHECKING:
    from hoarfrost.engine.engine import Engine

__all__ = ["PlanCache", "plan_cache"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class _Lru(Generic[K, V]):
    """At most ``size`` entries, weighing at most ``budget`` together (an entry heavier than
    that is not kept): a long statement's tokens take about 85 bytes per character of it."""

    def __init__(self, size: int, budget: int, weigh: Callable[[K, V], int]):
        self.size = size
        self.budget = budget
        self._weigh = weigh
        self._items: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._weight = 0
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            self._items.move_to_end(key)
            return found[0]

    def put(self, key: K, value: V) -> None:
        weight = self._weigh(key, value)
        if self.size <= 0 or weight > self.budget:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._weight -= old[1]
            self._items[key] = (value, weight)
            self._weight += weight
            while len(self._items) > self.size or self._weight > self.budget:
                self._weight -= self._items.popitem(last=False)[1][1]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._weight = 0

    def cached(self, key: K, make: Callable[[], V]) -> V:
        found = self.get(key)
        if found is None:
            found = make()
            self.put(key, found)
        return found


# Characters of statement text whose tokens (scripts, nodes) or translations are kept.
TOKENS_BUDGET = 1 << 20
TRANSLATIONS_BUDGET = 1 << 25


TranslationKey = tuple[str, str | None, str | None, int]


class PlanCache:
    def __init__(self, size: int):
        self.generation = 0
        self._scripts: _Lru[str, list[Statement]] = _Lru(size, TOKENS_BUDGET, _text_weight)
        self._nodes: _Lru[str, Parsed] = _Lru(size, TOKENS_BUDGET, _text_weight)
        self._translations: _Lru[TranslationKey, Translation] = _Lru(
            size, TRANSLATIONS_BUDGET, _translation_weight
        )
        # DuckDB text -> whether its last result was small (commands/ordinary.py reads such a
        # result through the cursor: cheaper than a stream for a few rows).
        self._small: _Lru[str, bool] = _Lru(size, TOKENS_BUDGET, _text_weight)
        # Counted for bench/sql.py, which shows that a repeated statement is not translated.
        self.hits = 0
        self.misses = 0

    def statements(self, sql: str) -> list[Statement]:
        return self._scripts.cached(sql, lambda: split(sql))

    def node(self, statement: Statement) -> Parsed:
        found = self._nodes.get(statement.text)
        if found is None:
            found = parse(statement)
            # Only ordinary statements: handlers of our own statements may keep their nodes.
            if isinstance(found, Ordinary):
                self._nodes.put(statement.text, found)
        return found

    def key(self, text: str, database: str | None, schema: str | None) -> TranslationKey:
        return (text, database, schema, self.generation)

    def translation(self, key: TranslationKey) -> Translation | None:
        found = self._translations.get(key)
        if found is None:
            self.misses += 1
        else:
            self.hits += 1
        return found

    def keep(self, key: TranslationKey, translation: Translation) -> None:
        if key[3] == self.generation:  # not translated across a change of names
            self._translations.put(key, translation)

    def small_result(self, sql: str) -> bool:
        return bool(self._small.get(sql))

    def result_size(self, sql: str, *, small: bool) -> None:
        self._small.put(sql, small)

    def invalidate(self) -> None:
        self.generation += 1
        self._translations.clear()


def _text_weight(text: str, _value: object) -> int:
    return len(text)


def _translation_weight(key: TranslationKey, translation: Translation) -> int:
    return len(key[0]) + sum(len(s) for s in translation.statements)


def plan_cache(engine: Engine) -> PlanCache:
    return engine.service("plans", lambda e: PlanCache(int(e.settings.plan_cache_size)))
