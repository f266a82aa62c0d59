"""Benchmark ``consolidate compare`` against ``pg_dump --schema-only`` + diff and ``results`` dbdiff.

Builds two databases of the same large schema (by default 2,000 tables, each with a primary
key, a foreign key to another table, two secondary indexes, RLS with two policies; 500
plpgsql functions, each used by a trigger), writing B's DDL in a different order from A's
(shuffled tables and foreign keys, reversed indexes and policies, functions created after
the tables, a dropped column leaving a gap in some tables) and planting a handful of
differences of different kinds in B. Then, in one run, it times:

* ``consolidate compare A B --json`` (a subprocess, as a user runs it), and checks that its
  differences are exactly the planted ones (kind, name and status);
* two ``pg_dump --schema-only`` runs (sequential and parallel) plus a text diff (``diff -u``
  and :mod:`difflib`) of their outputs;
* the ``results`` package's ``dbdiff`` (the successor of migra), and which planted
  differences its SQL mentions.

It prints each method's median time with the runs' spread, its ratio to the parallel pg_dump
pair (the per-run ratios' median and range: each run of ``consolidate compare`` is timed next to
a run of the parallel pair, alternating which goes first) and whether every planted difference
was found, then ``GOAL MET`` or ``GOAL MISSED`` for each goal:

* parity: every planted difference found (and nothing else) by ``consolidate compare`` in no more
  than 1.0x the time of the two ``pg_dump --schema-only`` runs in parallel;
* start-up: ``consolidate --version`` within 0.25 s.

Usage::

    .venv/bin/python bench/parity.py                      # 2,000 tables, 500 functions, 5 runs
    .venv/bin/python bench/parity.py --tables 50 --functions 10 --repeat 1   # smoke run
    .venv/bin/python bench/parity.py --dsn 'host=... user=postgres dbname=postgres'

The exit code is 0 whether or not the goal is met; nonzero only when the benchmark crashes.
"""

from __future__ import annotations

import argparse
import difflib
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

import psycopg
from psycopg import conninfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from wizard.catalog import DEFAULT_SESSIONS, read  # noqa: E402
from wizard.parity.diff import compare  # noqa: E402
from wizard.platform import embedded  # noqa: E402
from wizard.platform.shadow import Shadow  # noqa: E402

DB_A = "cw_bench_parity_a"
DB_B = "cw_bench_parity_b"
GOAL_RATIO = 1.0  # consolidate compare / the two pg_dump --schema-only runs in parallel
GOAL_STARTUP = 0.25  # seconds for consolidate --version
SEED = 20240611
CHUNK = 400  # statements per round trip while building (keeps each implicit transaction's locks small)


# --------------------------------------------------------------------------- schema generation


@dataclass(frozen=True)
class Planted:
    """One difference planted in B.

    Attributes:
        kind: The object kind ``consolidate compare`` should report.
        name: The object's identity as ``consolidate compare`` names it.
        status: ``only_a``, ``only_b`` or ``different``.
        what: The change in words.
        needles: Lower-case strings that a statement (dbdiff) or changed line (pg_dump diff)
            must all contain to count as mentioning this difference.
    """

    kind: str
    name: str
    status: str
    what: str
    needles: tuple[str, ...]


