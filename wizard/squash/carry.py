"""Rows and platform state the history creates, carried into the baseline by default.

What is carried is measured: the rows of every table the replayed history wrote (see
:mod:`wizard.squash.environment`), read from that fresh environment, as idempotent inserts in
foreign-key order (:func:`wizard.squash.data.data_sql`); sequences owned by those tables are
moved forward to where the history left them. Platform state made by calls is carried as the
same calls: ``cron.schedule``, ``pgmq.create``, ``vault.create_secret`` (with a placeholder,
never the value). Key-like values become placeholders (:mod:`wizard.squash.secrets`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg

from wizard.db.connect import open_session
from wizard.db.sqltext import literal
from wizard.squash import data as data_mod
from wizard.squash.environment import Environment, carried_state
from wizard.squash.secrets import VAULT_PLACEHOLDER, Redactions

_OWNED_SEQUENCES_SQL = """
SELECT quote_ident(sn.nspname) || '.' || quote_ident(s.relname) AS seq
  FROM pg_depend d JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
  JOIN pg_namespace sn ON sn.oid = s.relnamespace
  JOIN pg_class t ON t.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = t.relnamespace
 WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
   AND tn.nspname || '.' || t.relname = ANY(%s)
 ORDER BY 1
"""


@dataclass
class Carried:
    """What the baseline carries from the history's fresh environment.

    Attributes:
        rows: Rows per table carried as inserts.
        excluded: Tables the history wrote that the operator excluded.
        not_carried: Tables the history wrote whose rows are not carried, with the reason.
        cron_jobs, queues, vault_secrets: Platform state carried as the calls that made it.
    """

    sql: str = ""
    statements: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    excluded: list[str] = field(default_factory=list)
    not_carried: dict[str, str] = field(default_factory=dict)
    cron_jobs: list[str] = field(default_factory=list)
    queues: list[str] = field(default_factory=list)
    vault_secrets: list[str] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Carried:
        """What :meth:`to_dict` journaled (the SQL itself is in the file)."""
        return cls(
            rows=dict(data.get("rows") or {}),
            excluded=list(data.get("excluded") or []),
            not_carried=dict(data.get("not_carried") or {}),
            cron_jobs=list(data.get("cron_jobs") or []),
            queues=list(data.get("queues") or []),
            vault_secrets=list(data.get("vault_secrets") or []),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "excluded": self.excluded,
            "not_carried": self.not_carried,
            "cron_jobs": self.cron_jobs,
            "queues": self.queues,
            "vault_secrets": self.vault_secrets,
        }


def _sequences(conn: psycopg.Connection, tables: list[str]) -> list[str]:
    statements = []
    for (seq,) in conn.execute(_OWNED_SEQUENCES_SQL, (tables,)).fetchall():
        row = conn.execute(f"SELECT last_value, is_called FROM {seq}").fetchone()
        if row is None or not row[1]:
            continue
        statements.append(
            f"SELECT pg_catalog.setval({literal(seq)}, {int(row[0])}, true) "
            f"WHERE NOT EXISTS (SELECT 1 FROM {seq} WHERE is_called AND last_value >= {int(row[0])});"
        )
    return statements


def _cron(env: Environment, redactions: Redactions, out: Carried) -> list[str]:
    lines = []
    for job in sorted(env.cron_jobs, key=lambda j: (j.name or "", j.schedule, j.command)):
        command = redactions.scrub(job.command, f"cron job {job.name or job.schedule}")
        if job.name:
            lines.append(f"SELECT cron.schedule({literal(job.name)}, {literal(job.schedule)}, {literal(command)});")
            which = f"(SELECT jobid FROM cron.job WHERE jobname = {literal(job.name)} AND username = current_user)"
        else:
            lines.append(
                f"SELECT cron.schedule({literal(job.schedule)}, {literal(command)}) WHERE NOT EXISTS "
                f"(SELECT 1 FROM cron.job WHERE jobname IS NULL AND schedule = {literal(job.schedule)} "
                f"AND command = {literal(command)});"
            )
            which = (
                f"(SELECT min(jobid) FROM cron.job WHERE jobname IS NULL AND schedule = {literal(job.schedule)} "
                f"AND command = {literal(command)})"
            )
        if not job.active:
            lines.append(f"SELECT cron.alter_job({which}, active => false);")
        out.cron_jobs.append(job.describe())
    return lines


def _queues(env: Environment, out: Carried) -> list[str]:
    lines = []
    for queue in sorted(env.queues, key=lambda q: q.name):
        if queue.partitioned:
            out.not_carried[f"pgmq queue {queue.name}"] = (
                "partitioned queues are created with their own partition sizes"
            )
            continue
        create = "pgmq.create_unlogged" if queue.unlogged else "pgmq.create"
        lines.append(
            f"SELECT {create}({literal(queue.name)}) "
            f"WHERE NOT EXISTS (SELECT 1 FROM pgmq.meta WHERE queue_name = {literal(queue.name)});"
        )
        out.queues.append(queue.name)
    return lines


def _vault(conn: psycopg.Connection, env: Environment, redactions: Redactions, out: Carried) -> list[str]:
    lines = []
    for name in sorted(env.vault_secret_names):
        row = conn.execute("SELECT description FROM vault.secrets WHERE name = %s", (name,)).fetchone()
        description = redactions.scrub(str(row[0] or "") if row else "", f"vault secret {name}")
        lines.append(
            f"SELECT vault.create_secret({literal(VAULT_PLACEHOLDER)}, {literal(name)}, {literal(description)}) "
            f"WHERE NOT EXISTS (SELECT 1 FROM vault.secrets WHERE name = {literal(name)});"
        )
        out.vault_secrets.append(name)
        if name not in redactions.vault_secrets:
            redactions.vault_secrets.append(name)
    return lines


def _section(title: str, lines: list[str]) -> str:
    return f"--\n-- {title}\n--\n\n" + "\n".join(lines) + "\n\n" if lines else ""


def carry(
    dsn: str,
    env: Environment,
    written: list[str],
    redactions: Redactions,
    *,
    excluded: list[str],
    from_target: list[str],
) -> Carried:
    """The inserts and calls that rebuild what the history wrote, read from its fresh environment at ``dsn``.

    Args:
        written: Tables the history wrote (measured against the bare platform).
        excluded: Tables the operator excluded (``schema.table``).
        from_target: Tables whose rows come from the target instead (``--include-data``).

    Raises:
        DataError: a written table has more rows than a baseline carries (exclude it).
    """
    out = Carried()
    tables = []
    for table in written:
        if carried_state(table):
            if table.startswith("pgmq.q_") or table.startswith("pgmq.a_"):
                out.not_carried[table] = "queue messages are not schema (the queue itself is carried)"
            continue
        if table in excluded:
            out.excluded.append(table)
        elif table not in from_target:
            tables.append(table)
    parts = []
    with open_session(dsn) as conn:
        section = data_mod.data_sql(
            conn,
            tables,
            redactions.scrub,
            "Rows the old history wrote (measured in a fresh environment built from it)",
            provisioned=True,
        )
        sequences = _sequences(conn, list(section.rows))
        calls = _cron(env, redactions, out) + _queues(env, out) + _vault(conn, env, redactions, out)
    out.rows = section.rows
    out.statements = section.statements + sequences + calls
    if section.rows:
        parts.append(section.sql)
    parts.append(_section("Sequences of those tables, where the history left them", sequences))
    parts.append(
        _section("Platform state the old history made by calls (pg_cron, pgmq, Vault), as the same calls", calls)
    )
    out.sql = "".join(parts)
    return out
