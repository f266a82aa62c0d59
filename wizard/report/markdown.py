"""Render a consolidation report's facts as Markdown modeled on the seed plan's sections."""

from __future__ import annotations

from typing import Any

from wizard.history.remote import HISTORY_SCHEMA
from wizard.report.facts import CHECK_MARK, HEADLINE_KINDS, PHASE_MARK, Report
from wizard.report.fresh_proof import fresh_lines
from wizard.report.sections import NOT_MEASURED, timestamp
from wizard.state import protocol

# --- Markdown --------------------------------------------------------------------------------


def _v(value: Any, unit: str = "") -> str:
    """A measured value, or "not measured"."""
    if value is None:
        return f"_{NOT_MEASURED}_"
    return f"{value}{unit}"


def _seconds(value: Any) -> str:
    return _v(None) if value is None else f"{float(value):.2f} s"


def _src(where: dict[str, Any] | None) -> str:
    if not where:
        return ""
    return f" _(journal: `{where.get('event')}` seq {where.get('seq')}, {timestamp(where.get('ts'))})_"


def _drift_lines(drift: dict[str, Any]) -> list[str]:
    """The drift check's outcome; when another target's Phase 3 archived the old files first, it replayed
    the baseline alone, and the report says so."""
    lines: list[str] = []
    against = drift.get("against")
    if against:
        lines += [
            f"Drift was compared with the baseline `{against['baseline']}`, not with the old history: its "
            f"{against['archived']} old file(s) were already archived by another target's Phase 3.",
            "",
        ]
    if not drift["replay_ok"]:
        failure = drift["replay_failure"] or "the replay stopped before the last file (cancelled)"
        lines += [f"The migration history does not replay: {failure}{_src(drift['from'])}", ""]
    elif not drift["differences"]:
        builds = "the baseline" if against else "the history"
        lines += [f"No drift: {builds} builds exactly the target.{_src(drift['from'])}", ""]
    else:
        replayed = "the baseline" if against else "the old history"
        lines += [
            f"Replaying {replayed} and comparing it with the target found {len(drift['differences'])} "
            f"difference(s).{_src(drift['from'])}",
            "",
            "| Object | Drift | Resolution |",
            "|---|---|---|",
        ]
        for d in drift["differences"]:
            lines.append(f"| {d['kind']} `{_cell(d['name'])}` | {_cell(d['explanation'])} | {_cell(d['resolution'])} |")
        lines.append("")
    return lines


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _status_line(facts: dict[str, Any]) -> str:
    status = facts["status"]
    if status["complete"]:
        return "**Status:** ✅ COMPLETE (every phase done, post-execution validation passed)"
    mark = "❌" if status["next_phase_status"] == protocol.FAILED else "⏳"
    return f"**Status:** {mark} IN PROGRESS: next is {status['next_phase']} ({status['next_phase_status']})"


def _summary(facts: dict[str, Any]) -> list[str]:
    m = facts["metrics"]
    lines = ["## Executive Summary", "", "**Key Metrics** (measured):", ""]
    before = m["files_before"]
    lines.append(f"- **Migrations before:** {_v(before, ' files')}{_src(m['files_before_from'])}")
    after = _v(m["files_after"], " file(s) in the migrations folder")
    lines.append(f"- **Migrations after:** {after}{_src(m['files_after_from'])}")
    lines.append(f"- **Reduction:** {_v(m['reduction_percent'], '% fewer migration files')}")
    if m["rows"] is not None:
        rows = f"{m['rows']} rows across {m['row_tables']} tables"
    else:
        rows = _v(None)
    lines.append(f"- **Production data:** {rows}{_src(m['rows_from'])}")
    backup = facts["backup"]
    if backup:
        lines.append(
            f"- **Backup:** {backup['rows']} rows in {backup['tables']} tables (all schemas, including auth, storage "
            f"and the migration history), {backup['size']} bytes"
        )
    if m["schema_untouched"] is None:
        untouched = _v(None)
    elif m["schema_untouched"]:
        untouched = f"✅ {m['schema_untouched_reason']}"
    else:
        untouched = f"❌ {m['schema_untouched_reason']}"
    lines.append(f"- **Target schema untouched:** {untouched}")
    return [*lines, ""]


