"""Small pure AST transforms that close the gaps between sqlglot's Snowflake -> DuckDB output
and what DuckDB actually runs with Snowflake's meaning.

Every transform takes a sqlglot tree (already parsed with ``read="snowflake"`` and normalised
with Snowflake identifier rules) and returns the transformed tree; none looks at anything but its
argument. :data:`TRANSFORMS` is the ordered pipeline :func:`hoarfrost.sql.translate.translate`
applies; order matters only where a comment says so.

The semi-structured model: VARIANT, OBJECT and ARRAY are all DuckDB ``JSON``. Every Snowflake
constructor of such a value (PARSE_JSON, OBJECT_CONSTRUCT, ARRAY_CONSTRUCT, ARRAY_AGG, SPLIT,
TO_VARIANT, ``::VARIANT``) produces JSON, so every accessor (``v:a.b``, ``v[0]``, GET, GET_PATH,
ARRAY_SIZE, FLATTEN) can be a JSON function without knowing column types, and results reach the
client as JSON text, which is what the Snowflake connectors return for these types.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlglot
from sqlglot import exp

from hoarfrost.sql.transforms_ddl import sequence_calls, storage_types
from hoarfrost.sql.transforms_functions import EARLY_FUNCTION_TRANSFORMS, FUNCTION_TRANSFORMS
from hoarfrost.sql.transforms_temp import qualified_temporary_tables

Transform = Callable[[exp.Expr], exp.Expr]

_SEMI_STRUCTURED = {exp.DataType.Type.VARIANT, exp.DataType.Type.OBJECT, exp.DataType.Type.ARRAY}
# Snowflake's INT, INTEGER, SMALLINT, TINYINT and BYTEINT are all NUMBER(38,0); DuckDB's INTEGER
# is 32 bits and would overflow where Snowflake does not. BIGINT is the practical middle ground
# (fetched as a Python int, fast arithmetic).
_SMALL_INTS = {
    exp.DataType.Type.INT,
    exp.DataType.Type.SMALLINT,
    exp.DataType.Type.TINYINT,
}
_TEXT_TYPES = {exp.DataType.Type.TEXT, exp.DataType.Type.VARCHAR, exp.DataType.Type.CHAR}
_DAY_OR_LONGER = {"DAY", "DAYS", "D", "WEEK", "WEEKS", "W", "MONTH", "MONTHS", "MM", "MON"}
_DAY_OR_LONGER |= {"YEAR", "YEARS", "Y", "YY", "YYYY", "QUARTER", "QUARTERS", "Q"}


def _func(name: str, *args: exp.Expr) -> exp.Anonymous:
    return exp.Anonymous(this=name, expressions=list(args))


def _to_json(node: exp.Expr) -> exp.Expr:
    return _func("to_json", node)


def _json_type() -> exp.DataType:
    return exp.DataType.build("JSON")


def _rewrite(tree: exp.Expr, fix: Callable[[exp.Expr], exp.Expr]) -> exp.Expr:
    """Apply ``fix`` to every node, children before parents, so nested constructs (an ARRAY in an
    OBJECT, ``v[0][1]``) are rewritten before the node that contains them."""
    for node in reversed(list(tree.walk(bfs=False))):
        new = fix(node)
        if new is not node:
            if node is tree:
                return new
            node.replace(new)
    return tree


def _duckdb(sql: str) -> exp.Expr:
    """Parse a DuckDB-dialect fragment we write ourselves (templates, never user text)."""
    return sqlglot.parse_one(sql, read="duckdb")


# --- types -----------------------------------------------------------------------------------


def casts_to_variant(tree: exp.Expr) -> exp.Expr:
    """``x::VARIANT`` / ``::OBJECT`` / ``::ARRAY`` and TO_VARIANT(x) become ``to_json(x)``.

    A plain CAST(... AS JSON) would *parse* a string ('abc' is invalid JSON), while Snowflake
    wraps it as a string value. Must run before :func:`semi_structured_types`.
    """

    def fix(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.ToVariant):
            return _to_json(node.this)
        if isinstance(node, exp.Cast) and node.to.this in _SEMI_STRUCTURED:
            return _to_json(node.this)
        return node

    return _rewrite(tree, fix)


def semi_structured_types(tree: exp.Expr) -> exp.Expr:
    """VARIANT, OBJECT and ARRAY columns are stored as DuckDB JSON (see module docstring)."""

    def fix(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.DataType) and node.this in _SEMI_STRUCTURED:
            return _json_type()
        return node

    return _rewrite(tree, fix)


def integer_types(tree: exp.Expr) -> exp.Expr:
    """INT-family types become BIGINT (Snowflake integers are NUMBER(38,0), never 32 bits)."""

    def fix(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.DataType) and node.this in _SMALL_INTS:
            return exp.DataType.build("BIGINT")
        return node

    return _rewrite(tree, fix)


# --- semi-structured constructors ------------------------------------------------------------


def variant_constructors(tree: exp.Expr) -> exp.Expr:
    """OBJECT_CONSTRUCT -> json_object, ARRAY_CONSTRUCT -> json_array, SPLIT -> JSON array.

    sqlglot renders them as DuckDB STRUCT / LIST literals, which need constant keys and one
    element type; Snowflake's are heterogeneous, so JSON is the faithful target.
    """

    def fix(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Struct):
            args: list[exp.Expr] = []
            for item in node.expressions:
                if isinstance(item, exp.PropertyEQ):
                    key = item.this
                    if isinstance(key, exp.Column) and not key.table:
                        key = exp.Literal.string(key.name)
                    args += [key, item.expression]
            return _func("json_object", *args)
        if isinstance(node, exp.Array):
            return _func("json_array", *node.expressions)
        if isinstance(node, exp.Split):
            return _to_json(_func("string_split", node.this, node.expression))
        return node

    return _rewrite(tree, fix)


def array_agg_to_json(tree: exp.Expr) -> exp.Expr:
    """ARRAY_AGG returns a Snowflake ARRAY, i.e. JSON here: wrap the whole aggregate call.

    The wrapper goes around the outermost of WITHIN GROUP / FILTER / OVER so that DuckDB still
    sees one aggregate (or window) call inside ``to_json``.
    """
    for agg in list(tree.find_all(exp.ArrayAgg)):
        top: exp.Expr = agg
        while isinstance(top.parent, exp.WithinGroup | exp.Filter | exp.Window) and (
            top.parent.this is top
        ):
            top = top.parent
        if top is tree:
            return _to_json(top)
        top.replace(_to_json(top.copy()))
    return tree


# --- semi-structured access ------------------------------------------------------------------


def _path_step(index: exp.Expr) -> exp.Expr | None:
    if isinstance(index, exp.Literal) and index.is_string:
        return exp.JSONPathKey(this=index.this)
    if isinstance(index, exp.Literal) and index.is_int:
        return exp.JSONPathSubscript(this=int(index.this))
    return None


def _extract(base: exp.Expr, index: exp.Expr) -> exp.Expr:
    """``base[index]`` as a JSON extraction, extending an existing path when there is one."""
    step = _path_step(index)
    if step is None:
        # A computed index: build the JSON path at run time (array subscripts are the common case).
        path = exp.DPipe(
            this=exp.DPipe(this=exp.Literal.string("$["), expression=exp.cast(index, "VARCHAR")),
            expression=exp.Literal.string("]"),
        )
        return _func("json_extract", _to_json(base), path)
    if isinstance(base, exp.JSONExtract) and isinstance(base.expression, exp.JSONPath):
        base.expression.append("expressions", step)
        return base
    return exp.JSONExtract(
        this=base, expression=exp.JSONPath(expressions=[exp.JSONPathRoot(), step])
    )


def variant_access(tree: exp.Expr) -> exp.Expr:
    """``v[0]``, ``v['k']`` and GET(v, i) are JSON extractions (arrays are JSON, 0-based)."""

    def fix(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Bracket) and len(node.expressions) == 1:
            return _extract(node.this, node.expressions[0])
        if isinstance(node, exp.GetExtract):
            return _extract(node.this, node.expression)
        return node

    return _rewrite(tree, fix)


def array_size(tree: exp.Expr) -> exp.Expr:
    """ARRAY_SIZE(a) -> json_array_length; to_json is a no-op on JSON and converts lists."""

    def fix(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.ArraySize):
            # NULL for anything but an array (an OBJECT has no size), as the reference says
            value = _to_json(node.this)
            is_array = exp.EQ(
                this=_func("json_type", value.copy()), expression=exp.Literal.string("ARRAY")
            )
            return exp.If(this=is_array, true=_func("json_array_length", value))
        return node

    return _rewrite(tree, fix)


# Snowflake's TYPEOF names for what DuckDB's json_type reports. JSON cannot tell 1.5 (DECIMAL in
# Snowflake) from 1e3 (DOUBLE); DECIMAL is the common case.
_TYPEOF_NAMES = {
    "UBIGINT": "INTEGER",
    "BIGINT": "INTEGER",
    "DOUBLE": "DECIMAL",
    "VARCHAR": "VARCHAR",
    "BOOLEAN": "BOOLEAN",
    "OBJECT": "OBJECT",
    "ARRAY": "ARRAY",
    "NULL": "NULL_VALUE",
}


def typeof(tree: exp.Expr) -> exp.Expr:
    """TYPEOF(variant) -> Snowflake's type names from DuckDB's json_type."""

    def fix(node: exp.Expr) -> exp.Expr:
        if not isinstance(node, exp.Typeof):
            return node
        case = exp.Case(this=_func("json_type", _to_json(node.this)))
        for duck, snow in _TYPEOF_NAMES.items():
            case = case.when(exp.Literal.string(duck), exp.Literal.string(snow))
        return case

    return _rewrite(tree, fix)


def _scalar(node: exp.JSONExtract) -> exp.JSONExtractScalar:
    return exp.JSONExtractScalar(this=node.this, expression=node.expression)


_JSON_FUNCTIONS = {"to_json", "json_object", "json_array", "json_extract"}


def _is_json(node: exp.Expr) -> bool:
    """Visibly a JSON value: one of our constructors or PARSE_JSON."""
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower() in _JSON_FUNCTIONS
    return isinstance(node, exp.ParseJSON)


def _unquoted_text(column: exp.Expr, to: exp.DataType) -> exp.Expr:
    """CAST(col AS VARCHAR) that drops JSON quotes when ``col`` turns out to be JSON.

    Column types are unknown here; DuckDB folds ``typeof`` at bind time, so a non-JSON column
    pays nothing.
    """
    is_json = exp.EQ(this=_func("typeof", column.copy()), expression=exp.Literal.string("JSON"))
    unquoted = _func(
        "json_extract_string", exp.cast(column.copy(), "VARCHAR"), exp.Literal.string("$")
    )
    return exp.Case().when(is_json, exp.cast(unquoted, to)).else_(exp.cast(column, to))


def variant_casts(tree: exp.Expr) -> exp.Expr:
    """``v:x::string`` must give ``x``, not ``"x"``: cast the unquoted scalar (``->>``).

    DuckDB casts JSON to numbers, booleans and dates itself; text is the case that differs, and
    going through ``->>`` is right for those too ('"1"' and '1' both become 1). A bare column
    cast to text (FLATTEN's VALUE, a VARIANT column) gets a type check at bind time.
    """

    def fix(node: exp.Expr) -> exp.Expr:
        if not isinstance(node, exp.Cast) or node.to.this == exp.DataType.Type.JSON:
            return node
        if isinstance(node.this, exp.JSONExtract):
            node.set("this", _scalar(node.this))
        elif node.to.this not in _TEXT_TYPES:
            return node
        elif _is_json(node.this):
            unquoted = _func("json_extract_string", node.this, exp.Literal.string("$"))
            node.set("this", unquoted)
        elif isinstance(node.this, exp.Column):
            return _unquoted_text(node.this, node.to)
        return node

    return _rewrite(tree, fix)


def variant_comparisons(tree: exp.Expr) -> exp.Expr:
    """``v:a = 'x'`` compares the variant's string value, as Snowflake does, not JSON text."""

    def fix(node: exp.Expr) -> exp.Expr:
        if not isinstance(node, exp.EQ | exp.NEQ | exp.LT | exp.LTE | exp.GT | exp.GTE):
            return node
        left, right = node.this, node.expression
        if isinstance(left, exp.JSONExtract) and isinstance(right, exp.Literal) and right.is_string:
            node.set("this", _scalar(left))
        if isinstance(right, exp.JSONExtract) and isinstance(left, exp.Literal) and left.is_string:
            node.set("expression", _scalar(right))
        return node

    return _rewrite(tree, fix)


# --- FLATTEN ---------------------------------------------------------------------------------

# Snowflake FLATTEN's output columns over DuckDB's json_each, reading straight from json_each so
# that elements keep their order. SEQ has no faithful equivalent without the outer row's identity,
# so it is NULL. json_each yields one row (fullkey '$') for a scalar, FLATTEN none; an empty input
# yields none either, unless OUTER => TRUE, which keeps one row of NULLs.
_FLATTEN_INPUT = "__flatten_input__"
_FLATTEN_COLUMNS = f"""
SELECT CAST(1 AS BIGINT) AS "SEQ",
  CASE WHEN NOT starts_with(_e.fullkey, '$[') THEN _e.key END AS "KEY",
  ltrim(substr(_e.fullkey, 2), '.') AS "PATH",
  CASE WHEN starts_with(_e.fullkey, '$[') THEN CAST(_e.key AS BIGINT) END AS "INDEX",
  _e.value AS "VALUE",
  {_FLATTEN_INPUT} AS "THIS"
"""
# Without OUTER: DuckDB's lateral json_each comes back in reverse order, so the elements are
# unnested in a projection (which keeps their order): an array's elements with their indexes, an
# object's values with their keys.
_FLATTEN_UNNESTED = f"""
SELECT CAST(1 AS BIGINT) AS "SEQ", _u.k AS "KEY",
  CASE WHEN _u.i IS NULL THEN _u.k ELSE '[' || _u.i || ']' END AS "PATH",
  _u.i AS "INDEX", _u.v AS "VALUE", {_FLATTEN_INPUT} AS "THIS"
FROM (SELECT
  unnest(CASE WHEN json_type({_FLATTEN_INPUT}) = 'ARRAY'
    THEN range(CAST(json_array_length({_FLATTEN_INPUT}) AS BIGINT)) END) AS i,
  unnest(CASE WHEN json_type({_FLATTEN_INPUT}) = 'OBJECT'
    THEN json_keys({_FLATTEN_INPUT}) END) AS k,
  unnest(CASE WHEN json_type({_FLATTEN_INPUT}) = 'ARRAY' THEN CAST({_FLATTEN_INPUT} AS JSON[])
    ELSE list_transform(json_keys({_FLATTEN_INPUT}),
      lambda kk: json_extract({_FLATTEN_INPUT}, '$."' || kk || '"')) END) AS v) AS _u
"""
_FLATTEN = {
    False: _FLATTEN_UNNESTED,
    True: f"""{_FLATTEN_COLUMNS} FROM (SELECT 1) AS _one
      LEFT JOIN json_each({_FLATTEN_INPUT}) AS _e ON _e.fullkey <> '$'""",
}


def _flatten_args(explode: exp.Explode) -> dict[str, exp.Expr]:
    args: dict[str, exp.Expr] = {}
    for i, arg in enumerate([explode.this, *explode.expressions]):
        if isinstance(arg, exp.Kwarg):
            args[arg.this.name.lower()] = arg.expression
        elif i == 0:
            args["input"] = arg
    return args


def _flatten_subquery(explode: exp.Explode, alias: exp.TableAlias | None) -> exp.Subquery:
    args = _flatten_args(explode)
    outer = args.get("outer")
    is_outer = isinstance(outer, exp.Boolean) and outer.this
    select = _duckdb(_FLATTEN[bool(is_outer)])
    source: exp.Expr = _to_json(args["input"])
    path = args.get("path")
    if isinstance(path, exp.Literal):
        source = exp.JSONExtract(this=source, expression=exp.Literal.string(f"$.{path.this}"))
    for placeholder in list(select.find_all(exp.Column)):
        if placeholder.name == _FLATTEN_INPUT:
            placeholder.replace(source.copy())
    name = alias.this if alias is not None and alias.this else exp.to_identifier("FLATTEN")
    # AS f(seq, key, path, index, value, this) renames the columns, as many as it names
    columns = [c.copy() for c in alias.columns] if alias is not None else []
    return exp.Subquery(this=select, alias=exp.TableAlias(this=name, columns=columns))


def flatten(tree: exp.Expr) -> exp.Expr:
    """LATERAL FLATTEN(input => ...) and TABLE(FLATTEN(...)) -> a correlated json_each subquery.

    DuckDB makes a FROM-clause subquery that references outer columns a lateral join by itself.
    """

    def fix(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Lateral | exp.TableFromRows) and isinstance(node.this, exp.Explode):
            return _flatten_subquery(node.this, node.args.get("alias"))
        return node

    return _rewrite(tree, fix)


# --- positional columns over VALUES ----------------------------------------------------------


def _values_in_from(select: exp.Select) -> exp.Values | None:
    source = select.args.get("from_")
    node = source.this if source is not None else None
    if isinstance(node, exp.Subquery) and isinstance(node.this, exp.Values):
        node = node.this
    return node if isinstance(node, exp.Values) else None


def values_columns(tree: exp.Expr) -> exp.Expr:
    """VALUES columns are COLUMN1..n in Snowflake (``col0`` in DuckDB), and ``$n`` names them.

    Snowpark sends ``SELECT $1 AS "A", $2 AS "B" FROM VALUES (...)``.
    """
    for select in list(tree.find_all(exp.Select)):
        values = _values_in_from(select)
        if values is None or not values.expressions:
            continue
        width = len(values.expressions[0].expressions)
        alias = values.args.get("alias") or exp.TableAlias(
            this=exp.to_identifier("VALUES", quoted=True)
        )
        if not alias.columns:
            names = [exp.to_identifier(f"COLUMN{i + 1}") for i in range(width)]
            alias.set("columns", names)
        values.set("alias", alias)
        for param in list(select.find_all(exp.Parameter)):
            if isinstance(param.this, exp.Literal) and param.this.is_int:
                param.replace(exp.column(alias.columns[int(param.this.this) - 1].name, quoted=True))
    return tree


# --- ORDER BY ALL ----------------------------------------------------------------------------


def order_by_all(tree: exp.Expr) -> exp.Expr:
    """``ORDER BY ALL [ASC | DESC] [NULLS ...]``: by every item of the select list, left to
    right. ALL is reserved in Snowflake, so an unquoted ``ALL`` key is never a column; sqlglot
    reads it as one, DuckDB has the same clause."""
    for order in tree.find_all(exp.Order):
        if len(order.expressions) != 1:
            continue
        key = order.expressions[0].this
        if (
            isinstance(key, exp.Column)
            and not key.table
            and isinstance(key.this, exp.Identifier)
            and not key.this.quoted
            and key.name.upper() == "ALL"
        ):
            key.replace(exp.var("ALL"))
    return tree


# --- dates -----------------------------------------------------------------------------------


def _is_date(node: exp.Expr) -> bool:
    if isinstance(node, exp.Cast | exp.TryCast):
        return node.to.this == exp.DataType.Type.DATE
    return isinstance(node, exp.CurrentDate | exp.TsOrDsToDate | exp.StrToDate | exp.Date)


def dateadd_keeps_dates(tree: exp.Expr) -> exp.Expr:
    """DATEADD(day, n, <date>) is a DATE in Snowflake; DuckDB's date + interval is a TIMESTAMP.

    Only applies where the argument is visibly a date (a cast, TO_DATE, CURRENT_DATE); a DATE
    column cannot be told apart here.
    """

    def fix(node: exp.Expr) -> exp.Expr:
        if not isinstance(node, exp.DateAdd) or not _is_date(node.this):
            return node
        unit = node.args.get("unit")
        if unit is None or unit.name.upper() not in _DAY_OR_LONGER:
            return node
        return exp.cast(node, "DATE")

    return _rewrite(tree, fix)


# --- INFORMATION_SCHEMA ----------------------------------------------------------------------

# DuckDB keeps one information_schema for all attached databases (in the ``system`` catalog);
# Snowflake has one per database. Each view is DuckDB's, filtered to the database the name
# designates, with Snowflake's column names and type names. DuckDB's own ``main`` schema of every
# attached database is not a Snowflake schema and is hidden.
_SNOWFLAKE_TYPE = """CASE
  WHEN c.data_type IN ('TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT', 'UTINYINT',
    'USMALLINT', 'UINTEGER', 'UBIGINT', 'UHUGEINT') OR c.data_type LIKE 'DECIMAL%' THEN 'NUMBER'
  WHEN c.data_type = 'VARCHAR' THEN 'TEXT'
  WHEN c.data_type IN ('DOUBLE', 'FLOAT', 'REAL') THEN 'FLOAT'
  WHEN c.data_type = 'TIMESTAMP' THEN 'TIMESTAMP_NTZ'
  WHEN c.data_type = 'TIMESTAMP WITH TIME ZONE' THEN 'TIMESTAMP_TZ'
  WHEN c.data_type = 'BLOB' THEN 'BINARY'
  WHEN c.data_type = 'JSON' THEN 'VARIANT'
  ELSE c.data_type END"""

_INFORMATION_SCHEMA = {
    "TABLES": """
SELECT t.table_catalog AS "TABLE_CATALOG", t.table_schema AS "TABLE_SCHEMA",
  t.table_name AS "TABLE_NAME", 'ACCOUNTADMIN' AS "TABLE_OWNER", t.table_type AS "TABLE_TYPE",
  'NO' AS "IS_TRANSIENT", CAST(NULL AS VARCHAR) AS "CLUSTERING_KEY",
  d.estimated_size AS "ROW_COUNT", CAST(NULL AS BIGINT) AS "BYTES", 1 AS "RETENTION_TIME",
  CAST(NULL AS TIMESTAMPTZ) AS "CREATED", CAST(NULL AS TIMESTAMPTZ) AS "LAST_ALTERED",
  t.table_comment AS "COMMENT"
FROM system.information_schema.tables AS t
LEFT JOIN duckdb_tables() AS d ON d.database_name = t.table_catalog
  AND d.schema_name = t.table_schema AND d.table_name = t.table_name
WHERE t.table_catalog = {catalog} AND t.table_schema <> 'main'""",
    "COLUMNS": f"""
SELECT c.table_catalog AS "TABLE_CATALOG", c.table_schema AS "TABLE_SCHEMA",
  c.table_name AS "TABLE_NAME", c.column_name AS "COLUMN_NAME",
  c.ordinal_position AS "ORDINAL_POSITION", c.column_default AS "COLUMN_DEFAULT",
  c.is_nullable AS "IS_NULLABLE", {_SNOWFLAKE_TYPE} AS "DATA_TYPE",
  CASE WHEN c.data_type = 'VARCHAR' THEN 16777216 END AS "CHARACTER_MAXIMUM_LENGTH",
  CASE WHEN c.data_type = 'VARCHAR' THEN 16777216 END AS "CHARACTER_OCTET_LENGTH",
  CASE WHEN c.data_type LIKE 'DECIMAL%' THEN c.numeric_precision
    WHEN c.data_type LIKE '%INT%' THEN 38 END AS "NUMERIC_PRECISION",
  CASE WHEN c.data_type LIKE 'DECIMAL%' OR c.data_type LIKE '%INT%' THEN 10 END
    AS "NUMERIC_PRECISION_RADIX",
  CASE WHEN c.data_type LIKE 'DECIMAL%' THEN c.numeric_scale
    WHEN c.data_type LIKE '%INT%' THEN 0 END AS "NUMERIC_SCALE",
  'NO' AS "IS_IDENTITY", c.column_comment AS "COMMENT"
FROM system.information_schema.columns AS c
WHERE c.table_catalog = {{catalog}} AND c.table_schema <> 'main'""",
    "SCHEMATA": """
SELECT s.catalog_name AS "CATALOG_NAME", s.schema_name AS "SCHEMA_NAME",
  'ACCOUNTADMIN' AS "SCHEMA_OWNER", 'NO' AS "IS_TRANSIENT", 'NO' AS "IS_MANAGED_ACCESS",
  1 AS "RETENTION_TIME", CAST(NULL AS TIMESTAMPTZ) AS "CREATED",
  CAST(NULL AS TIMESTAMPTZ) AS "LAST_ALTERED", CAST(NULL AS VARCHAR) AS "COMMENT"
FROM system.information_schema.schemata AS s
WHERE s.catalog_name = {catalog} AND s.schema_name <> 'main'
UNION ALL
SELECT {catalog}, 'INFORMATION_SCHEMA', 'ACCOUNTADMIN', 'NO', 'NO', 1, NULL, NULL,
  'Views describing the contents of schemas in this database'""",
    "VIEWS": """
SELECT v.database_name AS "TABLE_CATALOG", v.schema_name AS "TABLE_SCHEMA",
  v.view_name AS "TABLE_NAME", 'ACCOUNTADMIN' AS "TABLE_OWNER", v.sql AS "VIEW_DEFINITION",
  'NONE' AS "CHECK_OPTION", 'NO' AS "IS_UPDATABLE", 'NO' AS "INSERTABLE_INTO",
  'NO' AS "IS_SECURE", CAST(NULL AS TIMESTAMPTZ) AS "CREATED",
  CAST(NULL AS TIMESTAMPTZ) AS "LAST_ALTERED", v.comment AS "COMMENT"
FROM duckdb_views() AS v
WHERE v.database_name = {catalog} AND v.schema_name <> 'main' AND NOT v.internal""",
}


def _information_schema_view(table: exp.Table) -> exp.Subquery | None:
    template = _INFORMATION_SCHEMA.get(table.name)
    if table.db != "INFORMATION_SCHEMA" or template is None:
        return None
    # The database a 3-part name designates, else the session's (the engine's USE db.schema).
    catalog = exp.Literal.string(table.catalog) if table.catalog else _func("current_database")
    select = _duckdb(template.format(catalog=catalog.sql("duckdb")))
    alias = table.args.get("alias") or exp.TableAlias(this=exp.to_identifier(table.name))
    return exp.Subquery(this=select, alias=alias)


def information_schema(tree: exp.Expr) -> exp.Expr:
    """``[db.]INFORMATION_SCHEMA.TABLES/COLUMNS/SCHEMATA/VIEWS`` -> Snowflake-shaped subqueries."""

    def fix(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Table):
            return _information_schema_view(node) or node
        return node

    return _rewrite(tree, fix)


# --- niladic date/time keywords ---------------------------------------------------------------


def current_time_functions(tree: exp.Expr) -> exp.Expr:
    """CURRENT_DATE / CURRENT_TIMESTAMP / SYSDATE() as DuckDB function calls.

    DuckDB resolves a bare ``CURRENT_DATE`` to a select-list alias of that name, and Snowflake
    names the column ``CURRENT_DATE``: ``select current_date`` would fail to bind.
    """

    def fix(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.CurrentDate) and not node.this:
            return _func("current_date")
        if isinstance(node, exp.CurrentTimestamp) and not node.this:
            now = _func("get_current_timestamp")
            # SYSDATE is the current UTC time without a time zone (TIMESTAMP_NTZ).
            return (
                _func("timezone", exp.Literal.string("UTC"), now)
                if node.args.get("sysdate")
                else now
            )
        return node

    return _rewrite(tree, fix)


# --- pipeline --------------------------------------------------------------------------------

TRANSFORMS: list[Transform] = [
    *EARLY_FUNCTION_TRANSFORMS,
    casts_to_variant,  # before semi_structured_types, which would turn them into CAST AS JSON
    semi_structured_types,
    integer_types,
    variant_access,  # before variant_constructors: GET(ARRAY_CONSTRUCT(..), 0) sees the Array
    variant_constructors,
    array_agg_to_json,
    array_size,
    typeof,
    variant_casts,  # after variant_access, so v[0]::string is a JSONExtract
    variant_comparisons,
    flatten,
    values_columns,
    order_by_all,
    dateadd_keeps_dates,
    information_schema,
    current_time_functions,
    sequence_calls,
    storage_types,
    *FUNCTION_TRANSFORMS,
    qualified_temporary_tables,
]