@dataclass
class Layout:
    """The shape of the generated schema and where the differences are planted."""

    tables: int
    functions: int
    plants: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.tables < 10:
            raise SystemExit("--tables must be at least 10")
        if not 3 <= self.functions <= self.tables:
            raise SystemExit("--functions must be between 3 and --tables")
        used: set[int] = set()

        def pick(frac: float, ok: Callable[[int], bool] = lambda _i: True) -> int:
            i = int(self.tables * frac)
            for step in range(self.tables):
                cand = (i + step) % self.tables
                if cand not in used and ok(cand):
                    used.add(cand)
                    return cand
            raise SystemExit("schema too small to plant every difference on its own table")

        # Functions are planted by function number; reserve their trigger tables first.
        self.plants["function"] = int(self.functions * 0.15)
        self.plants["trigger"] = int(self.functions * 0.62)
        used.update({self.trigger_table(self.plants["function"]), self.trigger_table(self.plants["trigger"])})
        self.plants["fk"] = pick(0.06)
        self.plants["policy"] = pick(0.23)
        self.plants["index"] = pick(0.39)
        self.plants["default"] = pick(0.51)
        self.plants["grant"] = pick(0.75)
        self.plants["comment"] = pick(0.90, lambda i: self.has_comment(i))

    @staticmethod
    def table(i: int) -> str:
        return f"t_{i:05d}"

    @staticmethod
    def function(j: int) -> str:
        return f"touch_{j:05d}"

    def fk_target(self, i: int) -> int:
        ref = (i * 7 + 3) % self.tables
        return ref if ref != i else (i + 1) % self.tables

    def trigger_table(self, j: int) -> int:
        return j * self.tables // self.functions

    @staticmethod
    def has_comment(i: int) -> bool:
        return i % 10 == 0

    @staticmethod
    def has_dropped_column(i: int) -> bool:
        """In B only: created with an extra column that is then dropped (a gap in attnum)."""
        return i % 10 == 5

    def planted(self) -> list[Planted]:
        """The differences between A and B, as ``consolidate compare`` should report them."""
        p, t = self.plants, self.table
        fn = self.function(p["function"])
        trig = t(self.trigger_table(p["trigger"]))
        return [
            Planted(
                "constraint",
                f"public.{t(p['fk'])}.{t(p['fk'])}_parent_fk",
                "different",
                "foreign key ON DELETE CASCADE -> SET NULL",
                (f"{t(p['fk'])}_parent_fk",),
            ),
            Planted(
                "policy",
                f"public.{t(p['policy'])}.owner_read",
                "different",
                "policy USING current_user -> session_user",
                ("policy", "owner_read", t(p["policy"])),
            ),
            Planted("function", f"public.{fn}()", "different", "function body changed", ("function", fn)),
            Planted(
                "index",
                f"public.{t(p['index'])}_name_idx",
                "only_a",
                "index dropped in B",
                (f"{t(p['index'])}_name_idx",),
            ),
            Planted(
                "column",
                f"public.{t(p['default'])}.status",
                "different",
                "column default 'new' -> 'pending'",
                (t(p["default"]), "status", "default"),
            ),
            Planted("trigger", f"public.{trig}.audit", "only_a", "trigger dropped in B", ("trigger", "audit", trig)),
            Planted(
                "grant",
                f"table public.{t(p['grant'])} to PUBLIC",
                "only_b",
                "GRANT SELECT ... TO PUBLIC added in B",
                ("grant", "select", t(p["grant"])),
            ),
            Planted(
                "comment",
                f"table public.{t(p['comment'])}",
                "different",
                "table comment text changed",
                ("comment", t(p["comment"])),
            ),
        ]


def _create_table(layout: Layout, i: int, variant_b: bool) -> list[str]:
    t = layout.table(i)
    planted_default = variant_b and i == layout.plants["default"]
    gap = variant_b and layout.has_dropped_column(i)
    cols = [
        "id bigint NOT NULL",
        "parent_id bigint",
        "owner_name text NOT NULL DEFAULT CURRENT_USER",
        "title text NOT NULL",
        *(["legacy_flag boolean"] if gap else []),
        f"status text NOT NULL DEFAULT '{'pending' if planted_default else 'new'}'",
        "amount numeric(12,2) DEFAULT 0",
        "created_at timestamp with time zone NOT NULL DEFAULT now()",
        f"CONSTRAINT {t}_pkey PRIMARY KEY (id)",
    ]
    body = ",\n    ".join(cols)
    stmts = [f"CREATE TABLE public.{t} (\n    {body}\n)"]
    if gap:
        stmts.append(f"ALTER TABLE public.{t} DROP COLUMN legacy_flag")
    return stmts


def _foreign_key(layout: Layout, i: int, variant_b: bool) -> str:
    t, ref = layout.table(i), layout.table(layout.fk_target(i))
    action = "SET NULL" if variant_b and i == layout.plants["fk"] else "CASCADE"
    return (
        f"ALTER TABLE public.{t} ADD CONSTRAINT {t}_parent_fk FOREIGN KEY (parent_id) "
        f"REFERENCES public.{ref} (id) ON DELETE {action}"
    )