def _phases(facts: dict[str, Any]) -> list[str]:
    lines = ["## Safe Consolidation Protocol", "", "| Phase | State | When | Journal seq |", "|---|---|---|---|"]
    for p in facts["phases"]:
        lines.append(
            f"| {p['title']} | {PHASE_MARK[p['status']]} {p['status']} "
            f"| {timestamp(p['ts']) or '–'} | {p['seq'] or '–'} |"
        )
    lines.append("")
    inv = facts["inventory"]
    if inv:
        counts = inv.get("counts") or {}
        found = ", ".join(
            f"{counts.get(key)} {key}"
            for key in ("tables", "indexes", "functions", "policies", "triggers", "constraints")
            if counts.get(key) is not None
        )
        lines += [f"**Phase 1 (schema export & validation):** inventoried {found}.{_src(inv['from'])}"]
        fks = inv.get("foreign_key_actions") or {}
        if fks:
            lines.append("Foreign keys: " + ", ".join(f"{v} {k}" for k, v in sorted(fks.items())) + ".")
        lines.append(f"Schema fingerprint: `{inv.get('fingerprint')}`.")
        lines.append("")
    b = facts["baseline"]
    if b:
        f = b["file"]
        state = (
            "present, sha256 unchanged"
            if f["sha256_matches"]
            else "missing"
            if f["present"] is False
            else "CHANGED since it was generated"
        )
        lines += [
            f"**Phase 2 (consolidated migration):** `{b['path']}` (version {b['version']}), sha256 `{b['sha256']}`; "
            f"supersedes {len(b['superseded'])} files; file {state}.{_src(b['from'])}",
            "",
        ]
    a = facts["archive"]
    if a:
        lines += [
            f"**Phase 3 (archive):** {a['files']} files moved to `{a['archive_dir']}`, manifest `{a['manifest']}` "
            f"(sha256 `{a['manifest_sha256']}`); state: {a['state']}.{_src(a['from'])}",
            "",
        ]
    r = facts["record"]
    if r:
        moved = r["moved_versions"]
        moved_text = f"; {len(moved)} superseded version(s) moved out of the history table" if moved else ""
        checked = {True: "verified after commit", False: f"NOT verified: {'; '.join(r['problems'])}"}
        lines += [
            f"**Phase 4 (production state update):** version {_v(r['version'])} recorded in "
            f"`{HISTORY_SCHEMA}.schema_migrations`{moved_text}, in one transaction of {_seconds(r['transaction_s'])}; "
            f"{checked.get(r['verified'], NOT_MEASURED)}; state: {r['state']}.{_src(r['from'])}",
            "",
        ]
        if r["sql"]:
            lines += ["The statements it ran:", "", "```sql", *(s.rstrip() for s in r["sql"]), "```", ""]
    return lines


def _backup_section(facts: dict[str, Any]) -> list[str]:
    lines = ["## Backup & Rollback Strategy", "", "### Pre-Consolidation Backup", ""]
    b = facts["backup"]
    if not b:
        lines += [
            f"No backup recorded ({NOT_MEASURED}). Run `consolidate backup --target {facts['target']['name']}`.",
            "",
        ]
    else:
        f = b["file"]
        on_disk = (
            "present, sha256 matches the record"
            if f["sha256_matches"]
            else "MISSING"
            if f["present"] is False
            else "present but its sha256 NO LONGER MATCHES"
        )
        lines += [
            f"- **File:** `{b['path']}` ({b['size']} bytes, pg_dump {b['pg_dump_version']})",
            f"- **sha256:** `{b['sha256']}`",
            f"- **Taken:** {timestamp(b['finished_at'])}{_src(b['from'])}",
            f"- **Contents:** {b['rows']} rows in {b['tables']} tables, {b['large_objects']} large objects; "
            f"schema fingerprint `{b['schema_fingerprint'][:16]}…`",
            f"- **On disk now:** {on_disk}",
        ]
        v = b["verification"]
        if v is None:
            lines.append(f"- **Verification:** not verified ({NOT_MEASURED})")
        else:
            verdict = "✅ passed" if v["passed"] else f"❌ failed at step {v['failed_step']}: {v['reason']}"
            lines.append(f"- **Verification:** {verdict}{_src(v['from'])}")
            for s in v["steps"]:
                lines.append(f"  - {'✅' if s['passed'] else '❌'} {s['step']}: {s['summary']}")
        lines.append("")
    rb = facts["rollback"]
    lines += ["### Rollback Procedure", "", f"Run from the project directory (`{rb['run_from']}`).", ""]
    for n, step in enumerate(rb["steps"], start=1):
        missing = "" if step["available"] else " _(not available in this installation)_"
        lines += [f"{n}. **{step['title']}**{missing}", "   ```bash", f"   {step['command']}", "   ```"]
    if rb["pg_restore"]:
        pr = rb["pg_restore"]
        lines += [
            "",
            f"   The disaster-recovery restore itself (pg_restore {pr['pg_restore_at_least']} or newer; the password "
            "from PGPASSWORD or ~/.pgpass):",
            "   ```bash",
            f"   {pr['command']}",
            "   ```",
        ]
        if pr["note"]:
            lines.append(f"   Note: {pr['note']}.")
    return [*lines, ""]


