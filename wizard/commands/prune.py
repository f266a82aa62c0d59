"""``consolidate prune-backups``: remove a target's old backups, never one the protocol relies on.

Never connects to a database: what is protected comes from the journal (see
:mod:`wizard.backup.prune`). Exit codes: 0 done (or nothing to remove), 2 usage or
configuration error, or another process holds the backup directory.
"""

from __future__ import annotations

import argparse
from datetime import timedelta

from rich.console import Console

from wizard.backup import prune as prune_mod
from wizard.backup.files import human_bytes
from wizard.commands.common import print_json
from wizard.commands.options import add_project_options
from wizard.errors import EXIT_OK, ConfigError
from wizard.project import config as config_mod
from wizard.state.journal import Journal


def arguments(p: argparse.ArgumentParser) -> None:
    add_project_options(p)
    p.add_argument(
        "--keep",
        type=int,
        default=prune_mod.DEFAULT_KEEP,
        help=f"newest backups to keep besides the protected ones (default {prune_mod.DEFAULT_KEEP})",
    )
    p.add_argument("--older-than-hours", type=float, help="remove only backups older than this")
    p.add_argument("--dry-run", action="store_true", help="say what would be removed, remove nothing")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, console: Console) -> int:
    if args.keep < 0:
        raise ConfigError("--keep must be 0 or more", "pass --keep 1 to keep the newest backup")
    cfg = config_mod.load(args.project)
    target = cfg.target(args.target)
    journal = Journal.for_target(cfg.state_dir, target.name)
    older = timedelta(hours=args.older_than_hours) if args.older_than_hours is not None else None
    decisions = prune_mod.plan_prune(journal, cfg.root, keep=args.keep, older_than=older)
    removed = [] if args.dry_run else prune_mod.prune(cfg, target, journal, decisions)
    removed_paths = {r["path"] for r in removed}
    if args.json:
        print_json(
            console,
            {
                "target": target.name,
                "dry_run": args.dry_run,
                "decisions": [d.to_dict() for d in decisions],
                "removed": sorted(removed_paths),
            },
        )
        return EXIT_OK
    verb = "would remove" if args.dry_run else "removed"
    freed = 0
    for d in decisions:
        if d.remove and (args.dry_run or d.record.path in removed_paths):
            freed += d.record.size
            console.print(f"{verb} {d.record.path} ({human_bytes(d.record.size)}): {d.reason}", markup=False)
        else:
            console.print(f"kept {d.record.path} ({human_bytes(d.record.size)}): {d.reason}", markup=False)
    count = sum(1 for d in decisions if d.remove and (args.dry_run or d.record.path in removed_paths))
    console.print(f"{verb} {count} backup(s) of target {target.name}, {human_bytes(freed)}", markup=False)
    return EXIT_OK