def _indexes(layout: Layout, i: int, variant_b: bool) -> list[str]:
    t = layout.table(i)
    stmts = [f"CREATE INDEX {t}_parent_idx ON public.{t} (parent_id)"]
    if not (variant_b and i == layout.plants["index"]):
        stmts.append(f"CREATE INDEX {t}_name_idx ON public.{t} (owner_name, created_at DESC)")
    return stmts


def _policies(layout: Layout, i: int, variant_b: bool) -> list[str]:
    t = layout.table(i)
    who = "SESSION_USER" if variant_b and i == layout.plants["policy"] else "CURRENT_USER"
    return [
        f"CREATE POLICY owner_read ON public.{t} FOR SELECT USING (owner_name = {who})",
        f"CREATE POLICY owner_write ON public.{t} FOR INSERT "
        "WITH CHECK (owner_name = CURRENT_USER AND status <> 'locked')",
    ]


def _function(layout: Layout, j: int, variant_b: bool) -> str:
    step = 100 if variant_b and j == layout.plants["function"] else j % 7 + 1
    return (
        f"CREATE FUNCTION public.{layout.function(j)}() RETURNS trigger LANGUAGE plpgsql AS $fn$\n"
        "BEGIN\n"
        "  NEW.status := coalesce(NEW.status, 'new');\n"
        f"  NEW.amount := coalesce(NEW.amount, 0) + {step};\n"
        "  RETURN NEW;\n"
        "END\n"
        "$fn$"
    )


def _trigger(layout: Layout, j: int) -> str:
    t = layout.table(layout.trigger_table(j))
    return (
        f"CREATE TRIGGER audit BEFORE INSERT OR UPDATE ON public.{t} "
        f"FOR EACH ROW EXECUTE FUNCTION public.{layout.function(j)}()"
    )


def _comment(layout: Layout, i: int, variant_b: bool) -> str:
    edited = " (edited)" if variant_b and i == layout.plants["comment"] else ""
    return f"COMMENT ON TABLE public.{layout.table(i)} IS 'Bench table {i}{edited}'"


def schema_a(layout: Layout) -> list[str]:
    """A's DDL in the natural order: functions, tables, indexes, keys, RLS, triggers, comments."""
    n, f = range(layout.tables), range(layout.functions)
    stmts = [_function(layout, j, False) for j in f]
    for i in n:
        stmts += _create_table(layout, i, False)
        stmts += _indexes(layout, i, False)
    stmts += [_foreign_key(layout, i, False) for i in n]
    for i in n:
        stmts.append(f"ALTER TABLE public.{layout.table(i)} ENABLE ROW LEVEL SECURITY")
        stmts += _policies(layout, i, False)
    stmts += [_trigger(layout, j) for j in f]
    stmts += [_comment(layout, i, False) for i in n if layout.has_comment(i)]
    return stmts


def schema_b(layout: Layout) -> list[str]:
    """B's DDL, in another order, with the planted differences."""
    rng = random.Random(SEED)
    tables = list(range(layout.tables))
    rng.shuffle(tables)
    fks = list(range(layout.tables))
    rng.shuffle(fks)
    stmts: list[str] = []
    for i in tables:
        stmts += _create_table(layout, i, True)
    stmts += [_foreign_key(layout, i, True) for i in fks]
    for i in reversed(tables):
        stmts += list(reversed(_policies(layout, i, True)))  # policies before RLS is enabled
        stmts.append(f"ALTER TABLE public.{layout.table(i)} ENABLE ROW LEVEL SECURITY")
    for i in reversed(range(layout.tables)):
        stmts += list(reversed(_indexes(layout, i, True)))
    stmts += [_comment(layout, i, True) for i in reversed(range(layout.tables)) if layout.has_comment(i)]
    stmts += [_function(layout, j, True) for j in reversed(range(layout.functions))]
    triggers = [j for j in range(layout.functions) if j != layout.plants["trigger"]]
    rng.shuffle(triggers)
    stmts += [_trigger(layout, j) for j in triggers]
    stmts.append(f"GRANT SELECT ON public.{layout.table(layout.plants['grant'])} TO PUBLIC")
    return stmts


