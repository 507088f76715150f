"""Array and object functions of the reference over hoarfrost's JSON model (VARIANT, OBJECT and
ARRAY are DuckDB JSON; see :mod:`hoarfrost.sql.transforms`): an array becomes a DuckDB list of
JSON values (``CAST(to_json(a) AS JSON[])``), the list function runs, and the result is JSON
again. Each function is one DuckDB template; ``$0``, ``$1``, ... are its arguments.

Numbers inside an array compare as numbers where the reference does (ARRAY_SORT, ARRAY_MAX),
through a sort key of (number, text).
"""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp

__all__ = ["semi_structured_functions", "split_to_table", "window_functions"]

_L = "CAST(to_json($0) AS JSON[])"
_KEYED = "list_transform({list}, lambda e: {{'n': TRY_CAST(e AS DOUBLE), 's': e}})"
_NUMERIC = "('BIGINT', 'UBIGINT', 'DOUBLE')"

# Snowflake name (or sqlglot class name) -> DuckDB template
_TEMPLATES: dict[str, str] = {
    "ArrayAppend": f"to_json(list_append({_L}, to_json($1)))",
    "ArrayPrepend": f"to_json(list_prepend(to_json($1), {_L}))",
    "ArrayCompact": f"to_json(list_filter({_L}, lambda e: e IS NOT NULL))",
    # sqlglot keeps ARRAY_CONTAINS(value, array) and ARRAY_POSITION as (array, value)
    "ArrayContains": f"list_contains({_L}, to_json($1))",
    "ArrayDistinct": f"to_json(list_distinct({_L}))",
    "ArrayExcept": (
        f"to_json(list_filter({_L}, lambda e: NOT list_contains(CAST(to_json($1) AS JSON[]), e)))"
    ),
    "ArrayIntersect": (
        f"to_json(list_filter({_L}, lambda e: list_contains(CAST(to_json($1) AS JSON[]), e)))"
    ),
    "ArrayOverlaps": f"list_has_any({_L}, CAST(to_json($1) AS JSON[]))",
    "Flatten": "to_json(flatten(CAST(to_json($0) AS JSON[][])))",
    "ArrayInsert": (f"to_json(list_concat({_L}[1:$1], [to_json($2)], {_L}[$1 + 1:]))"),
    "ArrayRemove": f"to_json(list_filter({_L}, lambda e: e IS DISTINCT FROM to_json($1)))",
    "ArrayRemoveAt": (
        f"to_json(CASE WHEN $1 >= 0 THEN list_concat({_L}[1:$1], {_L}[$1 + 2:]) "
        f"ELSE list_concat({_L}[1:len({_L}) + $1], {_L}[len({_L}) + $1 + 2:]) END)"
    ),
    "ArrayReverse": f"to_json(list_reverse({_L}))",
    "ArraySort": f"to_json(list_transform(list_sort({_KEYED.format(list=_L)}), lambda e: e.s))",
    "ArrayMax": f"list_max({_KEYED.format(list=_L)}).s",
    "ArrayMin": f"list_min({_KEYED.format(list=_L)}).s",
    "ArraySum": (
        f"CASE WHEN list_bool_and(list_transform({_L}, lambda e: json_type(e) IN "
        f"('BIGINT', 'UBIGINT'))) THEN CAST(list_sum(CAST(to_json($0) AS HUGEINT[])) AS BIGINT) "
        f"ELSE list_sum(CAST(to_json($0) AS DOUBLE[])) END"
    ),
    "ArrayPosition": f"list_position({_L}, to_json($1)) - 1",
    "ArrayToString": (
        f"array_to_string(list_transform({_L}, lambda e: coalesce(json_extract_string(e, '$'), "
        f"''))" + ", $1)"
    ),
    "GetIgnoreCase": (
        "json_extract(to_json($0), '$.\"' || list_filter(json_keys(to_json($0)), "
        "lambda k: lower(k) = lower($1))[1] || '\"')"
    ),
    "ObjectInsert": "json_merge_patch(to_json($0), json_object(CAST($1 AS VARCHAR), $2))",
    "IS_BOOLEAN": "json_type(to_json($0)) = 'BOOLEAN'",
    "IS_INTEGER": "json_type(to_json($0)) IN ('BIGINT', 'UBIGINT')",
    "IS_DECIMAL": f"json_type(to_json($0)) IN {_NUMERIC}",
    "IS_DOUBLE": f"json_type(to_json($0)) IN {_NUMERIC}",
    "IS_REAL": f"json_type(to_json($0)) IN {_NUMERIC}",
    "IS_VARCHAR": "json_type(to_json($0)) = 'VARCHAR'",
    "IS_CHAR": "json_type(to_json($0)) = 'VARCHAR'",
    "IS_OBJECT": "json_type(to_json($0)) = 'OBJECT'",
    "AS_VARCHAR": "CASE WHEN json_type(to_json($0)) = 'VARCHAR' THEN to_json($0) ->> '$' END",
    "AS_CHAR": "CASE WHEN json_type(to_json($0)) = 'VARCHAR' THEN to_json($0) ->> '$' END",
    "AS_INTEGER": (
        "CASE WHEN json_type(to_json($0)) IN ('BIGINT', 'UBIGINT') THEN CAST(to_json($0) AS "
        "BIGINT) END"
    ),
    "AS_NUMBER": (
        f"CASE WHEN json_type(to_json($0)) IN {_NUMERIC} THEN CAST(to_json($0) AS DECIMAL(38, 9))"
        " END"
    ),
    "AS_DOUBLE": (
        f"CASE WHEN json_type(to_json($0)) IN {_NUMERIC} THEN CAST(to_json($0) AS DOUBLE) END"
    ),
    "AS_BOOLEAN": (
        "CASE WHEN json_type(to_json($0)) = 'BOOLEAN' THEN CAST(to_json($0) AS BOOLEAN) END"
    ),
    "AS_ARRAY": "CASE WHEN json_type(to_json($0)) = 'ARRAY' THEN to_json($0) END",
    "AS_OBJECT": "CASE WHEN json_type(to_json($0)) = 'OBJECT' THEN to_json($0) END",
    "TO_OBJECT": "CASE WHEN json_type(to_json($0)) = 'OBJECT' THEN to_json($0) END",
    "WidthBucket": (
        "CASE WHEN $0 < $1 THEN 0 WHEN $0 >= $2 THEN $3 + 1 "
        "ELSE CAST(floor(($0 - $1) * $3 / ($2 - $1)) AS BIGINT) + 1 END"
    ),
    "ByteLength": "strlen($0)",
    # TO_TIMESTAMP_*(<timestamp expression>): sqlglot keeps these names when the argument is
    # not a string; a number is seconds since the epoch
    "TO_TIMESTAMP_NTZ": "CAST($0 AS TIMESTAMP)",
    "TO_TIMESTAMP_LTZ": "CAST($0 AS TIMESTAMPTZ)",
    "TO_TIMESTAMP_TZ": "CAST($0 AS TIMESTAMPTZ)",
    # BOOLAND / BOOLOR / BOOLXOR / BOOLNOT take numbers (non-zero is TRUE) or booleans
    "Booland": "(CAST($0 AS DOUBLE) <> 0 AND CAST($1 AS DOUBLE) <> 0)",
    "Boolor": "(CAST($0 AS DOUBLE) <> 0 OR CAST($1 AS DOUBLE) <> 0)",
    "Xor": "((CAST($0 AS DOUBLE) <> 0) <> (CAST($1 AS DOUBLE) <> 0))",
    "Boolnot": "(NOT CAST($0 AS DOUBLE) <> 0)",
    "TryBase64DecodeString": "TRY(decode(from_base64($0)))",
    "TryHexDecodeString": "TRY(decode(unhex($0)))",
    "HashAgg": "CAST(hash(list_sort(list(hash($0)))) >> 1 AS BIGINT)",
    "MD5NumberLower64": "CAST(('0x' || right(md5($0), 16))::UBIGINT AS DECIMAL(20, 0))",
    "MD5NumberUpper64": "CAST(('0x' || left(md5($0), 16))::UBIGINT AS DECIMAL(20, 0))",
}
# OBJECT_DELETE(o, k1, ...) / OBJECT_PICK(o, k1, ...): the object without / with only these keys
_OBJECT_KEYS = (
    "to_json(map_from_entries(list_transform(list_filter(json_keys(to_json($0)), "
    "lambda k: {negate}list_contains([{keys}], k)), lambda k: struct_pack(k := k, "
    "v := json_extract(to_json($0), '$.\"' || k || '\"')))))"
)

