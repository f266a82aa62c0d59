"""Shared plumbing for subcommands: project and target options, opening the target."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from rich.console import Console

from wizard.commands import leftovers
from wizard.commands.output import print_json
from wizard.db.connect import Identity, identity, open_session, table_locked, tls_default
from wizard.platform.shadow import embedded_dsn
from wizard.project import config as config_mod
from wizard.project.config import Config, Target
from wizard.state import targets

__all__ = ["TargetSession", "open_target", "print_identity", "print_json"]  # print_json: from .output


@dataclass
class TargetSession:
    """An open, read-only session on a configured target."""

    config: Config
    target: Target
    conn: psycopg.Connection
    identity: Identity
    dsn: str


@contextmanager
def open_target(
    args: argparse.Namespace, console: Console | None = None, *, leftovers_note: bool = True
) -> Iterator[TargetSession]:
    """Load the project's config and open a read-only session on ``--target``; prints its identity,
    and one line when a killed run left something behind (``leftovers_note``).

    Refuses (before and after connecting) a target that points at another target's database.
    """
    cfg = config_mod.load(args.project)
    target = cfg.target(getattr(args, "target", None))
    targets.check_static(cfg, target)
    dsn = config_mod.resolve_dsn(target.source, embedded_dsn(cfg))
    _, tls_note = tls_default(dsn)
    if tls_note and console is not None and not getattr(args, "json", False):
        console.print(f"[yellow]note:[/] {tls_note}")
    conn = open_session(dsn, read_only=True)
    try:
        ident = identity(conn)
        targets.check_live(cfg, target, ident)
        if console is not None and not getattr(args, "json", False):
            print_identity(console, target, ident)
            found = leftovers.find(cfg, look_in_shadow=False).lines() if leftovers_note else []
            if found:
                console.print(
                    f"[yellow]note:[/] {len(found)} leftover(s) of a killed run (`consolidate status` lists them; "
                    "`consolidate status --clean` removes them)"
                )
        yield TargetSession(cfg, target, conn, ident, dsn)
    except psycopg.errors.LockNotAvailable as exc:
        raise table_locked(conn, exc) from None
    finally:
        conn.close()


def print_identity(console: Console, target: Target, ident: Identity) -> None:
    """One line naming the target, its role and identity (never a password)."""
    style = "bold white on red" if target.is_production else "bold black on green"
    console.print(f"[{style}] {target.role.upper()} [/] target [bold]{target.name}[/]: {ident.describe()}")