def build(dsn: str, stmts: Sequence[str]) -> None:
    """Run ``stmts`` on ``dsn`` in chunks (one simple-query round trip, one transaction, per chunk)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        for start in range(0, len(stmts), CHUNK):
            conn.execute(";\n".join(stmts[start : start + CHUNK]) + ";")  # type: ignore[arg-type]
        conn.execute("ANALYZE")
        conn.execute("CHECKPOINT")  # so that the build's writes do not land in the timed runs


# --------------------------------------------------------------------------- servers


@dataclass
class Target:
    """The two benchmark databases and how to reach them."""

    shadow: Shadow
    dsn_a: str
    dsn_b: str
    server: str


@contextmanager
def databases(admin_dsn: str | None, workdir: Path, keep: bool) -> Iterator[Target]:
    """Create empty databases A and B on a throwaway embedded server (or the ``--dsn`` one)."""
    srv = None
    if admin_dsn is None:
        srv = embedded.server(workdir / "embedded")
        admin_dsn = srv.dsn("postgres")
    shadow = Shadow(admin_dsn=admin_dsn, bin_dir=embedded.bin_dir())
    for name in (DB_A, DB_B):
        shadow.drop_database(name)
    dsn_a = shadow.create_database(DB_A, bootstrap=False)
    dsn_b = shadow.create_database(DB_B, bootstrap=False)
    with psycopg.connect(admin_dsn) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
    where = "throwaway embedded server" if srv else "server of --dsn"
    try:
        yield Target(shadow, dsn_a, dsn_b, f"PostgreSQL {version} ({where})")
    finally:
        if not keep:
            for name in (DB_A, DB_B):
                shadow.drop_database(name)
        if srv is not None and not keep:
            srv.release()


def sqlalchemy_url(dsn: str) -> str:
    """A ``postgresql://`` URL for a libpq DSN; a socket directory goes in the query string."""
    parts = conninfo.conninfo_to_dict(dsn)
    host = str(parts.pop("host", "") or "")
    user = str(parts.pop("user", "") or "")
    password = str(parts.pop("password", "") or "")
    port = str(parts.pop("port", "") or "")
    dbname = str(parts.pop("dbname", "") or "")
    query = {k: str(v) for k, v in parts.items()}
    login = quote(user, safe="") + (":" + quote(password, safe="") if password else "")
    netloc = f"{login}@" if login else ""
    if host.startswith("/"):
        query["host"] = host
        if port:
            query["port"] = port
    else:
        netloc += host + (f":{port}" if port else "")
    url = f"postgresql://{netloc}/{quote(dbname, safe='')}"
    return url + ("?" + urlencode(query, safe="/") if query else "")


# --------------------------------------------------------------------------- the methods


def _timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def consolidate_cmd() -> list[str]:
    """The ``consolidate`` executable of this interpreter's environment, or ``python -m wizard.cli``."""
    exe = Path(sys.executable).parent / "consolidate"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "wizard.cli"]


def run_compare(dsn_a: str, dsn_b: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*consolidate_cmd(), "compare", dsn_a, dsn_b, "--json"],
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )


#: pg_dump 18 (and 17.6+) writes ``\restrict <random key>`` lines that differ on every run, so two dumps of
#: the same schema would never diff empty; a fixed key (no cost) keeps the text diff meaningful.
RESTRICT_KEY = "cwbenchparity"


def pg_dump_cmd(dsn: str, out: Path) -> list[str]:
    """``pg_dump --schema-only`` of ``dsn`` into ``out``, with the embedded wheel's (newest) client."""
    return [
        str(embedded.bin_dir() / "pg_dump"),
        "--schema-only",
        f"--restrict-key={RESTRICT_KEY}",
        "-f",
        str(out),
        "-d",
        dsn,
    ]


