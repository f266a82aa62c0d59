"""Rows the operator chose to carry into the baseline, as idempotent inserts.

A schema-only baseline drops whatever rows the old history inserted (a storage bucket, a
lookup table). For each chosen table, every row is read from the (read-only) target and
written as one ``INSERT``: ``ON CONFLICT DO NOTHING`` when the table has a primary key or
unique constraint, otherwise guarded by ``WHERE NOT EXISTS`` on the whole row. Applying the
file twice therefore inserts each row once.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from wizard.db.connect import scalar
from wizard.db.sqltext import ident, literal, qualified
from wizard.errors import WizardError
from wizard.history.files import MigrationFile

#: Tables whose values are secrets: never carried.
VAULT_TABLES: tuple[str, ...] = ("vault.secrets", "vault.decrypted_secrets")

#: More rows than this in one table is a data migration, not a baseline.
MAX_ROWS = 10_000

_COLUMNS_SQL = """
SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS type, a.attgenerated <> '' AS generated,
       a.attidentity = 'a' AS identity_always, pg_get_expr(d.adbin, d.adrelid) AS default_expr
  FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY a.attnum
"""

#: A column default that is the moment of provisioning (``now()``, ``CURRENT_TIMESTAMP``...).
_PROVISION_TIME = re.compile(
    r"\b(now|clock_timestamp|statement_timestamp|transaction_timestamp)\(\)|\b(CURRENT_TIMESTAMP|CURRENT_DATE|"
    r"CURRENT_TIME|LOCALTIMESTAMP|LOCALTIME)\b",
    re.I,
)


def provision_time(default_expr: str | None) -> bool:
    """Whether a column's default is the time of provisioning: its value differs in every fresh environment."""
    return bool(default_expr) and _PROVISION_TIME.search(default_expr or "") is not None


_TABLE_SQL = """
SELECT c.oid::regclass::text AS regclass, n.nspname, c.relname, c.relkind,
       EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisunique AND i.indisvalid
                  AND i.indpred IS NULL) AS has_unique,
       ARRAY(SELECT fn.nspname || '.' || fc.relname FROM pg_constraint con
               JOIN pg_class fc ON fc.oid = con.confrelid JOIN pg_namespace fn ON fn.oid = fc.relnamespace
              WHERE con.conrelid = c.oid AND con.contype = 'f' AND con.confrelid <> c.oid) AS references
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = %s AND c.relname = %s
"""


class DataError(WizardError):
    """A table chosen for the baseline's data cannot be carried."""


@dataclass(frozen=True)
class DataStatement:
    """A statement of the old history that writes rows (or may: DO blocks, function calls)."""

    file: str
    line: int
    kind: str
    category: str
    target: str | None

    def describe(self) -> str:
        what = self.kind.removesuffix("Stmt").upper()
        return f"{self.file}:{self.line}: {what}{' ' + self.target if self.target else ''}"

    def to_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "kind": self.kind,
            "category": self.category,
            "target": self.target,
        }


@dataclass
class DataSection:
    """The inserts for the chosen tables.

    Attributes:
        sql: One statement per row, tables in foreign-key order.
        rows: Rows written per table (``schema.table``).
        sha256: Digest of :attr:`sql` (evidence, and part of the baseline's identity).
        statements: The inserts alone, to re-apply when proving idempotency.
    """

    sql: str = ""
    rows: dict[str, int] = field(default_factory=dict)
    statements: list[str] = field(default_factory=list)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def data_statements(files: list[MigrationFile]) -> list[DataStatement]:
    """Every statement of ``files`` that writes rows a schema-only baseline would not carry."""
    return [DataStatement(f.filename, s.line, s.node, s.category, s.target) for f in files for s in f.data_statements]


def split_name(name: str) -> tuple[str, str]:
    """``schema.table`` (``public`` when no schema is given) as its two parts."""
    schema, _, table = name.rpartition(".")
    return (schema or "public"), table


def _table(conn: psycopg.Connection, name: str) -> dict:
    schema, table = split_name(name)
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(_TABLE_SQL, (schema, table)).fetchone()
    if row is None:
        raise DataError(f"--include-data {name}: the target has no table {schema}.{table}", "check the table name")
    if row["relkind"] not in ("r", "p"):
        raise DataError(f"--include-data {name}: {schema}.{table} is not a table", "name a table")
    return row


def refuse_secrets(tables: list[str]) -> None:
    """Refuse to carry the rows of a table that holds secret values (the vault's).

    Raises:
        DataError: ``vault.secrets`` (or the view of its decrypted values) is among ``tables``.
    """
    for name in tables:
        if "{}.{}".format(*split_name(name)) in VAULT_TABLES:
            raise DataError(
                f"--include-data {name}: vault secret values never go into the baseline (it is committed to git); "
                "the baseline creates each secret with a placeholder and squash lists the secrets to set",
                f"drop --include-data {name}; set the values with vault.update_secret() after provisioning",
            )