def kind_title(kind: str) -> str:
    """``policy`` -> ``RLS policies``, ``default_privilege`` -> ``Default privileges``."""
    if kind in HEADLINE_KINDS:
        return HEADLINE_KINDS[kind]
    if kind in ("statistics", "other"):
        return {"statistics": "Extended statistics", "other": "Other objects"}[kind]
    words = kind.replace("_", " ").capitalize()
    return words[:-1] + "ies" if words.endswith("y") else words + ("es" if words.endswith(("s", "x", "h")) else "s")


def _parity_rows(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| Kind | Target | Baseline proof (squash) | Fresh environment (validate) |",
        "|---|---|---|---|",
    ]
    for r in rows:
        title = kind_title(r["kind"])
        if r["proof_total"] is None:
            proof = _v(None)
        else:
            ok = "✅" if r["proof_identical"] == r["proof_total"] else "❌"
            proof = f"{ok} {r['proof_identical']}/{r['proof_total']} match"
        if r["fresh_identical"] is None:
            fresh = _v(None)
        else:
            total = max(r["target"] or 0, r["fresh"] or 0)
            fresh = f"{'✅' if r['fresh_matches'] else '❌'} {r['fresh_identical']}/{total} match"
        lines.append(f"| {title} | {_v(r['target'])} | {proof} | {fresh} |")
    return lines


def _validation_section(facts: dict[str, Any]) -> list[str]:
    lines = ["## Validation Results", "", "### Schema Parity Verification", ""]
    proof = facts["proof"]
    if proof is None:
        lines.append(f"- **Baseline vs the target:** {NOT_MEASURED} (no baseline proof recorded)")
    else:
        verdict = "✅ 100 % parity" if proof["passed"] else f"❌ failed: {proof['reason']}"
        lines.append(f"- **Baseline applied to a scratch database vs the target:** {verdict}{_src(proof['from'])}")
        if proof["excluded"]:
            lines.append(f"  (left out of the comparison, installed by Supabase: {', '.join(proof['excluded'])})")
    vp = facts["validation_parity"]
    if vp is None:
        lines.append(f"- **Fresh environment vs the target:** {NOT_MEASURED} (no validation recorded)")
    else:
        verdict = f"✅ {vp['percent']} % of {vp['objects']} objects identical" if vp["passed"] else f"❌ {vp['reason']}"
        lines.append(f"- **Fresh environment (post-execution) vs the target:** {verdict}{_src(vp['from'])}")
    lines.append("")
    if facts["parity_by_kind"]:
        lines += [*_parity_rows(facts["parity_by_kind"]), ""]
    for d in (proof or {}).get("differences", [])[:20]:
        lines.append(f"- ❌ baseline: {d['kind']} `{_cell(d['name'])}`: {_cell(d['explanation'])}")
    for d in (vp or {}).get("differences", [])[:20]:
        lines.append(f"- ❌ fresh environment: {d['kind']} `{_cell(d['name'])}`: {_cell(d['explanation'])}")
    if lines[-1] != "":
        lines.append("")
    lines += fresh_lines(facts.get("fresh_proof"))
    lines += ["### Drift Found and How the Baseline Resolves It", ""]
    drift = facts["drift"]
    if drift is None:
        lines += [f"Drift check: {NOT_MEASURED} (run `consolidate drift`).", ""]
    else:
        lines += _drift_lines(drift)
    lines += ["### Data Statements and Their Fate", ""]
    statements = facts["data_statements"]
    if facts["inventory"] is None:
        lines += [f"{NOT_MEASURED.capitalize()} (no Phase 1 inventory).", ""]
    elif not statements:
        lines += ["The old migrations contain no data statement.", ""]
    else:
        lines += ["| File | Line | Statement | Target | Fate |", "|---|---|---|---|---|"]
        for s in statements:
            lines.append(
                f"| {s.get('file')} | {s.get('line')} | {s.get('kind')} ({s.get('category')}) | "
                f"{_cell(s.get('target') or '–')} | {_cell(s['fate'])} |"
            )
        lines.append("")
    p = facts["provisioning"]
    lines += [
        "### Provisioning Times",
        "",
        "| Provisioning a fresh database | Time | Source |",
        "|---|---|---|",
        f"| Old history, {_v(p['old_files'], ' files')} (median of {_v(p['old_runs'])} runs) | "
        f"{_seconds(p['old_seconds'])}{' (failed: ' + _cell(p['old_failure']) + ')' if p['old_failure'] else ''} | "
        f"{_src(p['proof_from']).strip() or '–'} |",
        f"| Baseline, 1 file (median of {_v(p['baseline_runs'])} runs) | {_seconds(p['baseline_seconds'])} | "
        f"{_src(p['proof_from']).strip() or '–'} |",
        f"| Old history replayed by the drift check | {_seconds(p['history_replay_seconds'])} | "
        f"{_src(p['history_replay_from']).strip() or '–'} |",
        f"| Migrations folder after the archive, {_v(p['fresh_environment_files'], ' file(s)')} (validation) | "
        f"{_seconds(p['fresh_environment_seconds'])} | {_src(p['fresh_environment_from']).strip() or '–'} |",
        "",
        f"Speed-up measured by the proof: {_v(p['speedup'], ' x')}.",
        "",
    ]
    sec = facts["security"]
    lines += ["### Security Posture", ""]
    if sec is None:
        lines += [f"{NOT_MEASURED.capitalize()} (no validation recorded).", ""]
    else:
        lv = sec["levels"] or {}
        mark = "✅" if sec["passed"] else "❌"
        lines += [
            f"{mark} {sec['reason']}",
            "",
            f"Checks (modeled on Supabase's database linter): {', '.join(sec['checks'])}. "
            f"Findings: {lv.get('ERROR')} error, {lv.get('WARN')} warn, {lv.get('INFO')} info.",
            "",
        ]
        if sec["findings"]:
            lines += ["| Level | Check | Object |", "|---|---|---|"]
            for f in sec["findings"]:
                lines.append(f"| {f['level']} | {f['check']} | `{_cell(f['object'])}` |")
            lines.append("")
        for f in sec["only_fresh"]:
            lines.append(f"- ❌ only in the fresh environment: {f['check']} on `{f['object']}`")
        for f in sec["only_target"]:
            lines.append(f"- ❌ only on the target: {f['check']} on `{f['object']}`")
    return lines


