"""Snowflake functions DuckDB lacks or means differently, each a small pure transform
(reference: the SQL function reference, by category). Applied after
:mod:`hoarfrost.sql.transforms`' pipeline steps they name.

Semi-structured: OBJECT_CONSTRUCT drops NULL-valued keys (OBJECT_CONSTRUCT_KEEP_NULL keeps
them), OBJECT_AGG, ARRAY_CAT, string functions over a VARIANT string see its text.
Date and time: numbers cast to timestamps are seconds (ms, us, ns by magnitude) since the epoch;
a literal's ``+09:00`` offset after a space. Numeric and string: HAVERSINE, RANDOM(seed),
REGEXP_SUBSTR's 'e' parameter, TRIM of a number. Statements: a select-list alias used in JOIN
... ON, ``UPDATE SET tgt.col = ...`` in MERGE and UPDATE.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlglot import exp

from hoarfrost.sql.transforms_semi import (
    semi_structured_functions,
    split_to_table,
    window_functions,
)

__all__ = ["EARLY_FUNCTION_TRANSFORMS", "FUNCTION_TRANSFORMS"]


def _func(name: str, *args: exp.Expr) -> exp.Anonymous:
    return exp.Anonymous(this=name, expressions=list(args))


def _each(tree: exp.Expr, kinds: Any, fix: Callable[[Any], exp.Expr]) -> exp.Expr:
    """Apply ``fix`` to every node of the given kinds, children first."""
    for node in reversed(list(tree.find_all(kinds))):
        new = fix(node)
        if new is not node:
            if node is tree:
                return new
            node.replace(new)
    return tree


# --- semi-structured ------------------------------------------------------------------------


def object_construct_skips_nulls(tree: exp.Expr) -> exp.Expr:
    """``json_object(k1, v1, ...)`` made from OBJECT_CONSTRUCT: keys whose value is SQL NULL are
    left out, as the reference does (a JSON null from PARSE_JSON('null') stays).

    Runs before :func:`hoarfrost.sql.transforms.variant_constructors` turns exp.Struct into
    json_object; OBJECT_CONSTRUCT_KEEP_NULL arrives as exp.JSONObject and keeps every key.
    """

    def fix(node: exp.Struct) -> exp.Expr:
        pairs: list[tuple[exp.Expr, exp.Expr]] = []
        for item in node.expressions:
            if not isinstance(item, exp.PropertyEQ):
                return node  # OBJECT_CONSTRUCT(*) and other shapes: unchanged
            key = item.this
            if isinstance(key, exp.Column) and not key.table:
                key = exp.Literal.string(key.name)
            if not isinstance(item.expression, exp.Null):
                pairs.append((key, item.expression))
        if not pairs:
            return exp.cast(exp.Literal.string("{}"), "JSON")
        if not any(_may_be_null(value) for _, value in pairs):
            return exp.Struct(expressions=[exp.PropertyEQ(this=k, expression=v) for k, v in pairs])
        # list_value, not an exp.Array: variant_constructors makes arrays JSON
        entries = _func(
            "list_value",
            *[
                _func(
                    "struct_pack",
                    exp.PropertyEQ(this=exp.to_identifier("k"), expression=exp.cast(k, "VARCHAR")),
                    exp.PropertyEQ(this=exp.to_identifier("v"), expression=_func("to_json", v)),
                )
                for k, v in pairs
            ],
        )
        keep = exp.Lambda(
            this=exp.Not(this=exp.Is(this=exp.column("v", table="x"), expression=exp.Null())),
            expressions=[exp.to_identifier("x")],
        )
        kept = _func("list_filter", entries, keep)
        return _func("to_json", _func("map_from_entries", kept))

    return _each(tree, exp.Struct, fix)


def _may_be_null(value: exp.Expr) -> bool:
    return not isinstance(value, exp.Literal | exp.Boolean)


def object_construct_keep_null(tree: exp.Expr) -> exp.Expr:
    def fix(node: exp.JSONObject) -> exp.Expr:
        args: list[exp.Expr] = []
        for item in node.expressions:
            if isinstance(item, exp.JSONKeyValue):
                args += [exp.cast(item.this, "VARCHAR"), item.expression]
            else:
                return node
        return _func("json_object", *args)

    return _each(tree, exp.JSONObject, fix)


def object_agg(tree: exp.Expr) -> exp.Expr:
    """OBJECT_AGG(k, v): a JSON object of the group's pairs; rows with a NULL key or value are
    skipped."""

    def fix(node: exp.ObjectAgg) -> exp.Expr:
        key, value = node.this, node.expression
        entry = _func(
            "struct_pack",
            exp.PropertyEQ(this=exp.to_identifier("k"), expression=exp.cast(key, "VARCHAR")),
            exp.PropertyEQ(this=exp.to_identifier("v"), expression=_func("to_json", value)),
        )
        skip = exp.and_(
            exp.Not(this=exp.Is(this=key.copy(), expression=exp.Null())),
            exp.Not(this=exp.Is(this=value.copy(), expression=exp.Null())),
        )
        entries = exp.Filter(this=_func("list", entry), expression=exp.Where(this=skip))
        return _func("to_json", _func("map_from_entries", entries))

    return _each(tree, exp.ObjectAgg, fix)


def array_cat(tree: exp.Expr) -> exp.Expr:
    """ARRAY_CAT(a, b) on JSON arrays: the elements of a, then those of b (NULL if either is)."""

    def fix(node: exp.ArrayConcat) -> exp.Expr:
        parts = [node.this, *node.expressions]
        lists = [exp.cast(_func("to_json", p), "JSON[]") for p in parts]
        return _func("to_json", _func("list_concat", *lists))

    return _each(tree, exp.ArrayConcat, fix)


_TEXT_FUNCTIONS = (exp.Upper, exp.Lower, exp.Trim, exp.Length, exp.Initcap, exp.Substring)


def _visibly_json(node: exp.Expr) -> bool:
    if isinstance(node, exp.ParseJSON | exp.JSONExtract | exp.Bracket):
        return True
    return isinstance(node, exp.Anonymous) and node.name.lower() in (
        "to_json",
        "json_extract",
        "json_object",
    )


def text_of_variants(tree: exp.Expr) -> exp.Expr:
    """UPPER(v:name), TRIM(PARSE_JSON(..)): string functions see a VARIANT string's text, not its
    JSON (the reference casts VARIANT to VARCHAR without quotes). Runs before variant_access, so
    paths are still exp.JSONExtract."""

    def text(arg: exp.Expr) -> exp.Expr:
        return exp.cast(arg.copy(), "VARCHAR") if _visibly_json(arg) else arg

    def fix(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.ToChar) and node.args.get("format") is None:
            arg = node.this
            return exp.cast(arg.copy(), "VARCHAR") if _visibly_json(arg) else node
        if isinstance(node, exp.DPipe):
            node.set("this", text(node.this))
            node.set("expression", text(node.expression))
            return node
        if isinstance(node, exp.Concat):
            node.set("expressions", [text(e) for e in node.expressions])
            return node
        arg = node.this
        if isinstance(arg, exp.Expr) and _visibly_json(arg):
            node.set("this", exp.cast(arg.copy(), "VARCHAR"))
        return node

    return _each(tree, (*_TEXT_FUNCTIONS, exp.ToChar, exp.DPipe, exp.Concat), fix)


# --- date and time ------------------------------------------------------------------------

_TIMESTAMP_TYPES = {
    exp.DataType.Type.TIMESTAMP,
    exp.DataType.Type.TIMESTAMPNTZ,
    exp.DataType.Type.TIMESTAMPLTZ,
    exp.DataType.Type.TIMESTAMPTZ,
    exp.DataType.Type.DATETIME,
}
_OFFSET = re.compile(r"\s+([+-]\d{2}(?::?\d{2})?)$")


def _epoch_micros(digits: int) -> int:
    """The reference's rule for a number as a timestamp: its magnitude says the unit."""
    size = abs(digits)
    if size < 31_536_000_000:
        return digits * 1_000_000
    if size < 31_536_000_000_000:
        return digits * 1_000
    if size < 31_536_000_000_000_000:
        return digits
    return digits // 1_000


