"""What a fresh environment holds beyond its schema: rows, platform state made by calls, extensions.

Read from a scratch database with the shadow's (superuser) session, so row level security
hides nothing. Which tables a history *wrote* is measured, not guessed: a table whose rows
differ from the same table in an untouched scratch database of the same platform.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from wizard.catalog import Snapshot, snapshot
from wizard.catalog.scope import MANAGED_SCHEMAS
from wizard.db.connect import open_session
from wizard.squash.data import provision_time
from wizard.squash.secrets import redact

#: Tables whose rows are never carried nor compared as rows: the CLI's history (each side has its
#: own), pg_cron's run log, and platform state compared as what made it (jobs, queues, secrets).
STATE_TABLES: tuple[str, ...] = (
    "supabase_migrations.schema_migrations",
    "supabase_migrations.seed_files",
    "cron.job",
    "cron.job_run_details",
    "pgmq.meta",
    "vault.secrets",
)

#: Schemas whose tables hold queue messages (pgmq's ``q_*`` and ``a_*``): compared as queues.
QUEUE_SCHEMA = "pgmq"

_TABLES_SQL = """
SELECT n.nspname || '.' || c.relname AS name, n.nspname, c.relname
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
   AND n.nspname NOT LIKE 'pg\\_temp%%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp%%'
 ORDER BY 1
"""

_EXTENSIONS_SQL = """
SELECT e.extname, e.extversion, n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
"""

_PUBLICATION_MEMBERS_SQL = """
SELECT p.pubname || ' ' || n.nspname || '.' || c.relname
  FROM pg_publication_rel pr JOIN pg_publication p ON p.oid = pr.prpubid
  JOIN pg_class c ON c.oid = pr.prrelid JOIN pg_namespace n ON n.oid = c.relnamespace
"""
_PUBLICATION_SCHEMAS_SQL = """
SELECT p.pubname || ' schema ' || n.nspname
  FROM pg_publication_namespace pn JOIN pg_publication p ON p.oid = pn.pnpubid
  JOIN pg_namespace n ON n.oid = pn.pnnspid
