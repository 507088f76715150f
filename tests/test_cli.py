"""The ``hoarfrost`` command line, run as a user runs it: the installed console script in a
subprocess, and click's CliRunner (same code path, in process) where many runs are needed."""

from __future__ import annotations

import base64
import json
import os
import select
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from hoarfrost.cli import cli

Invoke = Callable[..., Result]

SCRIPT = Path(sys.executable).with_name("hoarfrost")

# The three object statements of SEED.md, as written there.
SEED_OBJECTS = """\
-- Create a secret for credentials
CREATE OR REPLACE SECRET my_repo_secret
  TYPE = PASSWORD
  USERNAME = 'your_username'
  PASSWORD = 'your_password_or_token';

CREATE OR REPLACE API INTEGRATION python_repo_integration
  API_PROVIDER = ARTIFACT_REPOSITORY_API
  API_ALLOWED_PREFIXES = ('https://nexus.example.com', 'https://artifactory.example.com')
  ALLOWED_AUTHENTICATION_SECRETS = (my_repo_secret)
  ENABLED = TRUE;

-- Create the artifact repository object
CREATE OR REPLACE ARTIFACT REPOSITORY my_python_repo
  TYPE = PYPI
  API_INTEGRATION = python_repo_integration
  INDEX_URL = 'https://nexus.example.com/repository/pypi-proxy/simple/'
  AUTHENTICATION_SECRET = my_repo_secret
  COMMENT = 'Customer-hosted Python package repository (Nexus)';
"""

