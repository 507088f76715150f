"""The ``hoarfrost`` command line: a thin shell over :func:`hoarfrost.connect`.

    hoarfrost sql -q "create table t(a int); select * from t"
    hoarfrost sql -f script.sql --format json
    hoarfrost sql                      # interactive prompt
    hoarfrost settings

User errors (:class:`hoarfrost.errors.Error`) print ``hoarfrost: NNNNNN (SQLST): message`` on
stderr and exit 1; anything else is a bug and exits 2 with ``hoarfrost: internal error: ...``.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, NoReturn

import click
from rich.console import Console
from rich.status import Status
from rich.table import Table
from rich.text import Text
from sqlglot.tokens import TokenType

import hoarfrost
from hoarfrost.config import SETTINGS, Settings
from hoarfrost.errors import Error
from hoarfrost.sql.redaction import redacted_text
from hoarfrost.sql.tokens import split, tokenize

__all__ = ["main"]

EXIT_USER_ERROR = 1
EXIT_INTERNAL_ERROR = 2
HISTORY_FILE = "history"
HISTORY_LENGTH = 10_000
PROMPT, CONTINUATION = "hoarfrost> ", "        -> "
QUIT_WORDS = {"!exit", "quit", "exit"}
# Settings whose value is a credential: shown only as set or unset.
SECRET_SETTINGS = {"master_key", "server_users"}


# -- errors ---------------------------------------------------------------------------------
def _report(exc: BaseException) -> int:
    """Print an error on stderr; the exit status it deserves."""
    if isinstance(exc, Error):
        click.echo(f"hoarfrost: {exc}", err=True)
        return EXIT_USER_ERROR
    click.echo(f"hoarfrost: internal error: {type(exc).__name__}: {exc}", err=True)
    return EXIT_INTERNAL_ERROR


@contextmanager
def _exit_on_error() -> Iterator[None]:
    """Turn any exception into one stderr line and an exit status (never a traceback)."""
    try:
        yield
    except (click.exceptions.Exit, click.ClickException):
        raise
    except Exception as exc:
        sys.exit(_report(exc))


# -- rendering ------------------------------------------------------------------------------
def _text(value: Any) -> str:
    """A cell as text (table and csv)."""
    if isinstance(value, bytes):
        return value.hex().upper()
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=_json_default)
    return str(value)


def _json_cell(value: Any) -> Any:
    # NaN and infinities have no JSON spelling: they become the strings Python prints.
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex().upper()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    return str(value)


def _columns(cursor: hoarfrost.Cursor) -> list[str]:
    return [d[0] for d in cursor.description or []]


def _console() -> Console:
    # Piped output is not cut to 80 columns: a table takes its natural width.
    tty = sys.stdout.isatty()
    return Console(highlight=False, soft_wrap=False, width=None if tty else 100_000)


def _render_table(cursor: hoarfrost.Cursor) -> None:
    rows = cursor.fetchall()
    table = Table(caption=_count(len(rows)))
    for name in _columns(cursor):
        table.add_column(Text(name))  # Text, not str: names and values are never rich markup
    for row in rows:
        table.add_row(*(Text("NULL", style="dim") if v is None else Text(_text(v)) for v in row))
    _console().print(table)


def _count(n: int) -> str:
    return f"{n} row" if n == 1 else f"{n} rows"


def _render_csv(cursor: hoarfrost.Cursor, first: bool) -> None:
    if not first:
        sys.stdout.write("\n")  # a blank line between the results of two statements
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(_columns(cursor))
    writer.writerows([["" if v is None else _text(v) for v in row] for row in cursor.fetchall()])


def _render_json(cursor: hoarfrost.Cursor) -> None:
    """One line per statement: a JSON array with one object per row."""
    names = _columns(cursor)
    rows = [dict(zip(names, map(_json_cell, row), strict=True)) for row in cursor.fetchall()]
    sys.stdout.write(json.dumps(rows, default=_json_default, ensure_ascii=False) + "\n")


Renderer = Callable[[hoarfrost.Cursor, bool], None]
RENDERERS: dict[str, Renderer] = {
    "table": lambda cursor, first: _render_table(cursor),
    "csv": _render_csv,
    "json": lambda cursor, first: _render_json(cursor),
}


# -- running SQL ----------------------------------------------------------------------------
class Runner:
    """Runs scripts statement by statement, printing each result as soon as it is known."""

    def __init__(self, conn: hoarfrost.Connection, fmt: str):
        from hoarfrost.engine.resolution import packages_of

        self.conn = conn
        self.render = RENDERERS[fmt]
        self.printed = 0
        self.progress = _Progress()
        packages_of(conn.engine).progress.append(self.progress)

    def run(self, script: str) -> None:
        """Run every statement of ``script``; the first error stops the script and is raised."""
        for statement in split(script):
            try:
                cursors = self.conn.execute_string(statement.text)
            finally:
                self.progress.stop()
            for cursor in cursors:
                self.render(cursor, self.printed == 0)
                sys.stdout.flush()
                self.printed += 1


class _Progress:
    """A spinner on stderr while a resolution or environment build runs (terminals only)."""

    def __init__(self) -> None:
        self.console = Console(stderr=True)
        self.status: Status | None = None

    def __call__(self, message: str) -> None:
        if not self.console.is_terminal:
            return
        if self.status is None:
            self.status = self.console.status(message)
            self.status.start()
        else:
            self.status.update(message)

    def stop(self) -> None:
        if self.status is not None:
            self.status.stop()
            self.status = None


def _is_complete(buffer: str) -> bool:
    """Whether the buffer ends with a `;` that ends a statement (not one in a string, a `$$`
    body or a comment)."""
    try:
        tokens = tokenize(buffer)
    except Error:
        return False  # an unterminated string, quoted identifier, `$$` body or comment
    return bool(tokens) and tokens[-1].token_type == TokenType.SEMICOLON


def _is_quit(line: str) -> bool:
    return line.strip().rstrip(";").strip().lower() in QUIT_WORDS


def _repl(runner: Runner, history: Path | None) -> None:
    """Accumulate lines until a statement ends with `;`, run it, keep going after errors;
    stop at end of input or on a quit word. Ctrl-C discards the statement being typed or
    interrupts the one running. Prompts, line editing and the history file are for a person at
    a terminal only."""
    tty = sys.stdin.isatty()
    with _LineEditor(history if tty else None) as editor:
        buffer = ""
        while True:
            prompt = (CONTINUATION if buffer.strip() else PROMPT) if tty else ""
            try:
                line = input(prompt)
            except EOFError:
                break
            except KeyboardInterrupt:
                click.echo("^C", err=True)
                buffer = ""  # Ctrl-C discards the statement being typed
                continue
            if not buffer.strip() and _is_quit(line):
                return
            buffer += line + "\n"
            if _is_complete(buffer):
                editor.remember(buffer)
                _run_reporting(runner, buffer)
                buffer = ""
        if tty:
            click.echo()
        if buffer.strip():
            _run_reporting(runner, buffer)  # the input ended without a final `;`


def _run_reporting(runner: Runner, script: str) -> None:
    """Run at the prompt: report any error (even an internal one) and carry on."""
    try:
        runner.run(script)
    except KeyboardInterrupt:
        click.echo("hoarfrost: interrupted", err=True)
    except Exception as exc:
        _report(exc)


class _LineEditor:
    """Line editing and history with the stdlib ``readline``, kept in a file when there is one.

    History holds whole statements (not lines), added by us, never by readline itself: the
    text of CREATE/ALTER SECRET is redacted first, so no secret reaches the home in clear. The
    file holds one JSON string per line, so a statement of several lines stays one entry.
    """

    def __init__(self, path: Path | None):
        self.path = path
        self.readline: Any = None

    def __enter__(self) -> _LineEditor:
        if self.path is None:
            return self
        try:
            import readline
        except ImportError:  # pragma: no cover - platforms without readline
            return self
        self.readline = readline
        readline.set_auto_history(False)
        for entry in self._load():
            readline.add_history(entry)
        return self

    def _load(self) -> list[str]:
        assert self.path is not None
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            return []  # no history yet, or unreadable: start afresh
        entries = []
        for line in lines[-HISTORY_LENGTH:]:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, str):
                entries.append(entry)
        return entries

    def remember(self, script: str) -> None:
        if self.readline is None:
            return
        texts = [redacted_text(st) for st in split(script)]
        if texts:
            self.readline.add_history(";\n".join(texts) + ";")

    def __exit__(self, *exc: object) -> None:
        if self.readline is None or self.path is None:
            return
        rl = self.readline
        count = rl.get_current_history_length()
        entries = [rl.get_history_item(i) for i in range(1, count + 1)][-HISTORY_LENGTH:]
        text = "".join(json.dumps(e) + "\n" for e in entries if e is not None)
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with open(fd, "w", encoding="utf-8") as file:
                file.write(text)
        except OSError:
            pass  # a read-only home must not turn leaving the prompt into an error


# -- commands -------------------------------------------------------------------------------
@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(hoarfrost.__version__, "--version", "-V", prog_name="hoarfrost")
def cli() -> None:
    """hoarfrost: a Snowflake-compatible SQL engine on one machine (DuckDB underneath)."""


HOME_HELP = "Account directory [default: $HOARFROST_HOME, else ./.hoarfrost]."


@cli.command()
@click.option("--home", type=click.Path(file_okay=False), default=None, help=HOME_HELP)
@click.option("-q", "--query", metavar="SQL", help="Run this SQL (one or more statements).")
@click.option(
    "-f",
    "--file",
    "script_file",
    type=click.File("r", encoding="utf-8"),
    metavar="FILE",
    help="Run the SQL script in FILE ('-' reads standard input).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(sorted(RENDERERS)),
    default="table",
    show_default=True,
    help="How results are printed: table; csv (a header line each, a blank line between "
    "statements); json (one array of row objects per statement, one per line).",
)
def sql(home: str | None, query: str | None, script_file: IO[str] | None, fmt: str) -> None:
    """Run SQL against the account in --home.

    With -q or -f, run the script's statements in order, printing each statement's result; the
    first error stops the script and exits with status 1. With neither, start an interactive
    prompt: a statement runs when a line ends it with `;`, an error does not end the session,
    and end of input, `!exit`, `quit` or `exit` leaves. At a terminal, the prompt keeps
    a history of statements (CREATE/ALTER SECRET with their strings redacted) in the account
    directory.
    """
    if query is not None and script_file is not None:
        raise click.UsageError("Give -q or -f, not both.")
    with _exit_on_error():
        script = query if script_file is None else _read(script_file)
        with hoarfrost.connect(home) as conn:
            runner = Runner(conn, fmt)
            if script is not None:
                runner.run(script)
            else:
                account = conn.engine.home
                _repl(runner, None if account is None else Path(account) / HISTORY_FILE)


def _read(file: IO[str]) -> str:
    try:
        return file.read()
    except UnicodeDecodeError:
        raise click.FileError(file.name, hint="it is not UTF-8 text")


@cli.group()
def envs() -> None:
    """The package environments in the cache (HOARFROST_CACHE_DIR)."""


@envs.command("list")
@click.option("--home", type=click.Path(file_okay=False), default=None, help=HOME_HELP)
def envs_list(home: str | None) -> None:
    """List the environments in the cache, with the functions of --home that use each."""
    from hoarfrost.engine.envs import referenced_environments
    from hoarfrost.engine.resolution import packages_of

    with _exit_on_error(), hoarfrost.connect(home) as conn:
        used = referenced_environments(conn.engine)
        table = Table("key", "runtime", "packages", "size (MiB)", "created", "used by")
        for info in packages_of(conn.engine).envs.list():
            table.add_row(
                Text(info.key[:16]),
                Text(info.lock.runtime),
                Text(", ".join(info.lock.installed_packages())),
                Text(f"{info.size / (1 << 20):.1f}"),
                Text(str(info.created)),
                Text(", ".join(used.get(info.key, [])) or "-"),
            )
        _console().print(table)


@envs.command("prune")
@click.option("--home", type=click.Path(file_okay=False), default=None, help=HOME_HELP)
def envs_prune(home: str | None) -> None:
    """Remove environments no function or procedure of --home uses (and leftovers of
    interrupted builds). Retained wheels stay, so a pruned environment is rebuilt when needed."""
    from hoarfrost.engine.envs import referenced_environments
    from hoarfrost.engine.resolution import packages_of

    with _exit_on_error(), hoarfrost.connect(home) as conn:
        keep = set(referenced_environments(conn.engine))
        removed = packages_of(conn.engine).envs.prune(keep)
        click.echo(f"Removed {len(removed)} environment(s); kept {len(keep)} in use.")


@cli.command()
def settings() -> None:
    """List every setting: name, environment variable, default, help and current value.

    Current values come from the environment (HOARFROST_<NAME>) over the defaults; the value of
    a secret setting (master_key) is never shown, only whether it is set.
    """
    with _exit_on_error():
        current = Settings()
        table = Table("name", "env var", "default", "current", "help")
        for name, setting in SETTINGS.items():
            table.add_row(
                Text(name),
                Text(setting.env_var),
                Text(_setting_text(name, setting.default)),
                Text(_setting_text(name, current.get(name))),
                Text(setting.help),
            )
        _console().print(table)


def _setting_text(name: str, value: Any) -> str:
    if name in SECRET_SETTINGS:
        return "<unset>" if value is None else "<set>"
    return "" if value is None else str(value)


@cli.command()
@click.option("--home", type=click.Path(file_okay=False), default=None, help=HOME_HELP)
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to bind.")
@click.option("--port", type=int, default=8080, show_default=True, help="TCP port to listen on.")
@click.option(
    "--access-log/--no-access-log",
    default=False,
    show_default=True,
    help="Log a line per HTTP request (stage transfer grants are redacted from it).",
)
def serve(home: str | None, host: str, port: int, access_log: bool) -> None:
    """Serve the Snowflake wire protocol (plain HTTP, loopback only) for the account in --home,
    so the Snowflake connectors connect with protocol="http", host, port, user and password.

    The first users come from HOARFROST_SERVER_USERS ('user:password,...') or the file named by
    HOARFROST_SERVER_USERS_FILE; else a password is generated for HOARFROST once and kept in
    <home>/server-credentials (0600). They are created in the account at start (the first one
    holds ACCOUNTADMIN); logins are checked against the account's users, which CREATE / ALTER /
    DROP USER manage.
    """
    from hoarfrost.server import serve as run_server

    with _exit_on_error():
        run_server(home, host, port, access_log=access_log)


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """The ``hoarfrost`` console script."""
    cli.main(args=argv, prog_name="hoarfrost")
    raise SystemExit(0)  # pragma: no cover - click's main always exits