def _order(tables: dict[str, dict]) -> list[str]:
    """Tables so that a referenced table comes before those that reference it."""
    ordered: list[str] = []

    def visit(name: str, trail: tuple[str, ...] = ()) -> None:
        if name in ordered or name in trail:
            return
        for ref in sorted(tables[name]["references"]):
            if ref in tables:
                visit(ref, (*trail, name))
        ordered.append(name)

    for name in sorted(tables):
        visit(name)
    return ordered


def _inserts(
    conn: psycopg.Connection,
    info: dict,
    scrub: Callable[[str, str], str] | None = None,
    provisioned: bool = False,
) -> tuple[list[str], int]:
    with conn.cursor(row_factory=dict_row) as cur:
        columns = [
            c
            for c in cur.execute(_COLUMNS_SQL, (info["regclass"],)).fetchall()
            if not c["generated"] and not (provisioned and provision_time(c["default_expr"]))
        ]
    if not columns:
        return [], 0
    target = qualified(info["nspname"], info["relname"])
    select = sql.SQL("SELECT {} FROM {} ORDER BY {}").format(
        sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(c["attname"])) for c in columns),
        sql.Identifier(info["nspname"], info["relname"]),
        sql.SQL(", ").join(sql.Literal(i) for i in range(1, len(columns) + 1)),
    )
    count = scalar(
        conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(info["nspname"], info["relname"])))
    )
    if count > MAX_ROWS:
        raise DataError(
            f"--include-data {target}: {count} rows is more than {MAX_ROWS}; a baseline is not a data migration",
            "carry large tables with a seed file or pg_dump --data-only instead",
        )
    names = ", ".join(ident(c["attname"]) for c in columns)
    overriding = " OVERRIDING SYSTEM VALUE" if any(c["identity_always"] for c in columns) else ""
    statements = []
    rows: dict[tuple, int] = {}  # identical rows of a table without a key are inserted as many times as they occur
    for raw in conn.execute(select).fetchall():
        row = raw if scrub is None else tuple(None if v is None else scrub(v, f"rows of {target}") for v in raw)
        rows[row] = rows.get(row, 0) + 1
    for row, copies in rows.items():
        values = [
            f"{literal(v)}::{c['type']}" if v is not None else f"NULL::{c['type']}"
            for v, c in zip(row, columns, strict=True)
        ]
        if info["has_unique"]:
            statements.append(
                f"INSERT INTO {target} ({names}){overriding} VALUES ({', '.join(values)}) ON CONFLICT DO NOTHING;"
            )
            continue
        # Compared as text, which every type has (json has no equality operator).
        match = " AND ".join(
            f"t.{ident(c['attname'])}::text IS NOT DISTINCT FROM {literal(v)}"
            for c, v in zip(columns, row, strict=True)
        )
        if copies == 1:
            statements.append(
                f"INSERT INTO {target} ({names}){overriding} SELECT {', '.join(values)} "
                f"WHERE NOT EXISTS (SELECT 1 FROM {target} t WHERE {match});"
            )
        else:
            statements.append(
                f"INSERT INTO {target} ({names}){overriding} SELECT {', '.join(values)} "
                f"FROM generate_series(1, {copies} - (SELECT count(*) FROM {target} t WHERE {match}));"
            )
    return statements, sum(rows.values())


def data_sql(
    conn: psycopg.Connection,
    tables: list[str],
    scrub: Callable[[str, str], str] | None = None,
    title: str = "Data carried from the target (idempotent inserts)",
    provisioned: bool = False,
) -> DataSection:
    """Idempotent inserts for every row of ``tables`` in the database behind ``conn`` (read-only).

    ``scrub(value, where)`` rewrites each value first (key-like values become placeholders).
    ``provisioned``: the rows come from a fresh environment; columns whose default is the time of
    provisioning are left to that default, as the history left them to it.

    Raises:
        DataError: a table does not exist, is not a table, or has too many rows.
    """
    section = DataSection()
    if not tables:
        return section
    refuse_secrets(tables)
    infos: dict[str, dict] = {}
    for name in tables:
        info = _table(conn, name)
        infos[f"{info['nspname']}.{info['relname']}"] = info
    parts = []
    for name in _order(infos):
        statements, rows = _inserts(conn, infos[name], scrub, provisioned)
        section.rows[name] = rows
        section.statements += statements
        parts.append(f"-- {name}: {rows} row(s)\n" + "".join(s + "\n" for s in statements))
    section.sql = f"--\n-- {title}\n--\n\n" + "\n".join(parts) + "\n"
    return section