_PLACEHOLDER = re.compile(r"\$(\d+)")


def _args(node: exp.Expr) -> list[exp.Expr]:
    if isinstance(node, exp.Anonymous):
        return list(node.expressions)
    found: list[exp.Expr] = []
    for key in node.arg_types:
        value = node.args.get(key)
        if isinstance(value, list):
            found += value
        elif isinstance(value, exp.Expr) and key in _POSITIONAL:
            found.append(value)
    return found


# Argument names of sqlglot's function nodes that are positional arguments (others are flags).
_POSITIONAL = {
    "this",
    "expression",
    "position",
    "key",
    "value",
    "min_value",
    "max_value",
    "num_buckets",
}


def _fill(template: str, args: list[exp.Expr]) -> exp.Expr | None:
    used = {int(n) for n in _PLACEHOLDER.findall(template)}
    if used and max(used) >= len(args):
        return None
    text = _PLACEHOLDER.sub(lambda m: f"__hf_arg_{m.group(1)}__", template)
    tree = sqlglot.parse_one(text, read="duckdb")
    for column in list(tree.find_all(exp.Column)):
        found = re.fullmatch(r"__hf_arg_(\d+)__", column.name)
        if found:
            replacement = exp.Paren(this=args[int(found.group(1))].copy())
            if column is tree:
                return replacement
            column.replace(replacement)
    return tree