def _gates_and_checklist(facts: dict[str, Any]) -> list[str]:
    lines = ["## Gates", ""]
    for g in facts["gates"]:
        when = f" (recorded {timestamp(g['recorded_at'])})" if g.get("recorded_at") else ""
        lines.append(f"- {'✅' if g['passed'] else '❌'} **{g['name']}**: {_cell(g['reason'])}{when}")
    lines += ["", "## Execution Checklist", ""]
    section = None
    for item in facts["checklist"]:
        if item["section"] != section:
            section = item["section"]
            lines += ["", f"### {section}", ""] if lines[-1] != "" else [f"### {section}", ""]
        box = "x" if item["status"] == "passed" else " "
        mark = CHECK_MARK.get(item["status"], "")
        lines.append(f"- [{box}] {item['item']}: {mark} {_cell(item['evidence'])}")
    return [*lines, ""]


def _post_validation(facts: dict[str, Any]) -> list[str]:
    lines = ["## Post-Execution Validation", ""]
    v = facts["validation"]
    if v is None:
        return [
            *lines,
            f"{NOT_MEASURED.capitalize()}: run `consolidate validate --target {facts['target']['name']}`.",
            "",
        ]
    verdict = "✅ passed" if v["passed"] else f"❌ failed ({', '.join(v['failed'])})"
    lines += [
        f"**Result:** {verdict} in {_seconds(v['seconds'])}{_src(v['from'])}",
        "",
        "| | Check | Result |",
        "|---|---|---|",
    ]
    for c in v["checks"]:
        lines.append(f"| {CHECK_MARK.get(c['status'], '')} | {c['title']} | {_cell(c['reason'])} |")
    return [*lines, ""]


def render_markdown(report: Report) -> str:
    """The report as Markdown, following the seed plan's sections; only journaled facts appear."""
    facts = report.facts
    ident = facts["identity"]
    target = facts["target"]
    who = (
        f"{ident.get('database')} on {ident.get('host')}:{ident.get('port')}, "
        f"PostgreSQL {ident.get('server_version')}, system identifier {ident.get('system_identifier') or 'unknown'}"
        if ident
        else NOT_MEASURED
    )
    journal = facts["journal"]
    lines = [
        "# Database Migration Consolidation Report",
        "",
        f"**Project:** {facts['project']['name']} (`{facts['project']['root']}`)  ",
        f"**Target:** {target['name']} ({target['role']}): {who}  ",
        f"**Generated:** {timestamp(facts['generated_at'])} from `{journal['path']}` "
        f"({journal['events']} events, last seq {journal['last_seq']})  ",
        _status_line(facts),
        "",
        f"Every number below is read from the protocol journal; anything no step measured says _{NOT_MEASURED}_.",
        "",
    ]
    lines += _summary(facts)
    lines += _phases(facts)
    lines += _backup_section(facts)
    lines += _validation_section(facts)
    lines += _gates_and_checklist(facts)
    lines += _post_validation(facts)
    return "\n".join(lines).rstrip() + "\n"
