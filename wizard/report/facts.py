"""The consolidation report's facts: the seed's document, with every number measured and read from the journal.

:func:`build_report` gathers the facts of one target from its journal only (plus two file
checks: does the backup still have its recorded sha256, does the baseline). Any fact that
no event records is ``None`` and shows as "not measured"; nothing is estimated.
:func:`render_markdown` turns the facts into Markdown modeled on the seed plan's sections.
``consolidate report --json`` prints the very same facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wizard.archive import phase as archive
from wizard.catalog.scope import MANAGED_SCHEMAS
from wizard.project.config import Config, Target
from wizard.report.fresh_proof import fresh_facts
from wizard.report.sections import (
    backup_facts,
    checklist_facts,
    file_check,
    find_check,
    rollback_facts,
    source_of,
)
from wizard.state import events, protocol
from wizard.state.journal import Journal, utc_now

FORMAT = 1
REPORT_NAME = "consolidation-report.md"

#: Object kinds the seed's summary names, in its order, with their plural titles.
HEADLINE_KINDS: dict[str, str] = {
    "table": "Tables",
    "index": "Indexes",
    "function": "Functions",
    "policy": "RLS policies",
    "trigger": "Triggers",
    "constraint": "Constraints",
}
PHASE_MARK = {protocol.DONE: "✅", protocol.PENDING: "⏳", protocol.FAILED: "❌", protocol.ROLLED_BACK: "↩️"}
CHECK_MARK = {"passed": "✅", "failed": "❌", "skipped": "➖", "pending": "⏳", "n/a": "➖"}


@dataclass
class Report:
    """The facts of one target's consolidation, as read from its journal."""

    facts: dict[str, Any]

    @property
    def target(self) -> str:
        return self.facts["target"]["name"]


def default_path(config: Config, target: str) -> Path:
    """``.consolidate/<target>/consolidation-report.md``."""
    return config.state_dir / target / REPORT_NAME


# --- helpers ---------------------------------------------------------------------------------


def _last(records: list[dict[str, Any]], name: str, before: int | None = None) -> dict[str, Any] | None:
    found = [r for r in records if r.get("event") == name and (before is None or r["seq"] < before)]
    return found[-1] if found else None


def _percent(part: float, whole: float) -> float:
    return round(100.0 * part / whole, 1)


def _superseded(generated: dict[str, Any] | None) -> list[dict[str, Any]]:
    items = (generated or {}).get("superseded") or (generated or {}).get("superseded_files") or []
    return [i if isinstance(i, dict) else {"file": str(i)} for i in items]


def _first(record: dict[str, Any] | None, *keys: str) -> Any:
    """The first of ``keys`` present in ``record`` (event fields written by other phases)."""
    for key in keys:
        if record and record.get(key) is not None:
            return record[key]
    return None


# --- facts -----------------------------------------------------------------------------------


def _identity(records: list[dict[str, Any]]) -> dict[str, Any] | None:
    for record in reversed(records):
        if isinstance(record.get("identity"), dict):
            ident = dict(record["identity"])
            ident["from"] = source_of(record)
            return ident
    return None


def _ratio(value: Any) -> tuple[int, int] | None:
    """``"7/7"`` (as ``squash.proved`` journals a kind) -> ``(7, 7)``."""
    try:
        identical, total = str(value).split("/")
        return int(identical), int(total)
    except ValueError:
        return None


