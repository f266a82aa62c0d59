"""The SQL bodies that stand in for a real extension's C functions behave as the extension does."""

from __future__ import annotations

import psycopg
import pytest

from tests.conftest import run_sql
from wizard.platform import standins

#: cron.job as pg_cron 1.6 creates it (the overlay runs over the target's real table).
CRON_JOB = """
create schema cron;
create table cron.job (
  jobid bigserial primary key, schedule text not null, command text not null,
  nodename text not null default 'localhost', nodeport int not null default 5432,
  database text not null default current_database(), username text not null default current_user,
  active boolean not null default true, jobname text, unique (jobname, username)
);
"""


def test_pg_cron_overlay_schedules_alters_and_unschedules(fresh_db: str) -> None:
    run_sql(fresh_db, CRON_JOB)
    overlay = standins.source_script("pg_cron")
    assert overlay is not None
    run_sql(fresh_db, overlay)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        job = conn.execute("select cron.schedule('nightly', '0 3 * * *', 'select 1')").fetchone()[0]
        conn.execute("select cron.alter_job(%s, schedule => '0 4 * * *', active => false)", (job,))
        assert conn.execute("select schedule, command, active from cron.job").fetchall() == [
            ("0 4 * * *", "select 1", False)
        ]
        with pytest.raises(psycopg.errors.RaiseException, match="could not find valid entry for job 999"):
            conn.execute("select cron.alter_job(999, command => 'select 2')")
        assert conn.execute("select cron.unschedule('nightly')").fetchone() == (True,)
        assert conn.execute("select count(*) from cron.job").fetchone() == (0,)
