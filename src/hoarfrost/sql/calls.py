"""Token-level rewriting of calls to user functions, before translation (DESIGN decision 2: the
tokenizer, never regular expressions over SQL text).

:class:`CallRewriter` walks a statement's tokens and asks the engine about every
``[db.][schema.]name( ... )`` call and every ``TABLE( name( ... ) [OVER (...)] )`` table function
it finds; the engine answers with replacement text (or ``None`` to leave the call alone). Argument
texts are rewritten first, so calls nest. A table function right after ``FROM x,`` is lateral: its
site carries the token range of that preceding FROM item, which the replacement takes over.

Unaliased items of the outermost SELECT list that contain a rewritten call get an alias holding
Snowflake's name for the ORIGINAL text (``SELECT test_udf()`` -> column ``TEST_UDF()``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlglot.tokens import Token, TokenType

from hoarfrost.sql.ast import Name
from hoarfrost.sql.select_list import CLOSE, OPEN, select_items, snowflake_name
from hoarfrost.sql.tokens import STRING_TYPES, Statement

__all__ = ["CallRewriter", "CallSite", "TableSite", "is_name", "literal_type"]

_NAME_TYPES = {TokenType.VAR, TokenType.IDENTIFIER}
# A name followed by "(" after these words names a table or a routine being defined, not a call.
_NOT_CALL_AFTER = {"INTO", "TABLE", "VIEW", "FUNCTION", "PROCEDURE", "EXISTS", "UPDATE"}


@dataclass
class CallSite:
    """``name(args)``: token indices of the first name token and of the closing parenthesis."""

    name: Name
    start: int
    end: int
    args: list[str] = field(default_factory=list)  # rewritten argument texts
    arg_names: list[str | None] = field(default_factory=list)  # for `name => value`
    raw_args: list[list[Token]] = field(default_factory=list)  # the original argument tokens


_JOIN_WORDS = {TokenType.INNER, TokenType.CROSS}


@dataclass
class TableSite:
    """``TABLE( call [OVER (PARTITION BY ... ORDER BY ...)] )``, optionally after ``FROM x,``."""

    call: CallSite
    start: int  # the TABLE token, or the first token of the lateral FROM item
    end: int  # the closing parenthesis of TABLE(...)
    partition_by: list[str] = field(default_factory=list)
    order_by: list[str] = field(default_factory=list)
    lateral_left: str | None = None  # rewritten text of the preceding FROM item
    left_alias: str | None = None  # how the query refers to that item
    alias: str | None = None  # `TABLE(...) [AS] u`: the alias, part of the site


OnCall = Callable[[CallSite], str | None]
OnTable = Callable[[TableSite], str | None]
IsFunction = Callable[[Name], bool]


def is_name(tok: Token) -> bool:
    """A token that can name a function: an identifier, or a keyword spelled like one (a user
    function may be called KEEP or FILTER; only names the catalog knows are ever rewritten)."""
    if tok.token_type in _NAME_TYPES:
        return True
    text = tok.text
    return bool(text) and text.replace("_", "").isalnum() and not text[0].isdigit()


def _ident(tok: Token) -> str:
    return tok.text if tok.token_type == TokenType.IDENTIFIER else tok.text.upper()


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


class CallRewriter:
    def __init__(
        self,
        statement: Statement,
        is_function: IsFunction,
        on_call: OnCall,
        is_table_function: IsFunction,
        on_table: OnTable,
    ):
        self.statement = statement
        self.toks = statement.tokens
        self.is_function = is_function
        self.on_call = on_call
        self.is_table_function = is_table_function
        self.on_table = on_table
        self.changed = False

    # -- public ----------------------------------------------------------------------------
    def rewrite(self) -> str:
        """The whole statement, rewritten, with aliases for the outermost select list."""
        pieces = self._pieces(0, len(self.toks))
        if not self.changed:
            return self.statement.text
        aliases = self._aliases(pieces)
        out = []
        for index, _end, text, _replaced in pieces:
            out.append(text)
            if index in aliases:
                out.append(aliases[index])
        return "".join(out)

    def text(self, i: int, j: int) -> str:
        """Tokens ``[i, j)`` rewritten (leading whitespace of token i excluded)."""
        if i >= j:
            return ""
        pieces = self._pieces(i, j)
        return "".join(p[2] for p in pieces)

    # -- walking -----------------------------------------------------------------------------
    def _pieces(self, i: int, j: int) -> list[tuple[int, int, str, bool]]:
        """(first token index, end char, text including leading gap, replaced?) per piece."""
        toks = self.toks
        pieces: list[tuple[int, int, str, bool]] = []
        cursor = toks[i].start
        k = i
        while k < j:
            table = self._table_site(k, j)
            if table is not None:
                site, replacement = table
                if replacement is not None:
                    while pieces and pieces[-1][0] >= site.start:
                        pieces.pop()
                    cursor = pieces[-1][1] if pieces else toks[i].start
                    gap = self._slice(cursor, toks[site.start].start)
                    pieces.append((site.start, toks[site.end].end + 1, gap + replacement, True))
                    cursor = toks[site.end].end + 1
                    k = site.end + 1
                    self.changed = True
                    continue
            call = self._call_site(k, j)
            if call is not None:
                replacement = self.on_call(call)
                if replacement is not None:
                    gap = self._slice(cursor, toks[k].start)
                    pieces.append((k, toks[call.end].end + 1, gap + replacement, True))
                    cursor = toks[call.end].end + 1
                    k = call.end + 1
                    self.changed = True
                    continue
            end = toks[k].end + 1
            pieces.append((k, end, self._slice(cursor, end), False))
            cursor = end
            k += 1
        return pieces

    def _slice(self, start: int, end: int) -> str:
        off = self.statement.offset
        return self.statement.text[start - off : end - off]

    def _name_at(self, k: int, j: int) -> tuple[Name, int] | None:
        """A dotted name starting at k (not in the middle of one): (name, index after it)."""
        toks = self.toks
        if not is_name(toks[k]) or toks[k].token_type == TokenType.TABLE:
            return None
        if k > 0 and toks[k - 1].token_type == TokenType.DOT:
            return None
        parts = [_ident(toks[k])]
        n = k + 1
        while (
            n + 1 < j
            and toks[n].token_type == TokenType.DOT
            and is_name(toks[n + 1])
            and len(parts) < 3
        ):
            parts.append(_ident(toks[n + 1]))
            n += 2
        return Name(tuple(parts)), n

    def _call_site(self, k: int, j: int, *, table: bool = False) -> CallSite | None:
        found = self._name_at(k, j)
        if found is None:
            return None
        name, n = found
        if n >= j or self.toks[n].token_type != TokenType.L_PAREN:
            return None
        if not table and k > 0 and self.toks[k - 1].text.upper() in _NOT_CALL_AFTER:
            return None
        check = self.is_table_function if table else self.is_function
        if not check(name):
            return None
        close = self._matching(n, j)
        if close is None:
            return None
        site = CallSite(name, k, close)
        for a, b in self._split_commas(n + 1, close):
            named = b - a >= 2 and self.toks[a + 1].token_type == TokenType.FARROW
            site.arg_names.append(_ident(self.toks[a]) if named else None)
            a = a + 2 if named else a
            site.raw_args.append(self.toks[a:b])
            site.args.append(self.text(a, b))
        return site

    def _matching(self, open_index: int, j: int) -> int | None:
        depth = 0
        for n in range(open_index, j):
            kind = self.toks[n].token_type
            depth += (kind in OPEN) - (kind in CLOSE)
            if depth == 0:
                return n
        return None

    def _split_commas(self, a: int, b: int) -> list[tuple[int, int]]:
        """Top-level comma-separated ranges of tokens [a, b)."""
        if a >= b:
            return []
        ranges, depth, start = [], 0, a
        for n in range(a, b):
            kind = self.toks[n].token_type
            depth += (kind in OPEN) - (kind in CLOSE)
            if depth == 0 and kind == TokenType.COMMA:
                ranges.append((start, n))
                start = n + 1
        ranges.append((start, b))
        return ranges

    # -- TABLE(f(...)) -------------------------------------------------------------------
    def _table_site(self, k: int, j: int) -> tuple[TableSite, str | None] | None:
        toks = self.toks
        if toks[k].token_type != TokenType.TABLE or k + 2 >= j:
            return None
        if toks[k + 1].token_type != TokenType.L_PAREN:
            return None
        close = self._matching(k + 1, j)
        if close is None:
            return None
        call = self._call_site(k + 2, close, table=True)
        if call is None:
            return None
        site = TableSite(call, k, close)
        n = call.end + 1
        if n < close and toks[n].token_type == TokenType.OVER:
            self._over(site, n + 1, close)
        elif n != close:
            return None
        joined = self._lateral(site, k)
        self._table_alias(site, j)
        if joined and site.end + 1 < j and self.toks[site.end + 1].token_type == TokenType.ON:
            return None  # JOIN TABLE(...) ON ...: not a lateral join of ours
        return site, self.on_table(site)

    def _table_alias(self, site: TableSite, j: int) -> None:
        n = site.end + 1
        if n < j and self.toks[n].token_type == TokenType.ALIAS:
            n += 1
        if n < j and self.toks[n].token_type in _NAME_TYPES:
            site.alias = _ident(self.toks[n])
            site.end = n

    def _over(self, site: TableSite, n: int, close: int) -> None:
        end = self._matching(n, close)
        if end is None:
            return
        a = n + 1
        order_at = next(
            (m for m in range(a, end) if self.toks[m].token_type == TokenType.ORDER_BY), end
        )
        if a < end and self.toks[a].token_type == TokenType.PARTITION_BY:
            site.partition_by = [self.text(x, y) for x, y in self._split_commas(a + 1, order_at)]
        if order_at < end:
            site.order_by = [self.text(x, y) for x, y in self._split_commas(order_at + 1, end)]

    def _lateral(self, site: TableSite, k: int) -> bool:
        """``FROM <item>, TABLE(...)`` or ``FROM <item> [INNER | CROSS] JOIN TABLE(...)`` (what
        Snowpark's join_table_function sends): the item's range becomes part of the site.
        True when it was a JOIN."""
        toks = self.toks
        if k == 0 or toks[k - 1].token_type not in (TokenType.COMMA, TokenType.JOIN):
            return False
        before = k - 1  # the comma, or the first word of the join
        joined = toks[before].token_type == TokenType.JOIN
        while joined and before > 0 and toks[before - 1].token_type in _JOIN_WORDS:
            before -= 1
        depth, m = 0, before - 1
        while m >= 0:
            kind = toks[m].token_type
            depth += (kind in CLOSE) - (kind in OPEN)
            if depth < 0:
                return False
            if depth == 0 and kind in (TokenType.FROM, TokenType.COMMA, TokenType.JOIN):
                break
            m -= 1
        if m < 0 or toks[m].token_type != TokenType.FROM:
            return False  # only the first FROM item joins laterally here
        site.start = m + 1
        site.lateral_left = self.text(m + 1, before)
        site.left_alias = _item_alias(toks[m + 1 : before])
        return joined

    # -- select-list aliases -------------------------------------------------------------
    def _aliases(self, pieces: list[tuple[int, int, str, bool]]) -> dict[int, str]:
        """Piece index -> ` AS "<name>"` to append, for unaliased top-level select items."""
        items = select_items(self.toks)
        replaced = {p[0] for p in pieces if p[3]}
        starts = [p[0] for p in pieces]
        out: dict[int, str] = {}
        for a, b in items:
            if not any(a <= r < b for r in replaced) or _has_alias(self.toks[a:b]):
                continue
            last = max(s for s in starts if s < b)
            name = snowflake_name(self.statement.text, self.toks[a:b], self.statement.offset)
            out[last] = " AS " + _quote(name)
        return out


def _has_alias(item: list[Token]) -> bool:
    if len(item) < 2 or item[-1].token_type not in _NAME_TYPES:
        return False
    before = item[-2]
    if before.token_type == TokenType.ALIAS or before.text.upper() == "AS":
        return True
    return before.token_type in (TokenType.R_PAREN, *_NAME_TYPES, *STRING_TYPES, TokenType.NUMBER)


def _item_alias(item: list[Token]) -> str | None:
    """The name a FROM item is referred to by: its alias, else the table's own name."""
    if not item:
        return None
    if _has_alias(item) or (len(item) == 1 and item[0].token_type in _NAME_TYPES):
        return _ident(item[-1])
    if item[-1].token_type in _NAME_TYPES and item[-2].token_type == TokenType.DOT:
        return _ident(item[-1])
    return None


def literal_type(tokens: list[Token]) -> str | None:
    """The type family of an argument written as a plain literal or a cast, else None."""
    if len(tokens) == 1:
        tok = tokens[0]
        if tok.token_type in STRING_TYPES:
            return "VARCHAR"
        if tok.token_type == TokenType.NUMBER:
            return "FLOAT" if "e" in tok.text.lower() else "NUMBER"
        if tok.token_type in (TokenType.TRUE, TokenType.FALSE):
            return "BOOLEAN"
    if len(tokens) >= 3 and tokens[-2].token_type == TokenType.DCOLON:
        return tokens[-1].text.upper()
    if len(tokens) >= 2 and tokens[0].token_type == TokenType.DASH:
        return literal_type(tokens[1:])
    return None
