"""Long runs of literals (``IN (1, 2, ... 200000)``, ``VALUES (1, 'a'), (2, 'b'), ...``) kept
out of every pass over a statement.

A 1.3 MB IN list is 400k tokens; each token pass of the engine (user function calls,
engine-answered calls, ...) and sqlglot's parser, transforms and generator would visit every
one of them, which made such a statement cost a minute. :func:`collapse` cuts each run of at
least :data:`MIN_RUN` literals in the list after ``IN``, or of literal rows after ``VALUES``, to
its first element plus a sentinel string literal. Everything before DuckDB works on that short
statement; :meth:`Runs.restore` then puts the rest of each run, rendered for DuckDB, in place of
its sentinel in the generated SQL. The result is the statement the whole translation makes
(tests/sql/test_literals.py compares them); when a transform moved or wrapped a sentinel,
restore answers None and the caller translates the whole text (:meth:`Runs.expand`).

Sentinels are random, so no text a user writes can stand for one.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlglot.tokens import Token, TokenType

from hoarfrost.sql.tokens import Statement, tokenize

__all__ = ["MIN_RUN", "Run", "Runs", "collapse"]

MIN_RUN = 256
_WORDS = {TokenType.NULL: "NULL", TokenType.TRUE: "TRUE", TokenType.FALSE: "FALSE"}
_STRING, _NUMBER = TokenType.STRING, TokenType.NUMBER
_COMMA, _R_PAREN = TokenType.COMMA, TokenType.R_PAREN


@dataclass(frozen=True)
class Run:
    """One cut: ``replacement`` stands in the short text for ``source`` (the original text);
    ``rest`` is the cut elements as DuckDB SQL (``, 2, 3`` or ``, (2, 'b'), (3, 'c')``)."""

    sentinel: str
    replacement: str
    source: str
    rest: str
    rows: bool

    @property
    def needle(self) -> str:
        """The sentinel as the generated DuckDB SQL shows it while it is still the last element
        of its list (or the last row of its VALUES)."""
        return f", ('{self.sentinel}')" if self.rows else f", '{self.sentinel}')"


@dataclass(frozen=True)
class Runs:
    runs: tuple[Run, ...]

    def expand(self, sql: str) -> str | None:
        """``sql`` (the short text, possibly rewritten around its sentinels) with the original
        text of each run put back, or None when a rewrite lost or copied a sentinel."""
        for run in self.runs:
            if sql.count(run.sentinel) != 1 or sql.count(run.replacement) != 1:
                return None
            sql = sql.replace(run.replacement, run.source)
        return sql

    def restore(self, statements: tuple[str, ...]) -> tuple[str, ...] | None:
        """The generated statements with each sentinel replaced by its run, or None when a
        sentinel is not exactly once where it was put (or shows in a name made from text)."""
        out = list(statements)
        places = []
        for run in self.runs:
            hits = [i for i, s in enumerate(out) if run.needle in s]
            if len(hits) != 1 or sum(s.upper().count(run.sentinel.upper()) for s in out) != 1:
                return None
            places.append((hits[0], run))
        for i, run in places:
            out[i] = out[i].replace(run.needle, run.rest + ("" if run.rows else ")"))
        return tuple(out)


@dataclass(frozen=True)
class Collapsed:
    statement: Statement  # the short statement (runs cut)
    runs: Runs


def _plain_number(text: str) -> bool:
    """Digits with at most one point and an optional exponent: written alike in both
    dialects (anything else, e.g. a hex or suffixed number, ends the run)."""
    mantissa, marker, exponent = text.lower().partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    if not (digits.isascii() and digits.isdigit()):
        return False
    if marker:
        exponent = exponent[1:] if exponent[:1] in ("+", "-") and exponent else exponent
        return exponent.isascii() and exponent.isdigit()
    return True


@dataclass(frozen=True)
class _Source:
    """The statement being scanned; ``escapes`` when its text holds a backslash anywhere."""

    tokens: list[Token]
    text: str
    offset: int
    escapes: bool

    def plain_string(self, tok: Token) -> bool:
        """A string literal written without backslash escapes. Our tokenizer reads those
        otherwise than the translation's parser (``'\\n'``), so such a literal ends a run."""
        if tok.token_type is not _STRING:
            return False
        start, end = tok.start - self.offset, tok.end + 1 - self.offset
        return not self.escapes or self.text.find("\\", start, end) < 0


def _literal(src: _Source, i: int) -> tuple[str, int] | None:
    """The DuckDB text of the literal starting at token ``i`` and the index after it."""
    tokens = src.tokens
    tok = tokens[i]
    kind = tok.token_type
    if kind is _STRING:
        return ("'" + tok.text.replace("'", "''") + "'", i + 1) if src.plain_string(tok) else None
    if kind is _NUMBER:
        return (tok.text, i + 1) if _plain_number(tok.text) else None
    if kind is TokenType.DASH and i + 1 < len(tokens):
        after = tokens[i + 1]
        if after.token_type is _NUMBER and _plain_number(after.text):
            return "-" + after.text, i + 2
        return None
    word = _WORDS.get(kind)
    return (word, i + 1) if word is not None else None