def run_pg_dumps(dsn_a: str, dsn_b: str, out_a: Path, out_b: Path, parallel: bool) -> None:
    """Two ``pg_dump --schema-only`` runs, one after the other or at the same time."""
    if parallel:
        procs = [
            subprocess.Popen(pg_dump_cmd(d, o), stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
            for d, o in ((dsn_a, out_a), (dsn_b, out_b))
        ]
        for proc in procs:
            _, err = proc.communicate()
            if proc.returncode:
                raise RuntimeError(f"pg_dump failed: {err.decode(errors='replace')}")
        return
    for dsn, out in ((dsn_a, out_a), (dsn_b, out_b)):
        proc = subprocess.run(pg_dump_cmd(dsn, out), capture_output=True, text=True, check=False)
        if proc.returncode:
            raise RuntimeError(f"pg_dump failed: {proc.stderr}")


def diff_u(out_a: Path, out_b: Path) -> str:
    proc = subprocess.run(["diff", "-u", str(out_a), str(out_b)], capture_output=True, text=True, check=False)
    if proc.returncode > 1:
        raise RuntimeError(f"diff failed: {proc.stderr}")
    return proc.stdout


def diff_difflib(out_a: Path, out_b: Path) -> str:
    a = out_a.read_text().splitlines(keepends=True)
    b = out_b.read_text().splitlines(keepends=True)
    return "".join(difflib.unified_diff(a, b, str(out_a), str(out_b)))


def changed_lines(diff: str) -> list[str]:
    return [
        line
        for line in diff.splitlines()
        if line[:1] in "+-" and not line.startswith("+++") and not line.startswith("---")
    ]


def results_cmd() -> list[str] | None:
    exe = Path(sys.executable).parent / "results"
    return [str(exe)] if exe.exists() else None


def run_dbdiff(url_a: str, url_b: str) -> subprocess.CompletedProcess[str]:
    cmd = results_cmd()
    assert cmd is not None
    return subprocess.run(
        [*cmd, "dbdiff", "--with-privileges", url_a, url_b],
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def split_statements(sql: str) -> list[str]:
    """SQL text split into statements (pglast when it can parse it, else at semicolons + blank lines)."""
    try:
        from pglast import split

        return [s.strip() for s in split(sql) if s.strip()]
    except Exception:
        return [s.strip() for s in sql.split(";\n\n") if s.strip()]


def mentions(text: str, planted: Planted) -> bool:
    low = text.lower()
    return all(needle.lower() in low for needle in planted.needles)


# --------------------------------------------------------------------------- checking and reporting


@dataclass
class Verdict:
    """Which planted differences a method found, and what else it reported."""

    found: list[Planted]
    missed: list[Planted]
    spurious: list[str]
    note: str = ""
    spurious_label: str = "spurious"
    found_label: str = "found"

    @property
    def all_found(self) -> bool:
        return not self.missed

    def summary(self, total: int) -> str:
        text = f"{len(self.found)}/{total} {self.found_label}"
        if self.spurious:
            text += f", {len(self.spurious)} {self.spurious_label}"
        return text + (f" ({self.note})" if self.note else "")


def check_compare(proc: subprocess.CompletedProcess[str], planted: list[Planted]) -> tuple[Verdict, dict]:
    """Match ``consolidate compare --json`` output against the planted differences (kind, name, status)."""
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"consolidate compare exited {proc.returncode}: {proc.stderr.strip()[-2000:]}")
    data = json.loads(proc.stdout)
    reported = {(d["kind"], d["name"]): d for d in data["differences"]}
    found, missed = [], []
    for p in planted:
        entry = reported.get((p.kind, p.name))
        (found if entry is not None and entry["status"] == p.status else missed).append(p)
    expected = {(p.kind, p.name) for p in planted}
    spurious = [f"{k}/{n} [{d['status']}]" for (k, n), d in reported.items() if (k, n) not in expected]
    note = f"exit {proc.returncode}"
    if proc.returncode != (1 if planted else 0):
        note += " (UNEXPECTED)"
    return Verdict(found, missed, spurious, note), data


def check_dbdiff(sql: str, planted: list[Planted]) -> Verdict:
    """Which planted differences dbdiff's SQL mentions; statements mentioning none are spurious."""
    stmts = [s for s in split_statements(sql) if not s.lower().startswith("set ")]  # session preamble
    found = [p for p in planted if any(mentions(s, p) for s in stmts)]
    missed = [p for p in planted if p not in found]
    spurious = [s for s in stmts if not any(mentions(s, p) for p in planted)]
    return Verdict(found, missed, spurious, f"{len(stmts)} statements", "statements about no planted object")


def check_text_diff(diff: str, planted: list[Planted]) -> Verdict:
    """A text diff cannot attribute: report whether it is non-empty, and which names its lines show."""
    lines = changed_lines(diff)
    found = [p for p in planted if any(mentions(line, p) for line in lines)]
    missed = [p for p in planted if p not in found]
    note = f"diff {'non-empty' if lines else 'EMPTY'}, {len(lines)} changed lines"
    return Verdict(found, missed, [], note, found_label="names visible in changed lines")


def median(xs: Sequence[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def fmt_runs(xs: Sequence[float]) -> str:
    return " ".join(f"{x:.2f}" for x in xs)


def spread(xs: Sequence[float], unit: str = "") -> str:
    """The runs' range, ``min-max``."""
    return f"{min(xs):.2f}-{max(xs):.2f}{unit}" if xs else "-"


def per_run(num: Sequence[float], den: Sequence[float]) -> list[float]:
    """Ratios of runs timed in the same iteration."""
    return [n / d for n, d in zip(num, den, strict=True)]


def breakdown(dsn_a: str, dsn_b: str) -> list[tuple[str, float]]:
    """In-process timings of ``consolidate compare``'s stages (one run each, warm caches)."""
    out: list[tuple[str, float]] = []
    for sessions in sorted({1, 2, DEFAULT_SESSIONS}):
        start = time.perf_counter()
        read(dsn_a, sessions=sessions)
        out.append((f"snapshot A alone, {sessions} session(s)", time.perf_counter() - start))
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        fut_a, fut_b = pool.submit(read, dsn_a), pool.submit(read, dsn_b)
        snap_a, snap_b = fut_a.result(), fut_b.result()
    out.append((f"A and B in parallel, {DEFAULT_SESSIONS} sessions each (as the CLI)", time.perf_counter() - start))
    start = time.perf_counter()
    result = compare(snap_a, snap_b, "A", "B")
    out.append(("parity.compare (incl. explain)", time.perf_counter() - start))
    start = time.perf_counter()
    json.dumps(result.to_dict())
    out.append(("to_dict + json.dumps", time.perf_counter() - start))
    out.append((f"objects per snapshot: {len(snap_a.objects)}", 0.0))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tables", type=int, default=2000, help="tables per database (default 2000)")
    parser.add_argument("--functions", type=int, default=500, help="trigger functions per database (default 500)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per method; the median is reported")
    parser.add_argument("--dsn", help="admin DSN of another server to build on (default: a throwaway embedded one)")
    parser.add_argument("--no-dbdiff", action="store_true", help="skip results' dbdiff (the slowest method)")
    parser.add_argument(
        "--keep", action="store_true", help="keep the databases and the work directory (dumps, embedded data)"
    )
    args = parser.parse_args(argv)

    layout = Layout(args.tables, args.functions)
    planted = layout.planted()
    workdir = Path(tempfile.mkdtemp(prefix="cw-bench-"))
    try:
        return _run(args, layout, planted, workdir)
    finally:
        if args.keep:
            print(f"kept: databases {DB_A}, {DB_B}; work directory {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def _run(args: argparse.Namespace, layout: Layout, planted: list[Planted], workdir: Path) -> int:
    print(f"bench/parity.py: {layout.tables} tables, {layout.functions} functions, {args.repeat} run(s) per method")
    print("planted differences (B against A):")
    for p in planted:
        print(f"  {p.kind:<10} {p.name:<40} {p.status:<9} {p.what}")
    with databases(args.dsn, workdir, args.keep) as target:
        stmts_a, stmts_b = schema_a(layout), schema_b(layout)
        with ThreadPoolExecutor(max_workers=2) as pool:
            secs, _ = _timed(
                lambda: [
                    f.result()
                    for f in (pool.submit(build, target.dsn_a, stmts_a), pool.submit(build, target.dsn_b, stmts_b))
                ]
            )
        print(f"server: {target.server}")
        print(f"built A ({len(stmts_a)} statements) and B ({len(stmts_b)} statements, another order) in {secs:.1f} s")

        dump_a, dump_b = workdir / "a.sql", workdir / "b.sql"
        url_a, url_b = sqlalchemy_url(target.dsn_a), sqlalchemy_url(target.dsn_b)
        dbdiff_reason = None
        if args.no_dbdiff:
            dbdiff_reason = "skipped (--no-dbdiff)"
        elif results_cmd() is None:
            dbdiff_reason = "the results package is not installed here (pip install results, the 'bench' extra)"

        # Warm-up (untimed): catalog caches, page cache, Python bytecode.
        run_compare(target.dsn_a, target.dsn_b)
        run_pg_dumps(target.dsn_a, target.dsn_b, dump_a, dump_b, parallel=False)

        times: dict[str, list[float]] = {
            k: [] for k in ("startup", "compare", "seq", "par", "diff_u", "difflib", "dbdiff")
        }
        compare_proc = dbdiff_proc = None
        text_u = text_lib = ""
        for run in range(args.repeat):
            secs, _ = _timed(lambda: subprocess.run([*consolidate_cmd(), "--version"], capture_output=True, check=True))
            times["startup"].append(secs)
            # Side by side: compare and the parallel pg_dump pair back to back, alternating which goes first.
            for method in ("compare", "par") if run % 2 == 0 else ("par", "compare"):
                if method == "compare":
                    secs, compare_proc = _timed(lambda: run_compare(target.dsn_a, target.dsn_b))
                else:
                    secs, _ = _timed(lambda: run_pg_dumps(target.dsn_a, target.dsn_b, dump_a, dump_b, parallel=True))
                times[method].append(secs)
            secs, _ = _timed(lambda: run_pg_dumps(target.dsn_a, target.dsn_b, dump_a, dump_b, parallel=False))
            times["seq"].append(secs)
            secs, text_u = _timed(lambda: diff_u(dump_a, dump_b))
            times["diff_u"].append(secs)
            secs, text_lib = _timed(lambda: diff_difflib(dump_a, dump_b))
            times["difflib"].append(secs)
            if dbdiff_reason is None:
                secs, dbdiff_proc = _timed(lambda: run_dbdiff(url_a, url_b))
                times["dbdiff"].append(secs)
                if dbdiff_proc.returncode not in (0, 2):  # type: ignore[attr-defined]
                    err = (dbdiff_proc.stderr or dbdiff_proc.stdout).strip().splitlines()  # type: ignore[attr-defined]
                    dbdiff_reason = f"results dbdiff exited {dbdiff_proc.returncode}: " + (  # type: ignore[attr-defined]
                        err[-1] if err else "no output"
                    )
                    times["dbdiff"].clear()

        assert compare_proc is not None
        v_compare, data = check_compare(compare_proc, planted)  # type: ignore[arg-type]
        v_diff = check_text_diff(str(text_u), planted)
        v_difflib = check_text_diff(str(text_lib), planted)
        v_dbdiff = (
            check_dbdiff(dbdiff_proc.stdout, planted) if dbdiff_proc is not None and dbdiff_reason is None else None  # type: ignore[attr-defined]
        )
        report(planted, times, data, v_compare, v_diff, v_difflib, v_dbdiff, dbdiff_reason, dump_a)
        print()
        print("breakdown of consolidate compare, in-process (one run):")
        for label, secs in breakdown(target.dsn_a, target.dsn_b):
            print(f"  {label:<56} {secs:7.3f} s" if secs else f"  {label}")
    return 0


def report(
    planted: list[Planted],
    times: dict[str, list[float]],
    data: dict,
    v_compare: Verdict,
    v_diff: Verdict,
    v_difflib: Verdict,
    v_dbdiff: Verdict | None,
    dbdiff_reason: str | None,
    dump_a: Path,
) -> None:
    """Print the results table, the per-method findings and the goal verdict."""
    kinds = data.get("kinds", {})
    counts = ", ".join(f"{v['in_a']} {k}" for k, v in kinds.items() if v["in_a"])
    print(f"objects in A (as consolidate counts them): {counts}")
    print(f"pg_dump --schema-only of A: {len(dump_a.read_text().splitlines())} lines, {dump_a.stat().st_size} bytes")
    pair = median(times["par"])
    seq_runs = times["seq"]
    with_u = [s + d for s, d in zip(seq_runs, times["diff_u"], strict=True)]
    with_lib = [s + d for s, d in zip(seq_runs, times["difflib"], strict=True)]
    rows: list[tuple[str, list[float], str]] = [
        ("consolidate compare --json (subprocess)", times["compare"], v_compare.summary(len(planted))),
        ("pg_dump --schema-only x2, parallel", times["par"], "baseline (no verdict by itself)"),
        ("pg_dump --schema-only x2, sequential", seq_runs, "-"),
        ("pg_dump x2 sequential + diff -u", with_u, v_diff.summary(len(planted)) + "; cannot attribute"),
        ("pg_dump x2 sequential + difflib", with_lib, v_difflib.summary(len(planted)) + "; cannot attribute"),
        ("  (diff -u alone)", times["diff_u"], ""),
        ("  (difflib alone)", times["difflib"], ""),
        ("  (consolidate --version: CLI start-up)", times["startup"], ""),
    ]
    if v_dbdiff is not None:
        rows.append(("results dbdiff --with-privileges", times["dbdiff"], v_dbdiff.summary(len(planted))))
    else:
        rows.append(("results dbdiff", [], f"NOT RUN: {dbdiff_reason}"))
    print()
    print(f"{'method':<42} {'median s':>9} {'x par':>6}  {'spread (s)':<13} {'runs (s)':<30} planted differences")
    print("-" * 130)
    for label, runs, verdict in rows:
        if runs:
            print(
                f"{label:<42} {median(runs):>9.3f} {median(runs) / pair:>5.2f}x  {spread(runs):<13} "
                f"{fmt_runs(runs):<30} {verdict}"
            )
        else:
            print(f"{label:<42} {'-':>9} {'-':>6}  {'':<13} {'':<30} {verdict}")
    print("-" * 130)
    print("x par = median time / median of the two pg_dump --schema-only runs in parallel; spread = min-max")

    print()
    print("ratios, run by run (each compare timed next to the pg_dump pairs of the same iteration):")
    ratios = {
        "consolidate compare / parallel pg_dump pair": per_run(times["compare"], times["par"]),
        "consolidate compare / sequential pg_dump pair": per_run(times["compare"], seq_runs),
        "parallel pg_dump pair / sequential pg_dump pair": per_run(times["par"], seq_runs),
    }
    for label, xs in ratios.items():
        print(f"  {label:<48} median {median(xs):.2f}x  spread {spread(xs, 'x')}  runs {fmt_runs(xs)}")
    print()
    print("consolidate compare, per planted difference:")
    reported = {(d["kind"], d["name"]): d for d in data["differences"]}
    for p in planted:
        entry = reported.get((p.kind, p.name))
        if entry is None:
            print(f"  MISSED   {p.kind}/{p.name} ({p.what})")
        elif entry["status"] != p.status:
            print(f"  WRONG    {p.kind}/{p.name}: status {entry['status']}, expected {p.status}")
        else:
            print(f"  found    {p.kind}/{p.name} [{entry['status']}]: {entry['explanation'].splitlines()[0][:70]}")
    for s in v_compare.spurious:
        print(f"  SPURIOUS {s}: {reported[tuple(s.split(' [')[0].split('/', 1))]['explanation'][:200]}")  # type: ignore[index]
    if v_dbdiff is not None:
        print("results dbdiff, per planted difference:")
        for p in planted:
            print(f"  {'found ' if p in v_dbdiff.found else 'MISSED'}   {p.kind}/{p.name} ({p.what})")
        for s in v_dbdiff.spurious[:10]:
            print(f"  EXTRA    {' '.join(s.split())[:150]}")
        if len(v_dbdiff.spurious) > 10:
            print(f"  ... and {len(v_dbdiff.spurious) - 10} more statements about no planted object")
    print("pg_dump + diff -u: planted names visible in changed lines:")
    for p in planted:
        print(f"  {'visible' if p in v_diff.found else 'hidden '}  {p.kind}/{p.name}")

    compare_par = ratios["consolidate compare / parallel pg_dump pair"]
    ratio = median(compare_par)
    exact = v_compare.all_found and not v_compare.spurious
    met = exact and ratio <= GOAL_RATIO
    print()
    print(
        f"parity goal: every planted difference found and nothing else ({'yes' if exact else 'NO'}: "
        f"{v_compare.summary(len(planted))}), consolidate compare <= {GOAL_RATIO:g}x the parallel pg_dump pair "
        f"(median of the per-run ratios {ratio:.2f}x, spread {spread(compare_par, 'x')}): "
        f"{'GOAL MET' if met else 'GOAL MISSED'}"
    )
    startup = median(times["startup"])
    print(
        f"start-up goal: consolidate --version <= {GOAL_STARTUP:g} s (median {startup:.3f} s, spread "
        f"{spread(times['startup'])}): {'GOAL MET' if startup <= GOAL_STARTUP else 'GOAL MISSED'}"
    )
    print("GOAL MET" if met else "GOAL MISSED")


if __name__ == "__main__":
    sys.exit(main())
