"""Assemble the consolidated baseline file from the target, and write it idempotently.

The file is ``<version>_consolidated_production_schema.sql`` in the migrations folder:
a provenance header, then the extensions, the cleaned dump of the user schemas, the
objects on managed tables, a reset of the session settings, and the chosen rows. Its
version is a 14-digit UTC timestamp later than every file it supersedes.

Running squash again never adds a second baseline: a previous baseline (recognised by its
name and :data:`MARKER`) keeps its version while it is still the newest file; when the new
content equals the file on disk apart from the generation time, the file is left untouched.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from wizard import __version__
from wizard.catalog import Snapshot
from wizard.db.connect import Identity
from wizard.errors import WizardError
from wizard.history.files import (
    BASELINE_MARKER,
    BASELINE_NAME,
    MigrationFile,
    MigrationSet,
    is_baseline,
    skipped_version,
)
from wizard.project.config import Config, Target
from wizard.squash import data as data_mod
from wizard.squash import dump as dump_mod
from wizard.squash import managed as managed_mod
from wizard.squash.carry import Carried
from wizard.squash.secrets import Redactions, scrub_dump
from wizard.state import events
from wizard.state.journal import Journal, atomic_write, utc_now

#: The first line of every baseline this tool writes.
MARKER = BASELINE_MARKER
NAME = BASELINE_NAME
_GENERATED_AT = "-- Generated at: "
_VERSION_FORMAT = "%Y%m%d%H%M%S"
_FILE_MODE = 0o644


class NothingToConsolidate(WizardError):
    """The migrations folder holds no file for a baseline to replace."""


@dataclass
class Baseline:
    """A generated baseline file and the evidence of how it was made.

    Attributes:
        path: The file in the migrations folder.
        reused: The file on disk already had this content; it was not rewritten.
        replaced: Earlier baseline files this one replaced (removed from the folder).
        superseded: The migration files this baseline replaces, in version order.
        skipped: Files the Supabase CLI skips (``<timestamp>-<uuid>.sql``) whose timestamp the
            target's history records: superseded, archived and their history rows moved too.
    """

    path: Path
    version: str
    sha256: str
    text: str
    generated_at: str
    superseded: list[MigrationFile]
    data_statements: list[data_mod.DataStatement]
    cleaned: dump_mod.CleanDump
    managed: managed_mod.ManagedSql
    data: data_mod.DataSection
    pg_dump: dict[str, str]
    reused: bool = False
    replaced: list[str] = field(default_factory=list)
    seconds: float = 0.0
    adopted_from: str | None = None
    carried: Carried = field(default_factory=Carried)
    redactions: Redactions = field(default_factory=Redactions)
    skipped: list[MigrationFile] = field(default_factory=list)

    @property
    def included_tables(self) -> list[str]:
        return list(self.data.rows)

    @property
    def rows(self) -> dict[str, int]:
        """Rows the file carries per table: from the target (``--include-data``) and from the history."""
        return {**self.carried.rows, **self.data.rows}

    def superseded_evidence(self) -> list[dict[str, str]]:
        files = [{"file": f.filename, "version": f.version or "", "sha256": f.sha256} for f in self.superseded]
        files += [
            {"file": f.filename, "version": skipped_version(f.filename) or "", "sha256": f.sha256} for f in self.skipped
        ]
        return files


def split_files(mset: MigrationSet) -> tuple[list[MigrationFile], list[MigrationFile]]:
    """``(files the baseline supersedes, earlier baselines of this tool)``, each in version order."""
    superseded: list[MigrationFile] = []
    previous: list[MigrationFile] = []
    for f in mset.files:
        (previous if is_baseline(f.path) else superseded).append(f)
    return superseded, previous


def _as_time(version: str) -> datetime | None:
    if len(version) != 14:
        return None
    try:
        return datetime.strptime(version, _VERSION_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def next_version(versions: list[str], now: datetime | None = None) -> str:
    """A 14-digit UTC timestamp later than every version in ``versions`` and not before ``now``.

    Raises:
        WizardError: an existing version is a number no timestamp can follow.
    """
    moment = (now or datetime.now(UTC)).replace(microsecond=0)
    for version in versions:
        stamp = _as_time(version)
        if stamp is not None:
            moment = max(moment, stamp + timedelta(seconds=1))
        elif version.isdigit() and int(version) >= int(moment.strftime(_VERSION_FORMAT)):
            raise WizardError(
                f"migration version {version} is later than any timestamp; the baseline cannot come after it",
                "rename that file with a 14-digit UTC timestamp (YYYYMMDDHHMMSS) version",
            )
    return moment.strftime(_VERSION_FORMAT)


def _without_time(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.startswith(_GENERATED_AT))


def header(
    target: Target,
    identity: Identity,
    snap: Snapshot,
    pg_dump: dict[str, str],
    generated_at: str,
    superseded: list[MigrationFile],
    statements: list[data_mod.DataStatement],
    data: data_mod.DataSection,
    cleaned: dump_mod.CleanDump,
    managed: managed_mod.ManagedSql,
    carried: Carried | None = None,
    redactions: Redactions | None = None,
) -> str:
    """The provenance comment: target, identity, versions, time, superseded files, data and omissions."""
    carried = carried or Carried()
    redactions = redactions or Redactions()
    lines = [
        MARKER,
        f"-- Consolidated schema of target {target.name}: one migration replacing {len(superseded)} older file(s).",
        "-- Generated by `consolidate squash` from the real database (the source of truth), not from the history.",
        "--",
        f"-- Target: {target.name} (role {target.role})",
        f"-- Identity: {identity.describe()}, read as {identity.user}",
        f"-- Server: PostgreSQL {snap.server_version}",
        f"-- pg_dump: {pg_dump['version']}",
        f"{_GENERATED_AT}{generated_at}",
        f"-- Schema fingerprint: {snap.fingerprint()}",
        f"-- consolidation-wizard {__version__}",
        "--",
        f"-- Supersedes {len(superseded)} file(s) (version, file, sha256):",
        *(f"--   {f.version}  {f.filename}  {f.sha256}" for f in superseded),
        "--",
    ]
    if statements:
        lines.append("-- Statements of those files that write rows (a schema-only baseline does not carry rows):")
        for s in statements:
            kept = s.target is not None and _qualify(s.target) in {**data.rows, **carried.rows}
            lines.append(f"--   {s.describe()}  [{'rows carried below' if kept else 'rows NOT carried'}]")
    else:
        lines.append("-- No statement of those files writes rows.")
    if data.rows:
        carried_rows = ", ".join(f"{t} ({n} row(s))" for t, n in data.rows.items())
        lines.append(f"-- Rows carried from the target as idempotent inserts: {carried_rows}")
    if carried.rows:
        carried_rows = ", ".join(f"{t} ({n} row(s))" for t, n in carried.rows.items())
        lines.append(f"-- Rows the old history wrote, carried as idempotent inserts: {carried_rows}")
    for what, items in (("pg_cron jobs", carried.cron_jobs), ("pgmq queues", carried.queues)):
        if items:
            lines.append(f"-- {what} the old history made, carried as the same calls: {', '.join(items)}")
    if carried.excluded:
        lines.append(f"-- Rows the old history wrote, excluded by the operator: {', '.join(carried.excluded)}")
    for table, why in carried.not_carried.items():
        lines.append(f"-- Not carried: {table} ({why})")
    if redactions.vault_secrets:
        lines.append(
            "-- Vault secrets created with a placeholder value (set each after provisioning with "
            f"vault.update_secret): {', '.join(redactions.vault_secrets)}"
        )
    for r in redactions.replaced:
        lines.append(f"-- A {r.kind} in {r.where} is replaced by the placeholder {r.placeholder}: set the real value")
    lines.append(f"-- Ownership: OWNER TO is kept only for {', '.join(dump_mod.KEPT_OWNERS)}.")
    for what, role in cleaned.dropped_owners:
        lines.append(f"--   dropped OWNER TO {role} of {what}: it belongs to the role that applies this file")
    if cleaned.dropped_default_privileges:
        lines.append(
            f"-- Default privileges of other roles left out ({len(cleaned.dropped_default_privileges)} statement(s)):"
            " a new project has Supabase's own."
        )
    if managed.left_out:
        lines.append(f"-- Left out (installed by Supabase in every project): extension {', '.join(managed.left_out)}")
    lines.append(
        "-- Left out: Supabase-managed schemas (auth, storage, realtime, ...), roles, and rows the old history did "
        "not write."
    )
    return "\n".join(lines) + "\n"


def _qualify(name: str) -> str:
    schema, table = data_mod.split_name(name)
    return f"{schema}.{table}"


def render(
    head: str,
    cleaned: dump_mod.CleanDump,
    managed: managed_mod.ManagedSql,
    data: data_mod.DataSection,
    carried: Carried | None = None,
) -> str:
    """The whole file: header, extensions, dump, managed objects, session reset, rows, platform calls."""
    parts = [head, "\n", managed.before, cleaned.sql, "\n", managed.after]
    if cleaned.reset_sql:
        parts += ["--\n-- Give the session back as it was: later migrations run in the same session\n--\n\n"]
        parts += [cleaned.reset_sql, "\n"]
    parts.append(data.sql)
    if carried is not None:
        parts.append(carried.sql)
    return "".join(parts).rstrip("\n") + "\n"


def generate(
    config: Config,
    target: Target,
    conn: psycopg.Connection,
    dsn: str,
    identity: Identity,
    snap: Snapshot,
    mset: MigrationSet,
    journal: Journal,
    include_data: list[str] | None = None,
    progress: Callable[[str], None] | None = None,
    cancel: threading.Event | None = None,
    now: datetime | None = None,
    carry: Callable[[Redactions], Carried] | None = None,
    skipped: list[MigrationFile] | None = None,
) -> Baseline:
    """Write (or keep) the baseline for the target and journal ``squash.generated``.

    Args:
        conn: A read-only session on the target; ``dsn`` is the same database, for pg_dump.
        snap: The target's snapshot (what the baseline must reproduce).
        include_data: Tables whose rows go into the baseline (``schema.table``), read from the target.
        carry: Reads what the old history made in its fresh environment (rows, platform calls).

    Raises:
        NothingToConsolidate: no migration file besides earlier baselines.
        MigrationFileError: a file cannot be parsed, or two share a version.
        DumpError, DataError, ToolNotFound: the target could not be read as needed.
        Cancelled: ``cancel`` was set; nothing was written.
    """
    say = progress or (lambda _msg: None)
    started = time.monotonic()
    superseded, previous = split_files(mset)
    if not superseded:
        raise NothingToConsolidate(
            f"the migrations folder {mset.directory} holds no file to consolidate"
            + (f" besides the baseline {previous[-1].filename}" if previous else ""),
            "run squash before archiving (Phase 3), or restore the archived files first"
            if previous
            else "set project.migrations_dir in consolidate.toml to the folder of your migration files",
        )

    def check() -> None:
        if cancel is not None and cancel.is_set():
            raise dump_mod.Cancelled("squash was cancelled; nothing was written", "run the command again")

    schemas = [o.name for o in snap.of_kind("schema")]
    say(f"dumping {len(schemas)} user schema(s) with pg_dump")
    raw = dump_mod.dump(dsn, schemas, snap.server_version_num, cancel=cancel)
    redactions = Redactions()
    cleaned = dump_mod.clean(raw.text)
    cleaned.sql = scrub_dump(cleaned.sql, redactions, "the schema")
    check()
    say("reading objects on Supabase-managed tables")
    managed = managed_mod.managed_sql(conn, snap)
    managed.after = scrub_dump(managed.after, redactions, "objects on managed tables")
    say("reading the rows to carry from the target" if include_data else "no rows chosen from the target")
    data = data_mod.data_sql(conn, include_data or [], redactions.scrub)
    carried = Carried()
    if carry is not None:
        say("reading the rows and platform state the old history made")
        carried = carry(redactions)
    statements = data_mod.data_statements(superseded)
    check()

    pg_dump = {"version": raw.tool.version, "path": str(raw.tool.path)}
    newest = max(int(f.version or 0) for f in superseded)
    keep = next((p for p in reversed(previous) if int(p.version or 0) > newest), None)
    version = keep.version if keep and keep.version else next_version([f.version or "" for f in superseded], now)
    path = mset.directory / f"{version}_{NAME}.sql"
    generated_at = utc_now()
    text = render(
        header(
            target,
            identity,
            snap,
            pg_dump,
            generated_at,
            superseded,
            statements,
            data,
            cleaned,
            managed,
            carried,
            redactions,
        ),
        cleaned,
        managed,
        data,
        carried,
    )
    reused = False
    if path.is_file():
        on_disk = path.read_text(encoding="utf-8", errors="replace")
        if _without_time(on_disk) == _without_time(text):
            text, reused = on_disk, True
            generated_at = next(
                (line[len(_GENERATED_AT) :] for line in on_disk.splitlines() if line.startswith(_GENERATED_AT)),
                generated_at,
            )
    check()
    if not reused:
        say(f"writing {path.name}")
        atomic_write(path, text, mode=_FILE_MODE)
    replaced = []
    for old in previous:
        if old.path != path and is_baseline(old.path):
            old.path.unlink(missing_ok=True)
            replaced.append(old.filename)
    baseline = Baseline(
        path=path,
        version=version,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        text=text,
        generated_at=generated_at,
        superseded=superseded,
        data_statements=statements,
        cleaned=cleaned,
        managed=managed,
        data=data,
        pg_dump=pg_dump,
        reused=reused,
        replaced=replaced,
        seconds=time.monotonic() - started,
        carried=carried,
        redactions=redactions,
        skipped=list(skipped or []),
    )
    journal.append(events.SQUASH_GENERATED, **evidence(baseline, config, target, identity, snap))
    return baseline


def relative(config: Config, path: Path) -> str:
    """``path`` relative to the project root when it is inside it."""
    try:
        return str(path.resolve().relative_to(config.root))
    except ValueError:
        return str(path)


def evidence(baseline: Baseline, config: Config, target: Target, identity: Identity, snap: Snapshot) -> dict[str, Any]:
    """The ``squash.generated`` record: what was written, from what, and what was left out."""
    return {
        "target": target.name,
        "path": relative(config, baseline.path),
        "version": baseline.version,
        "sha256": baseline.sha256,
        "bytes": len(baseline.text.encode("utf-8")),
        "generated_at": baseline.generated_at,
        "reused": baseline.reused,
        "replaced": baseline.replaced,
        "superseded": baseline.superseded_evidence(),
        "identity": identity.to_dict(),
        "fingerprint": snap.fingerprint(),
        "counts": dict(snap.counts()),
        "pg_dump": baseline.pg_dump,
        "data_statements": [s.to_dict() for s in baseline.data_statements],
        "data_tables": baseline.data.rows,
        "data_sha256": baseline.data.sha256 if baseline.data.rows else None,
        "carried": baseline.carried.to_dict(),
        "redactions": baseline.redactions.to_dict(),
        "removed_from_dump": baseline.cleaned.removed,
        "dropped_owners": [{"object": what, "role": role} for what, role in baseline.cleaned.dropped_owners],
        "dropped_default_privileges": baseline.cleaned.dropped_default_privileges,
        "managed": baseline.managed.counts,
        "left_out_extensions": baseline.managed.left_out,
        "seconds": round(baseline.seconds, 3),
        "adopted_from": baseline.adopted_from,
    }


_TARGET_LINE = "-- Target: "


def generated_for(path: Path) -> str | None:
    """The target a baseline file was generated from, read from its provenance header."""
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if not line.startswith("--"):
                    return None
                if line.startswith(_TARGET_LINE):
                    return line[len(_TARGET_LINE) :].split(" ", 1)[0]
    except OSError:
        return None
    return None


def adopt(
    config: Config,
    target: Target,
    identity: Identity,
    snap: Snapshot,
    existing: MigrationFile,
    superseded: list[MigrationFile],
    journal: Journal,
    skipped: list[MigrationFile] | None = None,
) -> Baseline:
    """Take the project's existing baseline as this target's, unchanged; journal ``squash.generated``.

    A project has one baseline. Generated from the rehearsal target, it is adopted by the
    next target (production) as long as its proof against *that* target holds.
    """
    text = existing.path.read_text(encoding="utf-8")
    source = generated_for(existing.path)
    made = Journal.for_target(config.state_dir, source).last(events.SQUASH_GENERATED) if source else None
    same = made is not None and made.get("sha256") == existing.sha256  # what it carries, as its maker recorded
    baseline = Baseline(
        path=existing.path,
        version=existing.version or "",
        sha256=existing.sha256,
        text=text,
        generated_at=next(
            (line[len(_GENERATED_AT) :] for line in text.splitlines() if line.startswith(_GENERATED_AT)), ""
        ),
        superseded=superseded,
        data_statements=data_mod.data_statements(superseded),
        cleaned=dump_mod.CleanDump(sql=""),
        managed=managed_mod.ManagedSql(),
        data=data_mod.DataSection(),
        pg_dump={"version": "not run (baseline adopted)", "path": ""},
        reused=True,
        adopted_from=source,
        carried=Carried.from_dict((made or {}).get("carried") or {}) if same else Carried(),
        redactions=Redactions.from_dict((made or {}).get("redactions") or {}) if same else Redactions(),
        skipped=list(skipped or []),
    )
    journal.append(events.SQUASH_GENERATED, **evidence(baseline, config, target, identity, snap))
    return baseline