def _template_for(node: exp.Expr) -> str | None:
    if isinstance(node, exp.Anonymous):
        name = node.name.upper()
        if name in ("OBJECT_DELETE", "OBJECT_PICK") and len(node.expressions) >= 2:
            keys = ", ".join(f"${i}" for i in range(1, len(node.expressions)))
            negate = "NOT " if name == "OBJECT_DELETE" else ""
            return _OBJECT_KEYS.format(negate=negate, keys=keys)
        return _TEMPLATES.get(name)
    return _TEMPLATES.get(type(node).__name__)


def semi_structured_functions(tree: exp.Expr) -> exp.Expr:
    """Rewrite every call that has a template (see the module docstring), children first."""
    for node in reversed(list(tree.find_all(exp.Func))):
        template = _template_for(node)
        if template is None:
            continue
        new = _fill(template, _args(node))
        if new is None:
            continue
        if node is tree:
            return new
        node.replace(new)
    return tree


# SPLIT_TO_TABLE(s, delimiter): one row per part, with its 1-based INDEX, in order.
_SPLIT_TO_TABLE = (
    'SELECT CAST(1 AS BIGINT) AS "SEQ", _p.i AS "INDEX", _p.v AS "VALUE" FROM (SELECT '
    "unnest(string_split($0, $1)) AS v, unnest(range(1, len(string_split($0, $1)) + 1)) AS i) "
    "AS _p"
)


def split_to_table(tree: exp.Expr) -> exp.Expr:
    """TABLE(SPLIT_TO_TABLE(s, d)) [AS t]: a subquery with the reference's SEQ, INDEX, VALUE."""
    for node in list(tree.find_all(exp.TableFromRows)):
        call = node.this
        if not isinstance(call, exp.SplitToTable):
            continue
        select = _fill(_SPLIT_TO_TABLE, [call.this, call.expression])
        alias = node.args.get("alias")
        name = alias.this if alias is not None and alias.this else exp.to_identifier("SPLIT")
        columns = [c.copy() for c in alias.columns] if alias is not None else []
        node.replace(exp.Subquery(this=select, alias=exp.TableAlias(this=name, columns=columns)))
    return tree


def _window_rewrite(window: exp.Window) -> exp.Expr | None:
    func = window.this
    if not isinstance(func, exp.Anonymous) or not func.expressions:
        return None
    name, arg = func.name.upper(), func.expressions[0]
    if name == "RATIO_TO_REPORT":
        total = window.copy()
        total.set("this", exp.Sum(this=arg.copy()))
        total.set("order", None)
        total.set("spec", None)
        return exp.Div(this=exp.cast(arg.copy(), "DOUBLE"), expression=total)
    if name == "CONDITIONAL_TRUE_EVENT":
        counted = window.copy()
        flag = exp.If(this=arg.copy(), true=exp.Literal.number(1), false=exp.Literal.number(0))
        counted.set("this", exp.Sum(this=flag))
        return counted
    return None


def window_functions(tree: exp.Expr) -> exp.Expr:
    """RATIO_TO_REPORT(x) OVER (..): x over the window's total; CONDITIONAL_TRUE_EVENT(c) OVER
    (.. ORDER BY ..): how many rows so far met the condition."""
    for window in reversed(list(tree.find_all(exp.Window))):
        new = _window_rewrite(window)
        if new is not None:
            if window is tree:
                return new
            window.replace(new)
    return tree