def _flat(src: _Source, i: int) -> tuple[list[str], int] | None:
    """``( lit, lit, ... )`` at token ``i``: the rendered literals and the index after ``)``.

    Runs are hundreds of thousands of literals long: the common ones (a string without a
    quote or backslash, an integer) are rendered here without a call per literal."""
    tokens = src.tokens
    if tokens[i].token_type is not TokenType.L_PAREN:
        return None
    items: list[str] = []
    append = items.append
    j, n = i + 1, len(tokens)
    plain = not src.escapes
    while j < n:
        tok = tokens[j]
        kind, text = tok.token_type, tok.text
        if kind is _STRING and plain and "'" not in text:
            append("'" + text + "'")
            j += 1
        elif kind is _NUMBER and text.isdigit() and text.isascii():
            append(text)
            j += 1
        elif kind in _WORDS:
            append(_WORDS[kind])
            j += 1
        else:
            found = _literal(src, j)
            if found is None:
                return None
            append(found[0])
            j = found[1]
        if j >= n:
            return None
        kind = tokens[j].token_type
        if kind is _R_PAREN:
            return items, j + 1
        if kind is not _COMMA:
            return None
        j += 1
    return None


def _matching(tokens: list[Token], i: int) -> int | None:
    """The index of the parenthesis closing the one at token ``i``."""
    depth = 0
    for j in range(i, len(tokens)):
        kind = tokens[j].token_type
        depth += (kind == TokenType.L_PAREN) - (kind == TokenType.R_PAREN)
        if depth == 0:
            return j
    return None


def _row_runs(src: _Source, i: int) -> tuple[list[tuple[int, int, list[str]]], int]:
    """The runs of literal rows of one width in ``VALUES (row), (row), ...`` starting at token
    ``i`` (a row of anything else ends a run, and a new one may start after it): for each,
    the index of its first row's ``)``, of its last row's ``)``, and the rendered rows; and
    the index of the token after the last row."""
    tokens = src.tokens
    runs: list[tuple[int, int, list[str]]] = []
    rows: list[str] = []
    first = last = width = 0
    j, n = i, len(tokens)
    while j < n and tokens[j].token_type == TokenType.L_PAREN:
        found = _flat(src, j)
        if found is not None and rows and len(found[0]) == width:
            rows.append("(" + ", ".join(found[0]) + ")")
            last = found[1] - 1
        else:
            runs.append((first, last, rows))
            rows = []
            if found is not None:
                rows, width = ["(" + ", ".join(found[0]) + ")"], len(found[0])
                first = last = found[1] - 1
        close = found[1] - 1 if found is not None else _matching(tokens, j)
        if close is None or close + 2 >= n or tokens[close + 1].token_type != TokenType.COMMA:
            j = n if close is None else close + 1
            break
        j = close + 2
    runs.append((first, last, rows))
    return [run for run in runs if len(run[2]) >= MIN_RUN], j


def _cuts(src: _Source, i: int) -> tuple[list[tuple[int, int, Run]], int]:
    """The runs after the IN or VALUES at token ``i``: (start, end) of each cut in the
    statement's text and the run; and the index of the token to look at next."""
    tokens, off = src.tokens, src.offset
    spans: list[tuple[int, int, str, bool]] = []  # start, end, rest, rows
    after = i + 1
    if tokens[i].token_type == TokenType.VALUES:
        found_rows, after = _row_runs(src, i + 1)
        for first, last, rendered in found_rows:
            spans.append(
                (tokens[first].end + 1, tokens[last].end + 1, ", ".join(rendered[1:]), True)
            )
    else:
        found = _flat(src, i + 1)
        if found is not None and len(found[0]) >= MIN_RUN:
            first_end = _literal(src, i + 2)
            assert first_end is not None
            start, end = tokens[first_end[1] - 1].end + 1, tokens[found[1] - 1].start
            spans.append((start, end, ", ".join(found[0][1:]), False))
            after = found[1]
    cuts = []
    for start, end, rest, rows in spans:
        sentinel = f"__hf_run_{secrets.token_hex(12)}__"
        replacement = f", ('{sentinel}')" if rows else f", '{sentinel}'"
        source = src.text[start - off : end - off]
        cuts.append((start - off, end - off, Run(sentinel, replacement, source, ", " + rest, rows)))
    return cuts, max(after, i + 1)


def collapse(statement: Statement) -> Collapsed | None:
    """The statement with its long literal runs cut, or None when it has none."""
    tokens = statement.tokens
    if len(tokens) < MIN_RUN * 2:
        return None
    text = statement.text
    src = _Source(tokens, text, statement.offset, "\\" in text)
    cuts: list[tuple[int, int, Run]] = []
    heads = (TokenType.IN, TokenType.VALUES)
    last = len(tokens) - 1
    i = 0
    while i < last:
        if tokens[i].token_type in heads and tokens[i + 1].token_type == TokenType.L_PAREN:
            found, i = _cuts(src, i)
            cuts += found
            continue
        i += 1
    if not cuts:
        return None
    out: list[str] = []
    pos = 0
    for start, end, run in cuts:
        out += [text[pos:start], run.replacement]
        pos = end
    out.append(text[pos:])
    short = "".join(out)
    return Collapsed(Statement(short, tokenize(short), 0), Runs(tuple(c[2] for c in cuts)))
