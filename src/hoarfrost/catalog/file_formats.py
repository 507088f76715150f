"""File formats (CSV, JSON, PARQUET): their options, defaults and checks, as stored with a FILE
FORMAT object, a stage or given inline (``FILE_FORMAT = (TYPE = CSV ...)``).

Options follow Snowflake's CREATE FILE FORMAT page. A format is kept as a plain dict of upper-case
option names to JSON values: the type's defaults overlaid with what was given.
"""

from __future__ import annotations

from typing import Any

from hoarfrost.errors import InvalidValue, UnsupportedFeature
from hoarfrost.sql.ast import Bool, Ident, KeyValues, ListValue, Num, Str, Value

__all__ = [
    "DEFAULTS",
    "TYPES",
    "describe_rows",
    "normalize",
    "option_text",
    "options_json",
    "plain",
]

_COMMON = {"COMPRESSION": "AUTO", "FILE_EXTENSION": None}
_DATES = {"DATE_FORMAT": "AUTO", "TIME_FORMAT": "AUTO", "TIMESTAMP_FORMAT": "AUTO"}
DEFAULTS: dict[str, dict[str, Any]] = {
    "CSV": {
        **_COMMON,
        "RECORD_DELIMITER": "\n",
        "FIELD_DELIMITER": ",",
        "SKIP_HEADER": 0,
        "PARSE_HEADER": False,
        **_DATES,
        "BINARY_FORMAT": "HEX",
        "ESCAPE": "NONE",
        "ESCAPE_UNENCLOSED_FIELD": "\\",
        "TRIM_SPACE": False,
        "FIELD_OPTIONALLY_ENCLOSED_BY": "NONE",
        "NULL_IF": ["\\N"],
        "ERROR_ON_COLUMN_COUNT_MISMATCH": True,
        "REPLACE_INVALID_CHARACTERS": False,
        "EMPTY_FIELD_AS_NULL": True,
        "SKIP_BLANK_LINES": False,
        "SKIP_BYTE_ORDER_MARK": True,
        "ENCODING": "UTF8",
    },
    "JSON": {
        **_COMMON,
        **_DATES,
        "BINARY_FORMAT": "HEX",
        "TRIM_SPACE": False,
        "NULL_IF": [],
        "ENABLE_OCTAL": False,
        "ALLOW_DUPLICATE": False,
        "STRIP_OUTER_ARRAY": False,
        "STRIP_NULL_VALUES": False,
        "REPLACE_INVALID_CHARACTERS": False,
        "IGNORE_UTF8_ERRORS": False,
        "SKIP_BYTE_ORDER_MARK": True,
    },
    "PARQUET": {
        "COMPRESSION": "AUTO",
        "BINARY_AS_TEXT": True,
        "USE_LOGICAL_TYPE": True,
        "USE_VECTORIZED_SCANNER": False,
        "TRIM_SPACE": False,
        "REPLACE_INVALID_CHARACTERS": False,
        "NULL_IF": [],
    },
}
TYPES = tuple(DEFAULTS)
_UNSUPPORTED_TYPES = ("AVRO", "ORC", "XML", "CUSTOM")
_BOOLEAN = {k for d in DEFAULTS.values() for k, v in d.items() if isinstance(v, bool)}
_INTEGER = {"SKIP_HEADER"}
_LISTS = {"NULL_IF"}
_COMPRESSIONS = {
    "AUTO",
    "GZIP",
    "BZ2",
    "BROTLI",
    "ZSTD",
    "DEFLATE",
    "RAW_DEFLATE",
    "NONE",
    "SNAPPY",
    "LZO",
}
# Options that only name the format, not its contents.
_NAMING = {"TYPE", "FORMAT_NAME", "COMMENT"}


