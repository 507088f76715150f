"""The session parameters hoarfrost knows (reference: "Parameters"), with their defaults, as
ALTER SESSION sets them and SHOW PARAMETERS [IN SESSION] shows them."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SESSION_PARAMETERS", "SessionParameter"]


@dataclass(frozen=True)
class SessionParameter:
    name: str
    default: str
    type: str  # STRING | BOOLEAN | NUMBER
    description: str


def _p(name: str, default: str, type_: str, description: str) -> SessionParameter:
    return SessionParameter(name, default, type_, description)


SESSION_PARAMETERS: dict[str, SessionParameter] = {
    p.name: p
    for p in (
        _p("AUTOCOMMIT", "true", "BOOLEAN", "Whether each statement commits on its own."),
        _p("BINARY_INPUT_FORMAT", "HEX", "STRING", "Input format for binary values."),
        _p("BINARY_OUTPUT_FORMAT", "HEX", "STRING", "Display format for binary values."),
        _p("CLIENT_SESSION_KEEP_ALIVE", "false", "BOOLEAN", "Keep the session alive."),
        _p("DATE_INPUT_FORMAT", "AUTO", "STRING", "Input format for dates."),
        _p("DATE_OUTPUT_FORMAT", "YYYY-MM-DD", "STRING", "Display format for dates."),
        _p("ERROR_ON_NONDETERMINISTIC_MERGE", "true", "BOOLEAN", "MERGE joins many rows."),
        _p("ERROR_ON_NONDETERMINISTIC_UPDATE", "false", "BOOLEAN", "UPDATE joins many rows."),
        _p("JDBC_QUERY_RESULT_FORMAT", "ARROW", "STRING", "Result format for JDBC."),
        _p("JSON_INDENT", "2", "NUMBER", "Indentation of JSON output."),
        _p("LOCK_TIMEOUT", "43200", "NUMBER", "Seconds to wait for a lock."),
        _p("MULTI_STATEMENT_COUNT", "1", "NUMBER", "Statements a request may hold."),
        _p("PYTHON_CONNECTOR_QUERY_RESULT_FORMAT", "ARROW", "STRING", "Result format."),
        _p("QUERY_TAG", "", "STRING", "A string to tag the session's queries with."),
        _p("QUOTED_IDENTIFIERS_IGNORE_CASE", "false", "BOOLEAN", "Quoted names fold case."),
        _p("ROWS_PER_RESULTSET", "0", "NUMBER", "Most rows a result set holds (0: no limit)."),
        _p("STATEMENT_TIMEOUT_IN_SECONDS", "172800", "NUMBER", "Seconds a statement may run."),
        _p("STRICT_JSON_OUTPUT", "false", "BOOLEAN", "Output strict JSON."),
        _p("TIMESTAMP_DAY_IS_ALWAYS_24H", "false", "BOOLEAN", "DATEADD day is 24 hours."),
        _p("TIMESTAMP_INPUT_FORMAT", "AUTO", "STRING", "Input format for timestamps."),
        _p("TIMESTAMP_LTZ_OUTPUT_FORMAT", "", "STRING", "Display format for TIMESTAMP_LTZ."),
        _p(
            "TIMESTAMP_NTZ_OUTPUT_FORMAT",
            "YYYY-MM-DD HH24:MI:SS.FF3",
            "STRING",
            "Display format for TIMESTAMP_NTZ.",
        ),
        _p(
            "TIMESTAMP_OUTPUT_FORMAT",
            "YYYY-MM-DD HH24:MI:SS.FF3 TZHTZM",
            "STRING",
            "Display format for timestamps.",
        ),
        _p("TIMESTAMP_TYPE_MAPPING", "TIMESTAMP_NTZ", "STRING", "What TIMESTAMP means."),
        _p("TIMESTAMP_TZ_OUTPUT_FORMAT", "", "STRING", "Display format for TIMESTAMP_TZ."),
        _p("TIMEZONE", "UTC", "STRING", "The session's time zone."),
        _p("TIME_INPUT_FORMAT", "AUTO", "STRING", "Input format for times."),
        _p("TIME_OUTPUT_FORMAT", "HH24:MI:SS", "STRING", "Display format for times."),
        _p("TRANSACTION_ABORT_ON_ERROR", "false", "BOOLEAN", "A failed statement aborts."),
        _p("TRANSACTION_DEFAULT_ISOLATION_LEVEL", "READ COMMITTED", "STRING", "Isolation."),
        _p("TWO_DIGIT_CENTURY_START", "1970", "NUMBER", "Century of two-digit years."),
        _p("USE_CACHED_RESULT", "true", "BOOLEAN", "Reuse results of repeated queries."),
        _p("WEEK_OF_YEAR_POLICY", "0", "NUMBER", "How the first week of a year is counted."),
        _p("WEEK_START", "0", "NUMBER", "First day of the week (0: ISO, Monday)."),
    )
}