def timestamp_literals(tree: exp.Expr) -> exp.Expr:
    """``1748179630::timestamp`` (seconds since the epoch) and
    ``'2024-01-01 10:00:00 +09:00'::timestamp_tz`` (an offset after a space)."""

    def fix(node: exp.Cast) -> exp.Expr:
        to = node.args.get("to")
        value = node.this
        if not isinstance(to, exp.DataType) or to.this not in _TIMESTAMP_TYPES:
            return node
        if isinstance(value, exp.Neg) and isinstance(value.this, exp.Literal):
            value = exp.Literal.number(f"-{value.this.this}")
        if (
            isinstance(value, exp.Literal)
            and not value.is_string
            and value.this.lstrip("-").isdigit()
        ):
            micros = _epoch_micros(int(value.this))
            stamp = _func("make_timestamp", exp.cast(exp.Literal.number(micros), "BIGINT"))
            node.set("this", stamp)
        elif isinstance(value, exp.Literal) and value.is_string:
            fixed = _OFFSET.sub(r"\1", value.this.strip())
            if fixed != value.this:
                node.set("this", exp.Literal.string(fixed))
        return node

    return _each(tree, exp.Cast, fix)


def convert_timezone_instants(tree: exp.Expr) -> exp.Expr:
    """CONVERT_TIMEZONE(target, ts): the same instant as a TIMESTAMP_TZ (a TIMESTAMP_NTZ is read
    in the session's time zone, UTC); DuckDB's ``AT TIME ZONE`` on a naive timestamp would read
    it as the target zone's wall clock instead. The instant is kept; its offset is UTC's."""

    def fix(node: exp.ConvertTimezone) -> exp.Expr:
        if node.args.get("source_tz") is not None or node.args.get("timestamp") is None:
            return node
        return exp.cast(node.args["timestamp"].copy(), "TIMESTAMPTZ")

    return _each(tree, exp.ConvertTimezone, fix)