def _kind_rows(proof_kinds: dict[str, Any] | None, fresh_kinds: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Per object kind, side by side: the baseline's proof (N/N) and the fresh environment's parity."""
    proof_kinds, fresh_kinds = proof_kinds or {}, fresh_kinds or {}
    kinds = proof_kinds.keys() | fresh_kinds.keys()
    ordered = [k for k in HEADLINE_KINDS if k in kinds] + sorted(k for k in kinds if k not in HEADLINE_KINDS)
    rows = []
    for kind in ordered:
        ratio = _ratio(proof_kinds[kind]) if kind in proof_kinds else None
        fresh = fresh_kinds.get(kind)
        rows.append(
            {
                "kind": kind,
                "proof_identical": ratio[0] if ratio else None,
                "proof_total": ratio[1] if ratio else None,
                "target": fresh.get("target") if fresh else None,
                "fresh": fresh.get("fresh") if fresh else None,
                "fresh_identical": fresh.get("identical") if fresh else None,
                "fresh_matches": fresh.get("matches") if fresh else None,
            }
        )
    return rows


def _drift_facts(drift: dict[str, Any] | None, proof: dict[str, Any] | None, fresh_identical: bool | None):
    if drift is None:
        return None
    proved = proof is not None and proof.get("event") == events.SQUASH_PROVED
    items = []
    for d in drift.get("differences") or []:
        status = d.get("status")
        if proved:
            assert proof is not None  # proved only with a proof
            if status == "only_b":
                resolution = "left out: the baseline, like the target, does not have it"
            else:
                resolution = "the baseline carries the target's version"
            resolution += f" (proved at 100 % parity, journal seq {proof['seq']})"
        else:
            resolution = "not resolved yet: no 100 % parity proof of a baseline"
        items.append({**d, "resolution": resolution})
    return {
        "from": source_of(drift),
        "replay_ok": drift.get("replay_ok"),
        "replay_seconds": drift.get("replay_seconds"),
        "replay_failure": drift.get("replay_failure"),
        "identical": drift.get("identical"),
        "differences": items,
        "fresh_environment_identical": fresh_identical,
        "against": drift.get("against"),
    }


def _data_statement_facts(
    inspected: dict[str, Any] | None, generated: dict[str, Any] | None, proof: dict[str, Any] | None
) -> list[dict[str, Any]]:
    # squash.generated lists the superseded files' statements; before a squash, Phase 1's do.
    statements = _first(generated, "data_statements") or (inspected or {}).get("data_statements") or []
    included = _first(generated, "data_tables") or {}
    kept: dict[str, Any] = (
        {str(t): {"rows": n} for t, n in included.items()}
        if isinstance(included, dict)
        else {str(t): {} for t in included}
    )
    from_history = ((generated or {}).get("carried") or {}).get("rows") or {}
    kept.update({str(t): {"rows": n, "from": "history"} for t, n in from_history.items() if t not in kept})
    out = []
    for s in statements:
        table = s.get("target")
        qualified_name = table if not table or "." in table else f"public.{table}"
        schema = qualified_name.split(".", 1)[0] if qualified_name else None
        if qualified_name in kept:
            rows = kept[qualified_name].get("rows")
            source = "as the old history left them" if kept[qualified_name].get("from") else "from the target"
            fate = "carried into the baseline as data" + (f" ({rows} row(s) {source})" if rows is not None else "")
            checked = ((proof or {}).get("data") or {}).get(qualified_name)
            if checked:
                fate += (
                    f"; the proof applied {checked.get('applied')} and, applied twice, still "
                    f"{checked.get('reapplied')} ({'ok' if checked.get('ok') else 'MISMATCH'})"
                )
        elif generated is None:
            fate = "pending: no baseline generated yet"
        elif s.get("category") == "procedural":
            fate = (
                "not replayed: the baseline is the schema only; whatever this statement did to rows is "
                "already in the target (and in the backup)"
            )
        elif schema in MANAGED_SCHEMAS:
            fate = (
                f"not in the baseline: {qualified_name} belongs to Supabase ({schema}); the row stays in the "
                "target and the backup, but a fresh environment will not have it"
            )
        else:
            fate = (
                "not in the baseline: the baseline is the schema only; the rows stay in the target and the "
                "backup, but a fresh environment will not have them"
            )
        out.append({**s, "fate": fate})
    return out


def build_report(config: Config, target: Target | str) -> Report:
    """The facts of ``target``'s consolidation, from its journal only (plus file hash checks)."""
    if isinstance(target, str):
        target = config.target(target)
    journal = Journal.for_target(config.state_dir, target.name)
    records = journal.events()
    phases = {s.key: s for s in protocol.states(journal)}
    generated = _last(records, events.SQUASH_GENERATED)
    current = archive.current_baseline(journal)
    proof_outcome = archive.proof_of(journal, current) if current else None  # the proof of this very baseline
    # Phase 1's evidence is the inventory the baseline was built from (an inspect run after the
    # archive would count one file).
    inspected = _last(records, events.INSPECTED, generated["seq"] if generated else None) or _last(
        records, events.INSPECTED
    )
    drift = _last(records, events.DRIFT_CHECKED, generated["seq"] if generated else None) or _last(
        records, events.DRIFT_CHECKED
    )
    archived = _last(records, events.ARCHIVE_DONE)
    recorded = _last(records, events.RECORD_COMMITTED)
    validated = _last(records, events.VALIDATED)
    backup, backup_record = backup_facts(config, journal)

    fresh = find_check(validated, "fresh_environment")
    parity_check = find_check(validated, "parity")
    unchanged = find_check(validated, "target_unchanged")
    posture = find_check(validated, "security_posture")

    files_before = len(_superseded(generated)) if generated else None
    files_before_from = source_of(generated)
    if not files_before and inspected is not None:
        files_before, files_before_from = len(inspected.get("files") or []), source_of(inspected)
    files_after = (fresh or {}).get("evidence", {}).get("file_count")
    row_counts = (inspected or {}).get("row_counts") or {}
    metrics = {
        "files_before": files_before,
        "files_before_from": files_before_from,
        "files_after": files_after,
        "files_after_from": source_of(validated) if files_after is not None else None,
        "reduction_percent": _percent(files_before - files_after, files_before)
        if files_before and files_after is not None
        else None,
        "rows": sum(row_counts.values()) if inspected and row_counts else None,
        "row_tables": len(row_counts) if inspected and row_counts else None,
        "rows_from": source_of(inspected) if row_counts else None,
        "schema_untouched": unchanged.get("passed") if unchanged else None,
        "schema_untouched_reason": unchanged.get("reason") if unchanged else None,
    }

    baseline = None
    if generated is not None:
        baseline = {
            "path": generated.get("path"),
            "version": generated.get("version"),
            "sha256": generated.get("sha256"),
            "superseded": [s.get("file") or s.get("name") for s in _superseded(generated)],
            "file": file_check(config.root, generated.get("path"), generated.get("sha256")),
            "from": source_of(generated),
        }

    proof_facts = None
    if proof_outcome is not None:
        proof_facts = {
            "passed": proof_outcome.get("event") == events.SQUASH_PROVED,
            "reason": _first(proof_outcome, "reason", "apply_failure"),
            "sha256": proof_outcome.get("sha256"),
            "excluded": proof_outcome.get("excluded_from_comparison") or [],
            "differences": proof_outcome.get("differences") or [],
            "from": source_of(proof_outcome),
        }
    validation_parity = None
    fresh_kinds = None
    if parity_check is not None:
        ev = parity_check.get("evidence", {})
        fresh_kinds = ev.get("kinds")
        validation_parity = {
            "passed": parity_check.get("passed"),
            "reason": parity_check.get("reason"),
            "percent": ev.get("percent"),
            "objects": ev.get("objects"),
            "differences": ev.get("differences", []),
            "from": source_of(validated),
        }
    kinds = _kind_rows((proof_outcome or {}).get("kinds"), fresh_kinds)

    timing = (proof_outcome or {}).get("provisioning") or {}
    old, new = timing.get("history") or {}, timing.get("baseline") or {}
    fresh_ev = (fresh or {}).get("evidence", {})
    provisioning = {
        "history_replay_seconds": (drift or {}).get("replay_seconds"),
        "history_replay_from": source_of(drift),
        "old_seconds": old.get("seconds") if old.get("ok") else None,
        "old_files": old.get("files"),
        "old_runs": len(old.get("runs") or []) or None,
        "old_failure": old.get("failure"),
        "baseline_seconds": new.get("seconds") if new.get("ok") else None,
        "baseline_runs": len(new.get("runs") or []) or None,
        "speedup": timing.get("speedup"),
        "proof_from": source_of(proof_outcome) if timing else None,
        "fresh_environment_seconds": fresh_ev.get("seconds"),
        "fresh_environment_files": fresh_ev.get("file_count"),
        "fresh_environment_from": source_of(validated) if fresh_ev.get("seconds") is not None else None,
    }

    security = None
    if posture is not None:
        ev = posture.get("evidence", {})
        security = {
            "passed": posture.get("passed"),
            "reason": posture.get("reason"),
            "checks": ev.get("checks", []),
            "findings": ev.get("target", []),
            "levels": ev.get("target_levels"),
            "only_target": ev.get("only_target", []),
            "only_fresh": ev.get("only_fresh", []),
        }

    gates = [protocol.STAGING_REHEARSAL(config).to_dict()]
    for gate in (recorded or {}).get("gates") or []:
        if isinstance(gate, dict):
            gates.append({**gate, "recorded_at": (recorded or {}).get("ts")})

    phase_list = [p.to_dict() for p in phases.values()]
    complete = all(p.status == protocol.DONE for p in phases.values())
    following = next((p for p in phases.values() if p.status != protocol.DONE), None)
    facts: dict[str, Any] = {
        "format": FORMAT,
        "generated_at": utc_now(),
        "project": {"name": config.root.name, "root": str(config.root)},
        "target": {"name": target.name, "role": target.role},
        "identity": _identity(records),
        "journal": {
            "path": str(journal.path.relative_to(config.root)),
            "events": len(records),
            "last_seq": records[-1]["seq"] if records else None,
        },
        "status": {
            "complete": complete,
            "next_phase": following.title if following else None,
            "next_phase_status": following.status if following else None,
        },
        "metrics": metrics,
        "phases": phase_list,
        "inventory": None
        if inspected is None
        else {
            "counts": inspected.get("counts"),
            "constraints_by_type": inspected.get("constraints_by_type"),
            "foreign_key_actions": inspected.get("foreign_key_actions"),
            "row_counts": row_counts,
            "fingerprint": inspected.get("fingerprint"),
            "files": [f.get("file") for f in inspected.get("files") or []],
            "from": source_of(inspected),
        },
        "baseline": baseline,
        "archive": None
        if archived is None
        else {
            "archive_dir": archived.get("archive_dir"),
            "manifest": archived.get("manifest"),
            "manifest_sha256": archived.get("manifest_sha256"),
            "files": len(archived.get("files") or []),
            "from": source_of(archived),
            "state": phases["archive"].status,
        },
        "record": None
        if recorded is None
        else {
            "version": _first(recorded, "version"),
            "mode": _first(recorded, "mode"),
            "moved_versions": _first(recorded, "moved_versions") or [],
            "verified": _first(recorded, "verified"),
            "problems": _first(recorded, "problems") or [],
            "sql": _first(recorded, "sql") or [],
            "transaction_s": _first(recorded, "transaction_s"),
            "from": source_of(recorded),
            "state": phases["record"].status,
        },
        "backup": backup,
        "rollback": rollback_facts(config, target, backup_record),
        "proof": proof_facts,
        "validation_parity": validation_parity,
        "parity_by_kind": kinds,
        "drift": _drift_facts(drift, proof_outcome, (validation_parity or {}).get("passed")),
        "data_statements": _data_statement_facts(inspected, generated, proof_outcome),
        "provisioning": provisioning,
        "fresh_proof": fresh_facts(generated, proof_outcome),
        "security": security,
        "gates": gates,
        "checklist": checklist_facts(journal, phases, validated, backup),
        "validation": None
        if validated is None
        else {
            "passed": validated.get("passed"),
            "failed": validated.get("failed", []),
            "seconds": validated.get("seconds"),
            "checks": [
                {k: c.get(k) for k in ("name", "title", "status", "reason")} for c in validated.get("checks", [])
            ],
            "from": source_of(validated),
        },
    }
    return Report(facts)
