"""dbt-snowflake, unchanged, against `hoarfrost serve`: debug, seed, run (views, tables with joins,
CTEs and window functions, incremental models with merge, delete+insert and append), test
(generic and singular), snapshot (timestamp strategy), a second incremental run and snapshot
after the source changed, docs generate and build; the models' contents are checked through the
connector."""

from __future__ import annotations

import os
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

from tests.server.conftest import PASSWORD, USER, Connect, ServedAccount

PROJECT = Path(__file__).parent / "project"

PROFILE = """hf:
  target: dev
  outputs:
    dev:
      type: snowflake
      account: hoarfrost
      user: {user}
      password: {password}
      host: 127.0.0.1
      port: {port}
      protocol: http
      role: ACCOUNTADMIN
      database: HOARFROST
      warehouse: HOARFROST_WH
      schema: ANALYTICS
      threads: 1
      connect_retries: 0
      connect_timeout: 20
"""


def dbt(executable: Path, project: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOARFROST_", "DBT_"))}
    env.update(DO_NOT_TRACK="1", DBT_SEND_ANONYMOUS_USAGE_STATS="false", DBT_USE_COLORS="false")
    done = subprocess.run(
        [str(executable), *args, "--profiles-dir", str(project / "profiles")],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"dbt {' '.join(args)} failed:\n{output[-6000:]}"
    return output


def test_dbt_project_end_to_end(
    dbt_executable: Path, served: ServedAccount, connect: Connect, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    shutil.copytree(PROJECT, project)
    (project / "profiles").mkdir()
    (project / "profiles" / "profiles.yml").write_text(
        PROFILE.format(user=USER, password=PASSWORD, port=served.port)
    )
    assert "All checks passed" in dbt(dbt_executable, project, "debug")
    dbt(dbt_executable, project, "seed")
    assert "PASS=7" in dbt(dbt_executable, project, "run")
    assert "PASS=5" in dbt(dbt_executable, project, "test")
    dbt(dbt_executable, project, "snapshot")

    cur = connect(database="HOARFROST", schema="ANALYTICS").cursor()
    assert cur.execute(
        "select customer_id, name, orders, total, spend_rank from customer_orders "
        "order by customer_id"
    ).fetchall() == [
        (1, "Ann", 2, Decimal("30.50"), 1),
        (2, "Bob", 1, Decimal("5.25"), 3),
        (3, "Cid", 1, Decimal("7.75"), 2),
    ]
    assert cur.execute("select cents from order_cents order by order_id").fetchall() == [
        (1050,),
        (2000,),
        (525,),
        (775,),
    ]

    # The source changes: order 1 is updated and order 5 arrives.
    cur.execute("update orders set amount = 11.50, updated_at = '2024-01-05 10:00:00' where id = 1")
    cur.execute("insert into orders values (5, 2, 1.00, '2024-01-05', '2024-01-05 11:00:00')")
    dbt(dbt_executable, project, "run")
    dbt(dbt_executable, project, "snapshot")
    assert cur.execute("select order_id, amount from orders_merge order by order_id").fetchall()[
        0
    ] == (1, Decimal("11.50"))
    assert cur.execute("select count(*) from orders_merge").fetchone() == (5,)
    assert cur.execute("select count(*) from orders_delins").fetchone() == (5,)
    assert cur.execute("select count(*) from orders_append").fetchone() == (5,)
    versions = cur.execute(
        "select amount, dbt_valid_to is null from snapshots.orders_snapshot "
        "where order_id = 1 order by dbt_valid_from"
    ).fetchall()
    assert versions == [(Decimal("10.50"), False), (Decimal("11.50"), True)]

    assert "Catalog written" in dbt(dbt_executable, project, "docs", "generate")
    assert "Completed successfully" in dbt(dbt_executable, project, "build")