def object_keys(tree: exp.Expr) -> exp.Expr:
    """OBJECT_KEYS(o): a JSON array of the keys (DuckDB's json_keys is a list). Early, so the
    engine's own json_keys calls (FLATTEN) are left alone."""

    def fix(node: exp.JSONKeys) -> exp.Expr:
        keys = _func("json_keys", _func("to_json", node.this.copy()))
        return _func("to_json", keys)

    return _each(tree, exp.JSONKeys, fix)


def dateadd_strings(tree: exp.Expr) -> exp.Expr:
    """DATEADD(unit, n, '<text>'): the reference reads the text as a TIMESTAMP_NTZ (time of day
    kept), where DuckDB would read a DATE."""

    def fix(node: exp.DateAdd) -> exp.Expr:
        value = node.this
        if isinstance(value, exp.Literal) and value.is_string:
            node.set("this", exp.cast(value.copy(), "TIMESTAMP"))
        return node

    return _each(tree, exp.DateAdd, fix)


# --- numeric and string -------------------------------------------------------------------


def _half(diff: exp.Expr) -> exp.Expr:
    return exp.Div(this=exp.Paren(this=diff), expression=exp.Literal.number(2))


def haversine(tree: exp.Expr) -> exp.Expr:
    """HAVERSINE(lat1, lon1, lat2, lon2): great-circle distance in km (Earth radius 6371)."""

    def fix(node: exp.Anonymous) -> exp.Expr:
        if node.name.upper() != "HAVERSINE" or len(node.expressions) != 4:
            return node
        lat1, lon1, lat2, lon2 = (_func("radians", a) for a in node.expressions)
        dlat = exp.Div(
            this=exp.Paren(this=exp.Sub(this=lat2, expression=lat1.copy())),
            expression=exp.Literal.number(2),
        )
        dlon = exp.Div(
            this=exp.Paren(this=exp.Sub(this=lon2, expression=lon1.copy())),
            expression=exp.Literal.number(2),
        )
        inner = exp.Add(
            this=_func("pow", _func("sin", dlat), exp.Literal.number(2)),
            expression=exp.Mul(
                this=exp.Mul(this=_func("cos", lat1.copy()), expression=_func("cos", lat2.copy())),
                expression=_func("pow", _func("sin", dlon), exp.Literal.number(2)),
            ),
        )
        return exp.Mul(
            this=exp.Literal.number("12742.0"),  # 2 * 6371 km
            expression=_func("asin", _func("sqrt", inner)),
        )

    return _each(tree, exp.Anonymous, fix)


