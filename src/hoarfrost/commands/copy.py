"""COPY INTO <table>: loading staged files (Snowflake's COPY INTO <table> page).

Per file: the scan (``engine/stage_scan.py``) feeds an INSERT in DuckDB. A plain CSV load reads
the file with the table's own column types and DuckDB's rejected-rows tables, so a bad value is
a rejected row with its line, character and column, and ON_ERROR decides: ABORT_STATEMENT rolls
the whole statement back (the table is exactly as it was) and names the file, line and column;
CONTINUE keeps the good rows; SKIP_FILE[_n[%]] keeps a file only under its error limit.
Parquet and JSON load into one VARIANT column, by column name (MATCH_BY_COLUMN_NAME), or through
a transformation (``FROM (SELECT $1, $2::date ... FROM @st)``), which runs as ordinary SQL over a
scan view. Loaded files are remembered per table (load metadata) and skipped unless FORCE.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import duckdb

from hoarfrost.catalog.file_formats import options_json
from hoarfrost.catalog.load_history import loaded_files, record_loaded
from hoarfrost.catalog.lookup import display_name
from hoarfrost.catalog.props import Props
from hoarfrost.commands.file_formats import resolve_format
from hoarfrost.commands.ordinary import run_ordinary
from hoarfrost.commands.table_access import authorize
from hoarfrost.engine.context import Context, Handler
from hoarfrost.engine.result import Result, column_from_duckdb, rows_result
from hoarfrost.engine.stage_files import StagedFile, clean_path
from hoarfrost.engine.stage_refs import Located, locate
from hoarfrost.engine.stage_scan import csv_width, scan_sql, sql_string
from hoarfrost.errors import DataError, InvalidValue, ObjectNotFound, UnsupportedFeature
from hoarfrost.sql.access import Access
from hoarfrost.sql.ast import CopyInto, Ordinary, StagedSelect
from hoarfrost.sql.tokens import split

__all__ = ["HANDLERS", "scan_view", "target_columns"]

_OPTIONS = {
    "FILES",
    "PATTERN",
    "FILE_FORMAT",
    "ON_ERROR",
    "PURGE",
    "FORCE",
    "MATCH_BY_COLUMN_NAME",
    "VALIDATION_MODE",
    "SIZE_LIMIT",
    "RETURN_FAILED_ONLY",
    "ENFORCE_LENGTH",
    "TRUNCATECOLUMNS",
    "LOAD_UNCERTAIN_FILES",
    "INCLUDE_METADATA",
}
RESULT_COLUMNS = (
    "file",
    "status",
    "rows_parsed",
    "rows_loaded",
    "error_limit",
    "errors_seen",
    "first_error",
    "first_error_line",
    "first_error_character",
    "first_error_column_name",
)
_CONTINUE_HINT = (
    "\n  If you would like to continue loading when an error is encountered, use other values "
    "such as 'SKIP_FILE' or 'CONTINUE' for the ON_ERROR option. For more information on "
    "loading options, please run 'info loading_data' in a SQL client."
)


@dataclass
class Rejected:
    line: int
    character: int
    column: str | None
    kind: str
    record: str
    message: str


@dataclass
class Outcome:
    file: str
    status: str
    parsed: int
    loaded: int
    limit: int
    errors: list[Rejected] = field(default_factory=list)

    def row(self, table: str) -> tuple[Any, ...]:
        first = self.errors[0] if self.errors else None
        return (
            self.file,
            self.status,
            self.parsed,
            self.loaded,
            self.limit,
            len(self.errors),
            _message(first, table)[0] if first else None,
            first.line if first else None,
            first.character if first else None,
            _column_label(table, first) if first else None,
        )


@dataclass(frozen=True)
class OnError:
    mode: str  # ABORT_STATEMENT | CONTINUE | SKIP_FILE
    limit: int = 1
    percent: bool = False

    def limit_for(self, parsed: int) -> int:
        if self.mode == "CONTINUE":
            return parsed
        if self.percent:
            return max(1, math.ceil(parsed * self.limit / 100))
        return self.limit


def _on_error(props: Props) -> OnError:
    value = props.props.get("ON_ERROR")
    if value is None:
        return OnError("ABORT_STATEMENT")
    text = (props.word("ON_ERROR") or "").upper()
    if text in ("ABORT_STATEMENT", "CONTINUE", "SKIP_FILE"):
        return OnError(text)
    match = re.fullmatch(r"SKIP_FILE_(\d+)(%?)", text)
    if match and int(match.group(1)) > 0:
        return OnError("SKIP_FILE", int(match.group(1)), bool(match.group(2)))
    raise InvalidValue(
        f"SQL compilation error:\ninvalid value ['{text}'] for parameter 'ON_ERROR'",
        errno=1008,
        sqlstate="22023",
    )


# -- the table --------------------------------------------------------------------------------
def target_columns(context: Context, table: tuple[str, str, str]) -> list[tuple[str, str]]:
    rows = context.run_internal(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_catalog = ? "
        "AND table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        list(table),
    ).fetchall()
    if not rows:
        raise ObjectNotFound(
            f"SQL compilation error:\nTable '{display_name(*table)}' does not exist or not "
            "authorized."
        )
    return [(r[0], r[1]) for r in rows]


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _table_sql(table: tuple[str, str, str]) -> str:
    return ".".join(_quoted(p) for p in table)


# -- the files --------------------------------------------------------------------------------
def _files(found: Located, props: Props) -> list[StagedFile]:
    names = props.strings("FILES")
    if names is not None:
        wanted = set()
        for name in names:
            rel = "/".join(clean_path(f"{found.path}/{name}" if found.path else name))
            wanted.add(rel)
        return [f for f in found.area.files(found.path) if f.relpath in wanted]
    files = found.area.files(found.path, props.string("PATTERN"))
    if found.path and not found.folder:
        exact = [f for f in files if f.relpath == found.path]
        return exact or [f for f in files if f.relpath.startswith(found.path)]
    return files


# -- COPY INTO <table> ------------------------------------------------------------------------
def copy_into(context: Context, node: CopyInto) -> Result:
    props = Props(node.options, "COPY", _OPTIONS)
    found = locate(context, node.stage)
    base = found.stage.props.get("file_format") if found.stage else None
    given = options_json(node.options.get("FILE_FORMAT"), "FILE_FORMAT")
    if node.select is not None and node.select.alias_options.get("FILE_FORMAT"):
        given = {"FORMAT_NAME": node.select.alias_options["FILE_FORMAT"]}
    fmt = resolve_format(context, given, base or {})
    table = context.qualify(node.table)
    if node.select is None:  # a transformation's INSERT is checked as ordinary SQL
        authorize(context, (Access("INSERT", "TABLE", table),))
    columns = target_columns(context, table)
    if node.columns is not None:
        by_name = dict(columns)
        missing = [c for c in node.columns if c not in by_name]
        if missing:
            raise InvalidValue(
                f"SQL compilation error:\ninvalid identifier '{missing[0]}'",
                errno=904,
                sqlstate="42000",
            )
        columns = [(c, by_name[c]) for c in node.columns]
    files = _files(found, props)
    table_key = ".".join(table)
    # A file is known by its stage (the stage's directory: a new stage of the same name is
    # another stage), its path and its content.
    where = found.area.directory.relative_to(context.engine.stages.directory).as_posix()
    if not props.boolean("FORCE"):
        done = loaded_files(context.catalog, table_key)
        files = [f for f in files if (f"{where}/{f.relpath}", f.md5) not in done]
    on_error = _on_error(props)
    validation = props.word("VALIDATION_MODE")
    loader = _Loader(context, found, fmt, table, columns, props, node.select)
    if validation is not None:
        return loader.validate(files, validation)
    if not files:
        return rows_result(("status",), [("Copy executed with 0 files processed.",)], "DML")
    outcomes = loader.load_all(files, on_error)
    for outcome, staged in zip(outcomes, files, strict=True):
        if outcome.loaded or outcome.status == "LOADED":
            key = f"{where}/{staged.relpath}"
            record_loaded(context.catalog, table_key, key, staged.md5, outcome.loaded)
    if props.boolean("PURGE"):
        for outcome, staged in zip(outcomes, files, strict=True):
            if outcome.status in ("LOADED", "PARTIALLY_LOADED"):
                found.area.remove(staged.relpath)
    result = rows_result(RESULT_COLUMNS, [o.row(table[2]) for o in outcomes], "DML")
    result.rowcount = sum(o.loaded for o in outcomes)
    return result


class _Loader:
    def __init__(
        self,
        context: Context,
        found: Located,
        fmt: dict[str, Any],
        table: tuple[str, str, str],
        columns: list[tuple[str, str]],
        props: Props,
        select: StagedSelect | None,
    ):
        self.context = context
        self.duck = context.duck
        self.found = found
        self.fmt = fmt
        self.table = table
        self.columns = columns
        self.match = (props.word("MATCH_BY_COLUMN_NAME") or "NONE").upper()
        self.select = select
        if self.match not in ("NONE", "CASE_SENSITIVE", "CASE_INSENSITIVE"):
            raise InvalidValue(
                "SQL compilation error:\ninvalid value for MATCH_BY_COLUMN_NAME: expected "
                "CASE_SENSITIVE, CASE_INSENSITIVE or NONE.",
                errno=1008,
                sqlstate="22023",
            )

    # -- one statement ------------------------------------------------------------------------
    def load_all(self, files: list[StagedFile], on_error: OnError) -> list[Outcome]:
        """Fast first: plain INSERTs, no rejected-rows bookkeeping. A bad value fails that
        attempt (and DuckDB's transaction with it); the statement then runs again carefully,
        with rejected rows recorded, and ON_ERROR decides."""
        if self.select is None and self.fmt["TYPE"] == "CSV" and self.match == "NONE":
            own = _begin(self.duck)
            if own:
                try:
                    outcomes = [self._fast(f, on_error) for f in files]
                except duckdb.ConversionException:
                    self.duck.execute("ROLLBACK")
                except duckdb.InvalidInputException:
                    self.duck.execute("ROLLBACK")
                except BaseException:
                    self.duck.execute("ROLLBACK")
                    raise
                else:
                    self.duck.execute("COMMIT")
                    return outcomes
        return self._careful(files, on_error)

    def _fast(self, staged: StagedFile, on_error: OnError) -> Outcome:
        path = self.found.area.path_of(staged.relpath)
        scan = scan_sql(path, self.fmt, columns=self._csv_columns())
        target = f"INSERT INTO {_table_sql(self.table)} ({self._column_list()}) "
        loaded = self._count(self.duck.execute(target + scan))
        name = self.found.area.name_of(staged.relpath)
        return Outcome(name, "LOADED", loaded, loaded, on_error.limit_for(loaded))

    def _careful(self, files: list[StagedFile], on_error: OnError) -> list[Outcome]:
        own = _begin(self.duck)
        try:
            outcomes = [self._load(f, on_error) for f in files]
        except BaseException:
            if own:
                self.duck.execute("ROLLBACK")
            raise
        if own:
            self.duck.execute("COMMIT")
        return outcomes

    def _load(self, staged: StagedFile, on_error: OnError) -> Outcome:
        name = self.found.area.name_of(staged.relpath)
        if self.select is not None:
            loaded = self._transform(staged)
            return Outcome(name, "LOADED", loaded, loaded, on_error.limit_for(loaded))
        if self.fmt["TYPE"] == "CSV" and self.match == "NONE":
            return self._csv(staged, name, on_error)
        loaded = self._insert(self._by_name_select(staged))
        return Outcome(name, "LOADED", loaded, loaded, on_error.limit_for(loaded))

    # -- CSV with rejected rows ---------------------------------------------------------------
    def _csv(self, staged: StagedFile, name: str, on_error: OnError) -> Outcome:
        path = self.found.area.path_of(staged.relpath)
        rejects = "__hf_rejects"
        scan = scan_sql(path, self.fmt, columns=self._csv_columns(), rejects=rejects)
        target = f"INSERT INTO {_table_sql(self.table)} ({self._column_list()}) "
        if on_error.mode == "SKIP_FILE":
            self.duck.execute(f"CREATE OR REPLACE TEMP TABLE __hf_load AS {scan}")
            errors = self._rejected(rejects, staged)
            kept = self.duck.execute("SELECT count(*) FROM __hf_load").fetchone()
            good = int(kept[0]) if kept else 0
            parsed = good + len(errors)
            limit = on_error.limit_for(parsed)
            if len(errors) >= limit:
                self.duck.execute("DROP TABLE __hf_load")
                return Outcome(name, "LOAD_FAILED", parsed, 0, limit, errors)
            self.duck.execute(target + "SELECT * FROM __hf_load")
            self.duck.execute("DROP TABLE __hf_load")
            status = "PARTIALLY_LOADED" if errors else "LOADED"
            return Outcome(name, status, parsed, good, limit, errors)
        loaded = self._count(self.duck.execute(target + scan))
        errors = self._rejected(rejects, staged)
        parsed = loaded + len(errors)
        if errors and on_error.mode == "ABORT_STATEMENT":
            message, errno, sqlstate = _message(errors[0], self.table[2])
            raise DataError(
                message + _where(name, errors[0], self.table[2]) + _CONTINUE_HINT,
                errno=errno,
                sqlstate=sqlstate,
            )
        status = "LOADED" if not errors else ("LOAD_FAILED" if not loaded else "PARTIALLY_LOADED")
        return Outcome(name, status, parsed, loaded, on_error.limit_for(parsed), errors)

    def _csv_columns(self) -> list[tuple[str, str]]:
        return [(f"${i + 1}", t) for i, (_, t) in enumerate(self.columns)]

    def _column_list(self) -> str:
        return ", ".join(_quoted(c) for c, _ in self.columns)

    def _rejected(self, rejects: str, staged: StagedFile) -> list[Rejected]:
        try:
            rows = self.duck.execute(
                "SELECT line, byte_position - line_byte_position + 1, column_name, error_type, "
                f"csv_line, error_message FROM {rejects}_errors ORDER BY line, column_idx"
            ).fetchall()
        except duckdb.CatalogException:
            return []
        finally:
            self.duck.execute(f"DROP TABLE IF EXISTS {rejects}_errors")
            self.duck.execute(f"DROP TABLE IF EXISTS {rejects}_scans")
        seen: dict[int, Rejected] = {}
        for line, char, column, kind, record, message in rows:
            if line not in seen:
                number = int(column[1:]) if column and column.startswith("$") else None
                name = self.columns[number - 1][0] if number else None
                seen[line] = Rejected(int(line), int(char or 1), name, kind, record, message)
        return list(seen.values())

    @staticmethod
    def _count(cursor: duckdb.DuckDBPyConnection) -> int:
        row = cursor.fetchone()
        return int(row[0]) if row else 0

    def _insert(self, select_sql: str) -> int:
        target = f"INSERT INTO {_table_sql(self.table)} ({self._column_list()}) "
        return self._count(self.duck.execute(target + select_sql))

    # -- by column name (Parquet, JSON, CSV with PARSE_HEADER) --------------------------------
    def _by_name_select(self, staged: StagedFile) -> str:
        path = self.found.area.path_of(staged.relpath)
        kind = self.fmt["TYPE"]
        if self.match == "NONE":
            if len(self.columns) == 1 and self.columns[0][1].upper() in ("JSON", "VARCHAR"):
                if kind == "PARQUET":
                    return f"SELECT to_json(s) FROM ({scan_sql(path, self.fmt)}) s"
                return f'SELECT "$1" FROM ({scan_sql(path, self.fmt)})'
            raise UnsupportedFeature(
                f"SQL compilation error:\n{kind} file format can produce one and only one column "
                "of type variant, object, or array. Load data into separate columns using the "
                "MATCH_BY_COLUMN_NAME copy option or copy with transformation.",
                errno=2019,
                sqlstate="0A000",
            )
        scan = scan_sql(path, self.fmt, records=True)
        file_columns = [d[0] for d in self.duck.execute(f"{scan} LIMIT 0").description or []]
        picks = []
        for column, type_ in self.columns:
            source = _matching(column, file_columns, self.match == "CASE_INSENSITIVE")
            picks.append(f"CAST({_quoted(source)} AS {type_})" if source else "NULL")
        return f"SELECT {', '.join(picks)} FROM ({scan})"

    # -- transformations ----------------------------------------------------------------------
    def _transform(self, staged: StagedFile) -> int:
        assert self.select is not None
        scan_view(self.context, self.found, [staged], self.fmt)
        try:
            columns = ", ".join(_quoted(c) for c, _ in self.columns)
            sql = f"INSERT INTO {_table_sql(self.table)} ({columns}) {self.select.sql}"
            result = run_ordinary(self.context, Ordinary(split(sql)[0]))
            return max(result.rowcount, 0)
        finally:
            self.duck.execute(f"DROP VIEW IF EXISTS {self.select.view}")

    # -- VALIDATION_MODE ----------------------------------------------------------------------
    def validate(self, files: list[StagedFile], mode: str) -> Result:
        match = re.fullmatch(r"RETURN_(\d+)_ROWS", mode)
        if match is None and mode not in ("RETURN_ERRORS", "RETURN_ALL_ERRORS"):
            raise InvalidValue(
                f"SQL compilation error:\ninvalid value ['{mode}'] for parameter 'VALIDATION_MODE'",
                errno=1008,
                sqlstate="22023",
            )
        if self.fmt["TYPE"] != "CSV" or self.select is not None or self.match != "NONE":
            raise UnsupportedFeature(
                "VALIDATION_MODE is supported for CSV loads without a transformation."
            )
        if match is not None:
            scans = [
                scan_sql(self.found.area.path_of(f.relpath), self.fmt, columns=self._csv_columns())
                for f in files
            ]
            if not scans:
                return rows_result([c for c, _ in self.columns], [], "SELECT")
            relation = self.duck.sql(f"{' UNION ALL '.join(scans)} LIMIT {int(match.group(1))}")
            table = relation.to_arrow_table().rename_columns([c for c, _ in self.columns])
            described = [
                column_from_duckdb(c, str(t))
                for c, t in zip(table.column_names, relation.types, strict=True)
            ]
            return Result(described, table, rowcount=table.num_rows)
        out = []
        for staged in files:
            path = self.found.area.path_of(staged.relpath)
            scan = scan_sql(path, self.fmt, columns=self._csv_columns(), rejects="__hf_rejects")
            # Materialised: a count alone would skip converting the values.
            self.duck.execute(f"CREATE OR REPLACE TEMP TABLE __hf_validate AS {scan}")
            self.duck.execute("DROP TABLE __hf_validate")
            name = self.found.area.name_of(staged.relpath)
            for error in self._rejected("__hf_rejects", staged):
                message, errno, sqlstate = _message(error, self.table[2])
                out.append(
                    (
                        message,
                        name,
                        error.line,
                        error.character,
                        "conversion",
                        errno,
                        sqlstate,
                        _column_label(self.table[2], error),
                        error.record,
                    )
                )
        names = (
            "ERROR",
            "FILE",
            "LINE",
            "CHARACTER",
            "CATEGORY",
            "CODE",
            "SQL_STATE",
            "COLUMN_NAME",
            "REJECTED_RECORD",
        )
        return rows_result(names, out, "SELECT")


def scan_view(
    context: Context, found: Located, files: list[StagedFile], fmt: dict[str, Any]
) -> None:
    """The temporary view a staged SELECT reads: each file's rows, with METADATA$ columns."""
    parts = []
    for staged in files:
        path = found.area.path_of(staged.relpath)
        if fmt["TYPE"] == "CSV":
            width = csv_width(context.duck, path, fmt)
            columns = [(f"${i + 1}", "VARCHAR") for i in range(width)]
            scan = scan_sql(path, fmt, columns=columns)
            whole = ""
        else:
            # A semi-structured row is also "$1" as a whole; its fields are columns ($1:key).
            scan = scan_sql(path, fmt, records=True)
            whole = 'to_json(s) AS "$1", '
        name = sql_string(found.area.name_of(staged.relpath))
        parts.append(
            f'SELECT s.*, {whole}{name} AS "METADATA$FILENAME", row_number() OVER () AS '
            f'"METADATA$FILE_ROW_NUMBER" FROM ({scan}) s'
        )
    if not parts:
        parts = ['SELECT NULL AS "$1", NULL AS "METADATA$FILENAME" WHERE false']
    context.duck.execute(
        f"CREATE OR REPLACE TEMP VIEW __HF_STAGE_SCAN AS {' UNION ALL BY NAME '.join(parts)}"
    )


def _begin(duck: duckdb.DuckDBPyConnection) -> bool:
    try:
        duck.execute("BEGIN TRANSACTION")
        return True
    except duckdb.TransactionException:
        return False  # the session's own transaction holds the statement


def _matching(column: str, names: list[str], insensitive: bool) -> str | None:
    for name in names:
        if name == column or (insensitive and name.upper() == column.upper()):
            return name
    return None


_VALUE = re.compile(r'Could not convert string "(.*)" to')


def _message(error: Rejected, table: str) -> tuple[str, int, str]:
    """The reference's wording, errno and SQLSTATE for a rejected row."""
    if error.kind in ("TOO MANY COLUMNS", "MISSING COLUMNS"):
        found = re.search(r"Found: (\d+)", error.message)
        expected = re.search(r"Expected Number of Columns: (\d+)", error.message)
        return (
            f"Number of columns in file ({found.group(1) if found else '?'}) does not match that "
            f"of the corresponding table ({expected.group(1) if expected else '?'}), use file "
            "format option error_on_column_count_mismatch=false to ignore this error",
            100080,
            "22000",
        )
    match = _VALUE.search(error.message)
    value = match.group(1) if match else ""
    target = error.message.rpartition(" to ")[2].strip("'\" ").upper()
    if "DATE" in target and "TIMESTAMP" not in target:
        return f"Date '{value}' is not recognized", 100040, "22007"
    if "TIMESTAMP" in target:
        return f"Timestamp '{value}' is not recognized", 100035, "22007"
    if "TIME" in target:
        return f"Time '{value}' is not recognized", 100108, "22007"
    if "BOOL" in target:
        return f"Boolean value '{value}' is not recognized", 100037, "22018"
    return f"Numeric value '{value}' is not recognized", 100038, "22018"


def _column_label(table: str, error: Rejected) -> str | None:
    return f'"{table}"["{error.column}"]' if error.column else None


def _where(name: str, error: Rejected, table: str) -> str:
    text = f"\n  File '{name}', line {error.line}, character {error.character}"
    if error.column:
        text += f"\n  Column {_column_label(table, error)}"
    return text


HANDLERS: dict[tuple[str, str], Handler] = {("CopyInto", ""): copy_into}
