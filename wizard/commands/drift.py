"""``consolidate drift``: where the migration history disagrees with the real target."""

from __future__ import annotations

import argparse

from rich.console import Console

from .. import drift, migrations, render
from .. import shadow as shadow_mod
from ..errors import EXIT_DIFFERENCES, EXIT_OK
from .common import add_project_options, open_target, print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "drift", help="replay the migration history in a scratch database and compare it with the target"
    )
    add_project_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace, console: Console) -> int:
    with open_target(args, console) as session:
        mset = migrations.discover(session.config.migrations_dir)
        shadow = shadow_mod.for_config(session.config)
        status = console.status("checking drift") if not args.json else None
        if status:
            status.start()
        try:
            report = drift.check(session.conn, mset, shadow, progress=status.update if status else None)
        finally:
            if status:
                status.stop()
    if args.json:
        print_json(
            console,
            {
                "target": session.target.name,
                "identity": session.identity.to_dict(),
                "replay": {
                    "ok": report.replay.ok,
                    "applied": [name for name, _ in report.replay.applied],
                    "seconds": round(report.replay.seconds, 3),
                    "failure": report.replay.failure.__dict__ if report.replay.failure else None,
                },
                "parity": report.parity.to_dict() if report.parity else None,
            },
        )
    else:
        render.replay_result(console, report.replay)
        if report.parity:
            render.parity(console, report.parity)
    return EXIT_OK if report.clean else EXIT_DIFFERENCES