def seeded_random(tree: exp.Expr) -> exp.Expr:
    """RANDOM(seed): a 64-bit integer that depends only on the seed (the reference's sequence
    for a seed is its own; what holds is that the same seed gives the same value)."""

    def fix(node: exp.Rand) -> exp.Expr:
        seed = node.this
        if seed is None:
            return node
        shifted = exp.BitwiseRightShift(this=_func("hash", seed), expression=exp.Literal.number(1))
        return exp.cast(shifted, "BIGINT")

    return _each(tree, exp.Rand, fix)


def regexp_substr_groups(tree: exp.Expr) -> exp.Expr:
    """REGEXP_SUBSTR(s, p, pos, occ, 'e'): the 'e' parameter extracts group 1 (or the group the
    sixth argument names)."""

    def fix(node: exp.RegexpExtract) -> exp.Expr:
        params = node.args.get("parameters")
        group = node.args.get("group")
        unset = group is None or (isinstance(group, exp.Literal) and str(group.this) == "0")
        if isinstance(params, exp.Literal) and "e" in str(params.this) and unset:
            node.set("group", exp.Literal.number(1))
        return node

    return _each(tree, exp.RegexpExtract, fix)


def trim_numbers(tree: exp.Expr) -> exp.Expr:
    """TRIM / LTRIM / RTRIM of a number trims its text (the reference casts to VARCHAR)."""

    def fix(node: exp.Trim) -> exp.Expr:
        arg = node.this
        if isinstance(arg, exp.Expr) and not (isinstance(arg, exp.Literal) and arg.is_string):
            node.set("this", exp.cast(arg.copy(), "VARCHAR"))
        return node

    return _each(tree, exp.Trim, fix)


# --- statements ---------------------------------------------------------------------------


def join_on_aliases(tree: exp.Expr) -> exp.Expr:
    """A select-list alias used in JOIN ... ON means its expression (the reference resolves it
    there as in WHERE); a name that is also a column of the select list stays as it is."""
    for select in tree.find_all(exp.Select):
        aliases = {
            p.alias.upper(): p.this
            for p in select.expressions
            if isinstance(p, exp.Alias) and not isinstance(p.this, exp.Column)
        }
        if not aliases:
            continue
        for join in select.args.get("joins") or []:
            on = join.args.get("on")
            if on is None:
                continue
            for column in list(on.find_all(exp.Column)):
                found = aliases.get(column.name.upper())
                if not column.table and found is not None:
                    column.replace(exp.Paren(this=found.copy()))
    return tree


def unqualified_set_targets(tree: exp.Expr) -> exp.Expr:
    """``UPDATE SET tgt.col = ...`` (in MERGE's WHEN MATCHED and in UPDATE): DuckDB takes the
    column name alone on the left of SET."""
    updates = [tree] if isinstance(tree, exp.Update) else []
    if isinstance(tree, exp.Merge):
        updates += [
            w.args["then"]
            for w in tree.find_all(exp.When)
            if isinstance(w.args.get("then"), exp.Update)
        ]
    for update in updates:
        for eq in update.expressions:
            target = eq.this if isinstance(eq, exp.EQ) else None
            if isinstance(target, exp.Column) and target.table:
                eq.set("this", exp.column(target.this.copy()))
    return tree


# Before hoarfrost.sql.transforms' pipeline: they see OBJECT_CONSTRUCT, paths and casts as the
# parser made them.
EARLY_FUNCTION_TRANSFORMS = [
    object_construct_skips_nulls,
    text_of_variants,
    timestamp_literals,
    dateadd_strings,
    convert_timezone_instants,
    object_keys,
]

FUNCTION_TRANSFORMS = [
    object_construct_keep_null,
    object_agg,
    array_cat,
    haversine,
    seeded_random,
    regexp_substr_groups,
    trim_numbers,
    join_on_aliases,
    unqualified_set_targets,
    semi_structured_functions,  # after variant_constructors: its templates hold DuckDB structs
    window_functions,
    split_to_table,
]
