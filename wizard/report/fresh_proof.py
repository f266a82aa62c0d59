"""The report's account of Phase 2's second proof: fresh environments, what the baseline carries, what to set."""

from __future__ import annotations

from typing import Any


def fresh_facts(generated: dict[str, Any] | None, proof: dict[str, Any] | None) -> dict[str, Any] | None:
    """The second proof and what the baseline carries, from ``squash.generated`` and the proof outcome."""
    fresh = (proof or {}).get("fresh")
    if generated is None and fresh is None:
        return None
    carried = (generated or {}).get("carried") or {}
    redactions = (generated or {}).get("redactions") or {}
    prov = (fresh or {}).get("provisioning") or {}
    return {
        "recorded": fresh is not None,
        "ok": (fresh or {}).get("ok"),
        "reason": (fresh or {}).get("reason"),
        "replayable": (fresh or {}).get("replayable"),
        "checks": (fresh or {}).get("checks") or {},
        "not_compared": (fresh or {}).get("not_compared") or {},
        "history_seconds": (prov.get("history") or {}).get("seconds"),
        "history_files": (prov.get("history") or {}).get("files"),
        "history_failure": (prov.get("history") or {}).get("failure"),
        "baseline_seconds": (prov.get("baseline") or {}).get("seconds"),
        "carried_rows": carried.get("rows") or {},
        "from_target": (generated or {}).get("data_tables") or {},
        "excluded": carried.get("excluded") or [],
        "not_carried": carried.get("not_carried") or {},
        "cron_jobs": carried.get("cron_jobs") or [],
        "queues": carried.get("queues") or [],
        "vault_secrets": redactions.get("vault_secrets") or [],
        "placeholders": redactions.get("replaced") or [],
    }


def _seconds(value: Any) -> str:
    return "not measured" if value is None else f"{value:.3f} s"


def fresh_lines(fresh: dict[str, Any] | None) -> list[str]:
    """Markdown: the two fresh environments compared, their provisioning seconds, carried and excluded, to set."""
    lines = ["### Fresh Environments: the Old History vs the New Folder", ""]
    if fresh is None or not fresh["recorded"]:
        return [*lines, "Not measured (no fresh-environment proof recorded; run `consolidate squash`).", ""]
    if not fresh["replayable"]:
        lines.append(f"⚠️ {fresh['reason']}")
    else:
        lines.append("✅ equal" if fresh["ok"] else f"❌ {fresh['reason']}")
    lines.append("")
    if fresh["checks"]:
        lines += ["| Compared | Items | Verdict |", "|---|---|---|"]
        for name, check in fresh["checks"].items():
            verdict = "✅ equal" if check.get("ok") else f"❌ {len(check.get('differences') or [])} different"
            lines.append(f"| {name} | {check.get('compared')} | {verdict} |")
        lines.append("")
        for name, check in fresh["checks"].items():
            lines += [f"- ❌ {name}: {d}" for d in check.get("differences") or []]
            lines += [f"- accepted ({name}): {d}" for d in check.get("accepted") or []]
    lines += [
        "",
        "| Fresh environment | Provisioning time |",
        "|---|---|",
        f"| Old history, {fresh['history_files']} file(s) | {_seconds(fresh['history_seconds'])}"
        f"{' (failed: ' + str(fresh['history_failure']) + ')' if fresh['history_failure'] else ''} |",
        f"| New folder (the baseline alone) | {_seconds(fresh['baseline_seconds'])} |",
        "",
    ]
    carried = [f"{t} ({n} row(s), as the old history left them)" for t, n in fresh["carried_rows"].items()]
    carried += [f"{t} ({n} row(s) from the target, --include-data)" for t, n in fresh["from_target"].items()]
    carried += [f"pg_cron job {j}" for j in fresh["cron_jobs"]] + [f"pgmq queue {q}" for q in fresh["queues"]]
    carried += [f"vault secret {s} (name only)" for s in fresh["vault_secrets"]]
    lines.append(f"- **Carried into the baseline:** {', '.join(carried) if carried else 'nothing'}")
    lines.append(f"- **Excluded by the operator:** {', '.join(fresh['excluded']) if fresh['excluded'] else 'nothing'}")
    for table, why in {**fresh["not_carried"], **fresh["not_compared"]}.items():
        lines.append(f"- Not carried or not compared: {table} ({why})")
    to_set = [f"vault secret `{s}` (vault.update_secret)" for s in fresh["vault_secrets"]]
    to_set += [f"`{p['placeholder']}` ({p['kind']} in {p['where']})" for p in fresh["placeholders"]]
    if to_set:
        lines.append("- **Set after provisioning a new environment** (never written to the baseline):")
        lines += [f"  - {item}" for item in to_set]
    lines.append("")
    return lines