def normalize(options: dict[str, Any], base: dict[str, Any] | None = None) -> dict[str, Any]:
    """A complete format: ``base`` (or the type's defaults) overlaid with ``options``."""
    given = {k.upper(): v for k, v in options.items() if k.upper() not in ("FORMAT_NAME",)}
    kind = str(given.pop("TYPE", (base or {}).get("TYPE", "CSV"))).upper()
    given.pop("COMMENT", None)
    if kind in _UNSUPPORTED_TYPES:
        raise UnsupportedFeature(
            f"File format TYPE = {kind} is not supported by hoarfrost; use CSV, JSON or PARQUET."
        )
    if kind not in DEFAULTS:
        raise InvalidValue(
            f"SQL compilation error:\ninvalid value ['{kind}'] for parameter 'TYPE'",
            errno=1008,
            sqlstate="22023",
        )
    keep = base if base is not None and base.get("TYPE") == kind else {}
    out: dict[str, Any] = {"TYPE": kind, **DEFAULTS[kind], **{k: v for k, v in keep.items()}}
    for key, value in given.items():
        if key not in DEFAULTS[kind]:
            raise InvalidValue(
                f"SQL compilation error:\ninvalid property '{key}' for FILE_FORMAT of TYPE {kind}",
                errno=1008,
                sqlstate="22023",
            )
        out[key] = _checked(key, value)
    return out


def _checked(key: str, value: Any) -> Any:
    if key in _BOOLEAN:
        if isinstance(value, bool):
            return value
        if str(value).upper() in ("TRUE", "FALSE"):
            return str(value).upper() == "TRUE"
        raise _bad(key, value)
    if key in _INTEGER:
        if isinstance(value, int) and value >= 0:
            return value
        raise _bad(key, value)
    if key in _LISTS:
        items = value if isinstance(value, list) else [value]
        return [str(v) for v in items]
    if key == "COMPRESSION":
        text = str(value).upper()
        if text not in _COMPRESSIONS:
            raise _bad(key, value)
        return text
    if key == "ENCODING" and str(value).upper().replace("-", "") not in ("UTF8",):
        raise UnsupportedFeature(f"ENCODING = '{value}' is not supported; hoarfrost reads UTF8.")
    if key in ("FIELD_OPTIONALLY_ENCLOSED_BY", "ESCAPE", "ESCAPE_UNENCLOSED_FIELD"):
        text = str(value)
        return "NONE" if text.upper() == "NONE" else text
    return value if value is None else str(value)


def _bad(key: str, value: Any) -> InvalidValue:
    return InvalidValue(
        f"SQL compilation error:\ninvalid value [{value}] for parameter '{key}'",
        errno=1008,
        sqlstate="22023",
    )


def option_text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if value is None:
        return "NONE"
    if isinstance(value, list):
        return "[" + ", ".join(option_text(v) for v in value) + "]"
    return str(value).replace("\n", "\\n")


def describe_rows(fmt: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """DESCRIBE FILE FORMAT rows: property, type, value, default."""
    kind = fmt.get("TYPE", "CSV")
    rows = [("TYPE", "String", kind, "CSV")]
    for key, default in DEFAULTS[kind].items():
        value = fmt.get(key, default)
        kind_name = (
            "Boolean"
            if isinstance(default, bool)
            else "List"
            if key in _LISTS
            else ("Integer" if key in _INTEGER else "String")
        )
        rows.append((key, kind_name, option_text(value), option_text(default)))
    return rows


def options_json(value: Value | None, prop: str) -> dict[str, Any]:
    """``(TYPE = CSV SKIP_HEADER = 1)`` as plain JSON values, keys upper-cased."""
    if value is None:
        return {}
    if not isinstance(value, KeyValues):
        raise InvalidValue(
            f"SQL compilation error:\n{prop} takes a list of options in parentheses, e.g. "
            f"{prop} = (TYPE = CSV)."
        )
    return {key.upper(): plain(item) for key, item in value.pairs.items()}


def plain(value: Value) -> Any:
    if isinstance(value, Str):
        return value.value
    if isinstance(value, Num):
        return int(value.text) if value.text.lstrip("-").isdigit() else float(value.text)
    if isinstance(value, Bool):
        return value.value
    if isinstance(value, Ident):
        return ".".join(value.name.parts)
    if isinstance(value, ListValue):
        return [plain(v) for v in value.items]
    return options_json(value, "option")