"""


@dataclass(frozen=True)
class CronJob:
    """A pg_cron job as the operator sees it (its id and database differ in every environment)."""

    name: str | None
    schedule: str
    command: str
    active: bool

    def describe(self) -> str:
        return f"{self.name or '(unnamed)'} [{self.schedule}]{'' if self.active else ' inactive'}"


@dataclass(frozen=True)
class Queue:
    """A pgmq queue."""

    name: str
    partitioned: bool
    unlogged: bool


@dataclass
class Environment:
    """One fresh environment, measured.

    Attributes:
        extensions: ``name -> "version in schema s"``.
        rows: The rows of the tables asked for, each row as its columns' text (sorted).
    """

    schema: Snapshot
    extensions: dict[str, str]
    cron_jobs: set[CronJob] = field(default_factory=set)
    queues: set[Queue] = field(default_factory=set)
    publication_members: set[str] = field(default_factory=set)
    vault_secret_names: set[str] = field(default_factory=set)
    rows: dict[str, list[tuple[str | None, ...]]] = field(default_factory=dict)


def written_tables(after: dict[str, tuple[int, str]], bare: dict[str, tuple[int, str]]) -> list[str]:
    """Tables whose rows (``after`` digests) differ from the same platform untouched (``bare`` digests)."""
    return sorted(
        name
        for name, (count, digest) in after.items()
        if bare.get(name, (0, "")) != (count, digest) and (count or name in bare)
    )


def digests(conn: psycopg.Connection) -> dict[str, tuple[int, str]]:
    """``schema.table -> (rows, md5 of the sorted rows)`` for every ordinary table of the database."""
    out: dict[str, tuple[int, str]] = {}
    with conn.cursor(row_factory=dict_row) as cur:
        tables = cur.execute(_TABLES_SQL).fetchall()
    for t in tables:
        query = sql.SQL("SELECT count(*), coalesce(md5(string_agg(r::text, E'\\n' ORDER BY r::text)), '') FROM {} r")
        row = conn.execute(query.format(sql.Identifier(t["nspname"], t["relname"]))).fetchone()
        assert row is not None
        out[t["name"]] = (int(row[0]), str(row[1]))
    return out


def _exists(conn: psycopg.Connection, table: str) -> bool:
    schema, _, name = table.partition(".")
    query = "SELECT to_regclass(format('%%I.%%I', %s::text, %s::text)) IS NOT NULL"
    return conn.execute(query, (schema, name)).fetchone() == (True,)


def _columns(conn: psycopg.Connection, table: str) -> list[str]:
    schema, _, name = table.partition(".")
    rows = conn.execute(
        "SELECT a.attname, pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a"
        " LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
        " WHERE a.attrelid = format('%%I.%%I', %s::text, %s::text)::regclass"
        " AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' ORDER BY a.attnum",
        (schema, name),
    ).fetchall()
    return [r[0] for r in rows if not provision_time(r[1])]


def table_rows(conn: psycopg.Connection, table: str) -> list[tuple[str | None, ...]]:
    """Every row of ``table`` as its columns' text, key-like values redacted, sorted.

    Columns whose default is the time of provisioning are left out: they differ in every environment.
    """
    schema, _, name = table.partition(".")
    columns = _columns(conn, table)
    query = sql.SQL("SELECT {} FROM {}").format(
        sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(c)) for c in columns),
        sql.Identifier(schema, name),
    )
    rows = [tuple(None if v is None else redact(v) for v in r) for r in conn.execute(query).fetchall()]
    return sorted(rows, key=lambda r: tuple("" if v is None else v for v in r))


def _strings(conn: psycopg.Connection, query: str) -> set[str]:
    return {r[0] for r in conn.execute(query).fetchall()}


def measure(dsn: str, tables: list[str]) -> Environment:
    """Read the fresh environment at ``dsn``: schema, extensions, platform state, and the rows of ``tables``."""
    with open_session(dsn) as conn:
        env = Environment(
            schema=snapshot(conn),
            extensions={r[0]: f"{r[1]} in schema {r[2]}" for r in conn.execute(_EXTENSIONS_SQL).fetchall()},
        )
        env.publication_members = _strings(conn, _PUBLICATION_MEMBERS_SQL)
        if conn.info.server_version >= 150000:
            env.publication_members |= _strings(conn, _PUBLICATION_SCHEMAS_SQL)
        if _exists(conn, "cron.job"):
            env.cron_jobs = {
                CronJob(r[0], r[1], redact(r[2]), bool(r[3]))
                for r in conn.execute("SELECT jobname, schedule, command, active FROM cron.job").fetchall()
            }
        if _exists(conn, "pgmq.meta"):
            env.queues = {
                Queue(r[0], bool(r[1]), bool(r[2]))
                for r in conn.execute("SELECT queue_name, is_partitioned, is_unlogged FROM pgmq.meta").fetchall()
            }
        if _exists(conn, "vault.secrets"):
            env.vault_secret_names = _strings(conn, "SELECT name FROM vault.secrets WHERE name IS NOT NULL")
        for table in tables:
            if _exists(conn, table):
                env.rows[table] = table_rows(conn, table)
    return env


def bare_digests(dsn: str) -> dict[str, tuple[int, str]]:
    """The row digests of an untouched scratch database of the platform."""
    with open_session(dsn) as conn:
        return digests(conn)


def side_effect(table: str, named: set[str]) -> bool:
    """Whether ``table``'s rows were written by the platform reacting to the history, not by a statement of it.

    A managed table (an event trigger's log, say) that no statement of the history names: the
    platform writes it again for whatever DDL a new environment runs, so it is neither carried
    nor compared (it is listed).
    """
    schema = table.partition(".")[0]
    return schema in MANAGED_SCHEMAS and table not in named and not carried_state(table)


def carried_state(table: str) -> bool:
    """Whether ``table``'s rows are platform state compared as the calls that made it, not as rows."""
    return table in STATE_TABLES or table.startswith(QUEUE_SCHEMA + ".")