TYPED_ROWS = """\
create table t(a int, b varchar, c timestamp, d number(10,2), f binary);
insert into t select 1, '[bold]x,y', '2024-01-02 03:04:05'::timestamp, 1.5,
  to_binary('abcd', 'hex');
insert into t (a) values (2);
select * from t order by a;
"""


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("HOARFROST_"):
            monkeypatch.delenv(name)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def run_script(
    *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The installed console script, in a subprocess."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HOARFROST_")}
    environ.update(env or {})
    return subprocess.run(
        [str(SCRIPT), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=environ,
        timeout=120,
    )


@pytest.fixture
def invoke() -> Invoke:
    runner = CliRunner()

    def call(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> Result:
        return runner.invoke(cli, list(args), input=stdin, env=env, catch_exceptions=False)

    return call


def json_results(stdout: str) -> list[list[dict[str, object]]]:
    return [json.loads(line) for line in stdout.splitlines()]


# -- subprocess: the real console script ---------------------------------------------------
def test_console_script_runs_a_multi_statement_script(home: Path) -> None:
    sql = "create table t(a int, b varchar); insert into t values (1, 'one'), (2, 'two');\n"
    sql += "select b from t order by a; select count(*) n from t"
    proc = run_script("sql", "--home", str(home), "-q", sql, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    created, inserted, selected, counted = json_results(proc.stdout)
    assert created == [{"status": "Table T successfully created."}]
    assert inserted == [{"number of rows inserted": 2}]
    assert selected == [{"B": "one"}, {"B": "two"}]
    assert counted == [{"N": 2}]


def test_seed_objects_from_a_file_persist_for_later_runs(home: Path, tmp_path: Path) -> None:
    script = tmp_path / "seed.sql"
    script.write_text(SEED_OBJECTS)
    proc = run_script("sql", "--home", str(home), "-f", str(script))
    assert proc.returncode == 0, proc.stderr
    assert "Secret MY_REPO_SECRET successfully created." in proc.stdout
    assert "Integration PYTHON_REPO_INTEGRATION successfully created." in proc.stdout
    assert "Artifact repository MY_PYTHON_REPO successfully created." in proc.stdout

    show = (
        "show secrets; describe secret my_repo_secret; show api integrations;"
        " show artifact repositories; describe artifact repository my_python_repo"
    )
    proc = run_script("sql", "--home", str(home), "-q", show, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    secrets, secret, integrations, repos, repo = json_results(proc.stdout)
    assert [s["name"] for s in secrets] == ["MY_REPO_SECRET"]
    assert secret[0]["username"] == "your_username"
    assert "your_password_or_token" not in proc.stdout
    assert [i["name"] for i in integrations] == ["PYTHON_REPO_INTEGRATION"]
    assert [r["name"] for r in repos] == ["MY_PYTHON_REPO"]
    assert repo[0]["index_url"] == "https://nexus.example.com/repository/pypi-proxy/simple/"


def test_error_goes_to_stderr_with_status_1(home: Path) -> None:
    proc = run_script(
        "sql", "--home", str(home), "-q", "select 1 a; select * from nope; select 2 b"
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith("hoarfrost: 002003 (42S02): ")
    assert "'NOPE' does not exist or not authorized." in proc.stderr
    assert "Traceback" not in proc.stderr
    # The statement before the error printed its result; the one after did not run.
    assert "┃ A" in proc.stdout
    assert "┃ B" not in proc.stdout


def test_python_dash_m_and_version() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "hoarfrost", "--version"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "hoarfrost, version 0.1.0"


def test_repl_through_the_console_script(home: Path) -> None:
    proc = run_script("sql", "--home", str(home), "--format", "csv", stdin="select\n 7 s;\n")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "S\n7\n"


# -- CliRunner: the same command, in process -----------------------------------------------
def test_table_format(invoke: Invoke, home: Path) -> None:
    result = invoke("sql", "--home", str(home), "-q", TYPED_ROWS)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "Table T successfully created." in out
    # Values are data, never rich markup; NULL is spelled out; binary is hex.
    assert "[bold]x,y" in out
    assert "2024-01-02 03:04:05" in out
    assert "1.50" in out
    assert "ABCD" in out
    assert "NULL" in out
    assert "2 rows" in out


def test_csv_format(invoke: Invoke, home: Path) -> None:
    result = invoke("sql", "--home", str(home), "-q", TYPED_ROWS, "--format", "csv")
    assert result.exit_code == 0, result.stderr
    blocks = result.stdout.split("\n\n")
    assert blocks[0] == "status\nTable T successfully created."
    assert blocks[-1] == ('A,B,C,D,F\n1,"[bold]x,y",2024-01-02 03:04:05,1.50,ABCD\n2,,,,\n')


def test_json_format(invoke: Invoke, home: Path) -> None:
    result = invoke("sql", "--home", str(home), "-q", TYPED_ROWS, "--format", "json")
    assert result.exit_code == 0, result.stderr
    *_, rows = json_results(result.stdout)
    assert rows == [
        {"A": 1, "B": "[bold]x,y", "C": "2024-01-02T03:04:05", "D": "1.50", "F": "ABCD"},
        {"A": 2, "B": None, "C": None, "D": None, "F": None},
    ]


def test_file_from_stdin(invoke: Invoke, home: Path) -> None:
    result = invoke("sql", "--home", str(home), "-f", "-", "--format", "json", stdin="select 1 a;")
    assert result.exit_code == 0, result.stderr
    assert json_results(result.stdout) == [[{"A": 1}]]


@pytest.mark.parametrize(
    "sql",
    ["selec 1", "select 'unterminated", "select 1 from"],
)
def test_syntax_error(invoke: Invoke, home: Path, sql: str) -> None:
    result = invoke("sql", "--home", str(home), "-q", sql)
    assert result.exit_code == 1
    assert result.stderr.startswith("hoarfrost: 001003 (42000): SQL compilation error:")
    assert result.stdout == ""


def test_q_and_f_together_is_a_usage_error(invoke: Invoke, home: Path) -> None:
    result = invoke("sql", "--home", str(home), "-q", "select 1", "-f", "-")
    assert result.exit_code == 2
    assert "not both" in result.stderr


def test_repl(invoke: Invoke, home: Path) -> None:
    session = "\n".join(
        [
            "select 1 a,",  # a statement over two lines
            "  2 b;",
            "select $$one;",  # a `;` inside a $$ body does not end the statement
            "two$$ body;",
            "select * from nope;",  # an error does not end the session
            "select 'fine' after_error; -- a comment after the `;`",
            "!exit",
            "select 'never' not_run;",
        ]
    )
    result = invoke("sql", "--home", str(home), "--format", "json", stdin=session + "\n")
    assert result.exit_code == 0
    assert json_results(result.stdout) == [
        [{"A": 1, "B": 2}],
        [{"BODY": "one;\ntwo"}],
        [{"AFTER_ERROR": "fine"}],
    ]
    assert result.stderr.startswith("hoarfrost: 002003 (42S02): ")
    assert "not_run" not in result.stdout.lower()


@pytest.mark.parametrize("word", ["quit", "!exit", "QUIT;"])
def test_repl_quit_words(invoke: Invoke, home: Path, word: str) -> None:
    result = invoke("sql", "--home", str(home), "--format", "csv", stdin=f"{word}\nselect 1 a;\n")
    assert result.exit_code == 0
    assert result.stdout == ""


def test_repl_runs_what_is_left_at_end_of_input(invoke: Invoke, home: Path) -> None:
    result = invoke("sql", "--home", str(home), "--format", "csv", stdin="select 5 v")
    assert result.exit_code == 0
    assert result.stdout == "V\n5\n"


def test_settings_never_print_the_master_key(invoke: Invoke) -> None:
    key = base64.b64encode(b"k" * 32).decode()
    result = invoke("settings", env={"HOARFROST_MASTER_KEY": key})
    assert result.exit_code == 0, result.stderr
    assert key not in result.stdout
    assert key[:8] not in result.stdout
    line = next(x for x in result.stdout.splitlines() if "HOARFROST_MASTER_KEY" in x)
    assert "<set>" in line
    for name in ("cache_dir", "HOARFROST_CACHE_DIR", "worker_timeout", "180.0"):
        assert name in result.stdout


def test_settings_show_an_unset_master_key_and_current_values(invoke: Invoke) -> None:
    result = invoke("settings", env={"HOARFROST_WORKER_TIMEOUT": "7.5"})
    assert result.exit_code == 0, result.stderr
    line = next(x for x in result.stdout.splitlines() if "HOARFROST_MASTER_KEY" in x)
    assert "<unset>" in line and "<set>" not in line
    line = next(x for x in result.stdout.splitlines() if "HOARFROST_WORKER_TIMEOUT" in x)
    assert "180.0" in line and "7.5" in line


def test_settings_with_a_bad_environment_is_a_user_error(invoke: Invoke) -> None:
    result = invoke("settings", env={"HOARFROST_WORKER_TIMEOUT": "soon"})
    assert result.exit_code == 1
    assert result.stderr.startswith("hoarfrost: ")
    assert "HOARFROST_WORKER_TIMEOUT" in result.stderr


# -- a terminal: prompts, line editing and the history file --------------------------------
def _terminal_session(home: Path, lines: list[str]) -> str:
    """Type ``lines`` into ``hoarfrost sql`` on a pseudo-terminal, each once the prompt shows
    (keys typed before readline takes the terminal may be lost), then Ctrl-D; everything it
    showed."""
    pty = pytest.importorskip("pty")
    master, slave = pty.openpty()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HOARFROST_")}
    environ["TERM"] = "dumb"
    proc = subprocess.Popen(
        [str(SCRIPT), "sql", "--home", str(home), "--format", "csv"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=environ,
        close_fds=True,
    )
    os.close(slave)
    shown = b""
    try:
        for keys in [*lines, "\x04"]:  # Ctrl-D: end of input
            shown += _read_until_prompt(master)
            os.write(master, keys.encode())
        shown += _read_until_prompt(master, prompt=None)
        assert proc.wait(timeout=60) == 0
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return shown.decode(errors="replace").replace("\r\n", "\n")


def _read_until_prompt(master: int, prompt: bytes | None = b"> ", timeout: float = 60) -> bytes:
    """What the terminal shows until it ends with ``prompt`` (None: until the program ends)."""
    shown = b""
    deadline = time.monotonic() + timeout
    while prompt is None or not shown.endswith(prompt):
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no prompt; the terminal shows {shown!r}"
        if not select.select([master], [], [], remaining)[0]:
            continue
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the program ended and closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    return shown


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_terminal_prompt_and_history_without_secrets(home: Path) -> None:
    password = "hunter2-never-stored"
    lines = [
        "create secret s type = password\n",
        f"  username = 'u' password = '{password}';\n",
        "select 41 + 1 answer;\n",
    ]
    shown = _terminal_session(home, lines)
    assert "hoarfrost> " in shown
    assert "        -> " in shown  # the continuation prompt of the two-line statement
    assert "ANSWER\n42" in shown

    history = (home / "history").read_text()
    assert [json.loads(line) for line in history.splitlines()] == [
        "create secret s type = password\n  username = '***' password = '***';",
        "select 41 + 1 answer;",
    ]
    assert (home / "history").stat().st_mode & 0o077 == 0
    for path in home.rglob("*"):
        if path.is_file():
            assert password.encode() not in path.read_bytes(), path

    # The next session recalls the last statement with the up arrow and runs it again.
    shown = _terminal_session(home, ["\x1b[A\n"])
    assert "ANSWER\n42" in shown
