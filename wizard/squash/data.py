"""Rows the operator chose to carry into the baseline, as idempotent inserts.

A schema-only baseline drops whatever rows the old history inserted (a storage bucket, a
lookup table). For each chosen table, every row is read from the (read-only) target and
written as one ``INSERT``: ``ON CONFLICT DO NOTHING`` when the table has a primary key or
unique constraint, otherwise guarded by ``WHERE NOT EXISTS`` on the whole row. Applying the
file twice therefore inserts each row once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from wizard.db.connect import scalar
from wizard.db.sqltext import ident, literal, qualified
from wizard.errors import WizardError
from wizard.history.files import MigrationFile

#: More rows than this in one table is a data migration, not a baseline.
MAX_ROWS = 10_000

_COLUMNS_SQL = """
SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS type, a.attgenerated <> '' AS generated,
       a.attidentity = 'a' AS identity_always
  FROM pg_attribute a
 WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY a.attnum
"""

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


def _inserts(conn: psycopg.Connection, info: dict) -> list[str]:
    with conn.cursor(row_factory=dict_row) as cur:
        columns = [c for c in cur.execute(_COLUMNS_SQL, (info["regclass"],)).fetchall() if not c["generated"]]
    if not columns:
        return []
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
    for row in conn.execute(select).fetchall():
        values = [
            f"{literal(v)}::{c['type']}" if v is not None else f"NULL::{c['type']}"
            for v, c in zip(row, columns, strict=True)
        ]
        if info["has_unique"]:
            statements.append(
                f"INSERT INTO {target} ({names}){overriding} VALUES ({', '.join(values)}) ON CONFLICT DO NOTHING;"
            )
        else:
            # Compared as text, which every type has (json has no equality operator).
            match = " AND ".join(
                f"t.{ident(c['attname'])}::text IS NOT DISTINCT FROM {literal(v)}"
                for c, v in zip(columns, row, strict=True)
            )
            statements.append(
                f"INSERT INTO {target} ({names}){overriding} SELECT {', '.join(values)} "
                f"WHERE NOT EXISTS (SELECT 1 FROM {target} t WHERE {match});"
            )
    return statements


def data_sql(conn: psycopg.Connection, tables: list[str]) -> DataSection:
    """Idempotent inserts for every row of ``tables`` on the target behind ``conn`` (read-only).

    Raises:
        DataError: a table does not exist, is not a table, or has too many rows.
    """
    section = DataSection()
    if not tables:
        return section
    infos: dict[str, dict] = {}
    for name in tables:
        info = _table(conn, name)
        infos[f"{info['nspname']}.{info['relname']}"] = info
    parts = []
    for name in _order(infos):
        statements = _inserts(conn, infos[name])
        section.rows[name] = len(statements)
        section.statements += statements
        parts.append(f"-- {name}: {len(statements)} row(s)\n" + "".join(s + "\n" for s in statements))
    section.sql = "--\n-- Data carried from the target (idempotent inserts)\n--\n\n" + "\n".join(parts) + "\n"
    return section
