"""Local migration files: discovery with the Supabase CLI's naming rule, hashing, parsing.

The Supabase CLI runs files named ``<digits>_<name>.sql`` in the migrations folder,
ordered by version, and skips every other file with the warning
``file name must match pattern "<timestamp>_name.sql"``; this module applies the same rule.
Statements are split and classified with PostgreSQL's own parser (pglast).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from wizard.errors import MigrationFileError

#: The Supabase CLI's rule for migration file names.
CLI_PATTERN = re.compile(r"^([0-9]+)_(.*)\.sql$")
CLI_RULE = 'file name must match pattern "<timestamp>_name.sql"'
#: ``<timestamp>-<uuid>.sql`` and the like: skipped by the CLI, though another tool may have applied
#: it and recorded its timestamp as the version.
SKIPPED_VERSION = re.compile(r"^([0-9]{8,})[^0-9_]")

DATA_NODES = {"InsertStmt", "UpdateStmt", "DeleteStmt", "CopyStmt", "MergeStmt", "TruncateStmt"}
PROCEDURAL_NODES = {"DoStmt", "SelectStmt", "CallStmt"}
NO_TRANSACTION_NODES = {
    "VacuumStmt",
    "CreatedbStmt",
    "DropdbStmt",
    "AlterSystemStmt",
    "CreateTableSpaceStmt",
    "ClusterStmt",
}


#: The first line and the name of the baseline this tool writes (Phase 2).
BASELINE_MARKER = "-- consolidation-wizard baseline"
BASELINE_NAME = "consolidated_production_schema"


def is_baseline(path: Path) -> bool:
    """Whether ``path`` is a baseline written by this tool (by name and first line)."""
    if not path.name.endswith(f"_{BASELINE_NAME}.sql"):
        return False
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            return handle.readline().rstrip("\n") == BASELINE_MARKER
    except OSError:
        return False


@dataclass(frozen=True)
class Statement:
    """One SQL statement of a migration file.

    Attributes:
        line: 1-based line where the statement starts in its file.
        node: The parser's node type, such as ``CreateStmt`` or ``InsertStmt``.
        category: ``ddl``, ``data`` (rows a schema-only baseline would drop),
            ``procedural`` (DO blocks, SELECT/CALL of functions: may change data),
            ``transaction`` or ``setting``.
        target: The table a data statement writes, when the parser names one.
    """

    index: int
    line: int
    text: str
    node: str
    category: str
    target: str | None = None
    needs_autocommit: bool = False


@dataclass
class MigrationFile:
    """A file in the migrations folder."""

    path: Path
    version: str | None
    name: str | None
    sha256: str
    statements: list[Statement] = field(default_factory=list)
    error: str | None = None

    @property
    def filename(self) -> str:
        return self.path.name

    @property
    def data_statements(self) -> list[Statement]:
        return [s for s in self.statements if s.category in ("data", "procedural")]


@dataclass
class MigrationSet:
    """Every file of a migrations folder, sorted out.

    Attributes:
        files: Files the Supabase CLI would run, in version order.
        ignored: Files the CLI skips, with the CLI's rule as the reason.
        duplicates: Versions used by more than one file.
        include_ignored: The operator chose to replay the ignored ``.sql`` files too: ``files``
            then holds every ``.sql`` file in file-name order (see :func:`discover`).
    """

    directory: Path
    files: list[MigrationFile]
    ignored: list[MigrationFile]
    duplicates: dict[str, list[str]]
    include_ignored: bool = False

    @property
    def errors(self) -> list[str]:
        return [f.error for f in self.files if f.error]

    @property
    def versions(self) -> list[str]:
        return [f.version for f in self.files if f.version]

    @property
    def skipped_sql(self) -> list[MigrationFile]:
        """The ``.sql`` files the CLI skips that carry a leading timestamp (see :func:`skipped_version`)."""
        return [f for f in self.ignored if f.path.suffix == ".sql" and skipped_version(f.filename)]

    @property
    def replayed_ignored(self) -> list[MigrationFile]:
        """Files the CLI ignores that are replayed anyway (``include_ignored``)."""
        return [f for f in self.files if f.version is None]

    def history(self) -> list[MigrationFile]:
        """The files that are the history: this tool's baseline left out while the files it replaces are here.

        Between Phase 2 and Phase 3 the folder holds both; once archived, the baseline is the history.
        """
        older = [f for f in self.files if not is_baseline(f.path)]
        return older or self.files

    def statement_texts(self) -> list[tuple[str, str]]:
        """Every statement of the files the CLI runs, as ``(parser node, text)``."""
        return [(s.node, s.text) for f in self.files for s in f.statements]

    def require_files(self) -> MigrationSet:
        """This set, if it holds a migration file to run.

        Raises:
            MigrationFileError: the folder is empty, or holds only files the Supabase CLI ignores.
        """
        if self.files:
            return self
        skipped = [f.filename for f in self.ignored]
        fix = "set project.migrations_dir in consolidate.toml to the folder of your migration files"
        if not skipped:
            raise MigrationFileError(f"the migrations folder {self.directory} holds no migration file", fix)
        shown = ", ".join(skipped[:3]) + (", ..." if len(skipped) > 3 else "")
        raise MigrationFileError(
            f"the migrations folder {self.directory} holds only files the Supabase CLI ignores ({shown})",
            f"name them <timestamp>_name.sql, or {fix}",
        )


def skipped_version(filename: str) -> str | None:
    """The version a file the CLI skips would be recorded under by a tool that applied it: its timestamp."""
    if CLI_PATTERN.match(filename):
        return None
    match = SKIPPED_VERSION.match(filename)
    return match.group(1) if match else None


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, max(offset, 0)) + 1


def _target(fields: dict) -> str | None:
    relation = fields.get("relation")
    if not isinstance(relation, dict) or "relname" not in relation:
        return None
    schema = relation.get("schemaname")
    return f"{schema}.{relation['relname']}" if schema else relation["relname"]


def _category(node: str) -> str:
    if node in DATA_NODES:
        return "data"
    if node in PROCEDURAL_NODES:
        return "procedural"
    if node == "TransactionStmt":
        return "transaction"
    if node in ("VariableSetStmt", "VariableShowStmt"):
        return "setting"
    return "ddl"


def _needs_autocommit(node: str, fields: dict) -> bool:
    if node in NO_TRANSACTION_NODES:
        return True
    if node in ("IndexStmt", "DropStmt") and fields.get("concurrent"):
        return True
    # REINDEX ... CONCURRENTLY is an option in the parse tree of PostgreSQL 14 and later
    return node == "ReindexStmt" and any(
        (p.get("DefElem") or {}).get("defname") == "concurrently" for p in fields.get("params") or []
    )


def parse_statements(text: str, where: str) -> list[Statement]:
    """Split ``text`` into classified statements.

    Raises:
        MigrationFileError: a syntax error, as ``where:line: message``.
    """
    from pglast import parser  # here: importing pglast slows the start-up of commands that parse no file

    try:
        # The parse tree as JSON: building pglast's Python node objects costs 30 times more.
        tree = json.loads(parser.parse_sql_json(text))
    except parser.ParseError as exc:
        # pg_dump 17.6+ writes \restrict lines; psql meta-commands are the usual reason a dump won't parse.
        for number, line in enumerate(text.splitlines(), start=1):
            if line.startswith("\\"):
                command = line.strip().split()[0]
                raise MigrationFileError(
                    f"{where}:{number}: psql meta-command {command} cannot run outside psql",
                    "delete the line (pg_dump 17.6+ writes \\restrict lines; the Supabase CLI rejects them)",
                ) from None
        message, offset = (*exc.args, 0)[:2]
        raise MigrationFileError(
            f"{where}:{_line_of(text, int(offset))}: {message}", "fix the SQL syntax at that line"
        ) from None
    data = text.encode("utf-8")  # the parser's locations count bytes
    statements = []
    for index, raw in enumerate(tree.get("stmts") or []):
        start = raw.get("stmt_location", 0)
        length = raw.get("stmt_len", 0)
        end = start + length if length else len(data)
        ((node, fields),) = raw["stmt"].items()
        statements.append(
            Statement(
                index=index + 1,
                line=data.count(b"\n", 0, start) + 1,
                text=data[start:end].decode("utf-8").strip(),
                node=node,
                category=_category(node),
                target=_target(fields) if node in DATA_NODES else None,
                needs_autocommit=_needs_autocommit(node, fields),
            )
        )
    return statements


def read_file(path: Path) -> tuple[str, str]:
    """The text and sha256 of a migration file.

    Raises:
        MigrationFileError: the file is not UTF-8.
    """
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    try:
        return data.decode("utf-8"), digest
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise MigrationFileError(
            f"{path.name}:{line}: not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})",
            "re-save the file as UTF-8",
        ) from None


def load_file(path: Path) -> MigrationFile:
    """Read, hash and parse one file; a parse problem is recorded in ``error``, not raised."""
    match = CLI_PATTERN.match(path.name)
    version, name = (match.group(1), match.group(2)) if match else (None, None)
    try:
        text, digest = read_file(path)
    except MigrationFileError as exc:
        return MigrationFile(path, version, name, hashlib.sha256(path.read_bytes()).hexdigest(), error=str(exc))
    migration = MigrationFile(path, version, name, digest)
    try:
        migration.statements = parse_statements(text, path.name)
    except MigrationFileError as exc:
        migration.error = str(exc)
    return migration


def discover(directory: Path, *, include_ignored: bool = False) -> MigrationSet:
    """Every ``.sql`` file directly in ``directory``, split by the CLI's naming rule.

    Args:
        directory: The migrations folder.
        include_ignored: Also replay the ``.sql`` files the CLI ignores (such as
            ``<timestamp>-<uuid>.sql`` from generators). They stay listed in ``ignored``, since
            the CLI still skips them, and ``files`` then holds every ``.sql`` file in file-name
            order, which is version order for names that start with same-length timestamps.

    Raises:
        MigrationFileError: the folder does not exist.
    """
    if not directory.is_dir():
        raise MigrationFileError(
            f"migrations folder {directory} does not exist",
            "set project.migrations_dir in consolidate.toml",
        )
    files: list[MigrationFile] = []
    ignored: list[MigrationFile] = []
    for path in sorted(p for p in directory.iterdir() if p.is_file()):
        if path.name.startswith("."):
            continue
        migration = load_file(path) if path.suffix == ".sql" else MigrationFile(path, None, None, "")
        (files if migration.version is not None else ignored).append(migration)
    files.sort(key=lambda f: (int(f.version or 0), f.filename))
    by_version: dict[str, list[str]] = defaultdict(list)
    for f in files:
        by_version[f.version or ""].append(f.filename)
    duplicates = {v: names for v, names in by_version.items() if len(names) > 1}
    if include_ignored:
        files = sorted(files + [f for f in ignored if f.path.suffix == ".sql"], key=lambda f: f.filename)
    return MigrationSet(directory, files, ignored, duplicates, include_ignored)
