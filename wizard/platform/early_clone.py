"""A scratch database cloned in the background while the target's platform is still being read.

Reading the target's platform (a schema-only ``pg_dump`` and a few catalog queries) and cloning
the mirror template it names (``CREATE DATABASE ... TEMPLATE``) take about as long as each
other, and the clone cannot start before the read says which template. A target's platform
rarely changes between runs, so the clone starts at once from the template its last scratch
database came from (recorded in the state directory), and is adopted only if the fresh read
names that same template; otherwise it is dropped and nothing of it is used.
"""

from __future__ import annotations

import atexit
import threading
from pathlib import Path

import psycopg
from psycopg import sql

from wizard.db.connect import open_session
from wizard.errors import WizardError

HINT_FILE = "mirror-template"


def last_template(directory: Path) -> str | None:
    """The mirror template the target's last scratch database came from, if recorded."""
    try:
        name = (directory / HINT_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return name if name.startswith("cw_mirror_") and name.replace("_", "").isalnum() else None


def remember_template(directory: Path, template: str) -> None:
    """Record ``template`` as the one the next run clones early (best effort: only a hint)."""
    path = directory / HINT_FILE
    try:
        if last_template(directory) != template:
            tmp = path.with_suffix(".tmp")
            tmp.write_text(template + "\n", encoding="utf-8")
            tmp.replace(path)
    except OSError:
        pass


class EarlyClone:
    """``CREATE DATABASE name TEMPLATE template`` running on its own session and thread.

    Exactly one :meth:`take` (or :meth:`discard`) settles it; a clone nobody takes is dropped,
    at the latest when the process exits.
    """

    def __init__(self, admin_dsn: str, template: str, name: str) -> None:
        self.admin_dsn = admin_dsn
        self.template = template
        self.name = name
        self._created = False
        self._settled = False
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._clone, name="early-clone", daemon=True)
        self._thread.start()
        atexit.register(self.discard)

    def _clone(self) -> None:
        try:
            with open_session(self.admin_dsn, read_only=False) as conn:
                conn.execute(
                    sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                        sql.Identifier(self.name), sql.Identifier(self.template)
                    )
                )
            self._created = True
        except (psycopg.Error, OSError, WizardError):
            self._created = False  # the template is gone or busy: the caller clones as usual

    def take(self, template: str) -> str | None:
        """The clone's name if it was made from ``template``; otherwise it is dropped and None returned."""
        with self._lock:
            if self._settled:
                return None
            self._settled = True
        self._thread.join()
        if self._created and template == self.template:
            return self.name
        self._drop()
        return None

    def discard(self) -> None:
        """Drop the clone unless it was taken (idempotent)."""
        with self._lock:
            if self._settled:
                return
            self._settled = True
        self._thread.join()
        self._drop()

    def _drop(self) -> None:
        if not self._created:
            return
        try:
            with open_session(self.admin_dsn, read_only=False) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name)))
        except (psycopg.Error, OSError, WizardError):
            pass  # at exit the server may be gone already; the name marks it as a scratch database
        self._created = False
