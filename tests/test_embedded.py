"""The embedded server is shared by concurrent processes and stopped by the last one."""

from __future__ import annotations

import hashlib
import os
import pwd
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from wizard.errors import ShadowError
from wizard.platform import embedded

HOLD = """
import sys, time
from pathlib import Path
from wizard.platform import embedded
srv = embedded.server(Path(sys.argv[1]))
print("up", flush=True)
if sys.argv[2] == "hold":
    sys.stdin.readline()  # until the test lets it go
"""


def test_two_processes_share_the_server_and_the_last_stops_it(tmp_path):
    root = tmp_path / "embedded"
    first = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(root), "hold"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert first.stdout.readline().strip() == "up"
    second = subprocess.run([sys.executable, "-c", HOLD, str(root), "go"], capture_output=True, text=True, timeout=60)
    assert second.stdout.strip() == "up", second.stderr
    assert first.poll() is None  # the second came and went while the first held the server
    srv = embedded.EmbeddedServer(root=root.resolve(), socket_dir=root)
    assert srv.is_running(), "the second process stopped a server the first still uses"
    first.communicate("\n", timeout=60)
    assert not srv.is_running(), "the last process did not stop the server"


def _tree(path):
    """Every entry under ``path`` with its owner, mode and (for files) content: to prove nothing changed."""
    entries = []
    for entry in [*sorted(path.rglob("*")), path]:
        st = os.lstat(entry)
        data = entry.read_bytes() if entry.is_file() and not entry.is_symlink() else b""
        entries.append((str(entry), st.st_uid, st.st_gid, st.st_mode, data))
    return entries


def test_the_socket_directory_is_private_and_remembered(server: embedded.EmbeddedServer) -> None:
    sock = server.socket_dir
    st = os.lstat(sock)
    assert stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o700
    assert st.st_uid == (pwd_uid("embedded_postgres") if os.geteuid() == 0 else os.geteuid())
    assert sock.parent == Path(tempfile.gettempdir()) and sock.name.startswith("cw-")
    assert sock.name != "cw-" + hashlib.sha256(str(server.root).encode()).hexdigest()[:12]  # not predictable
    remembered = server.root / embedded.SOCKET_FILE
    assert remembered.read_text().strip() == str(sock)
    assert stat.S_IMODE(os.lstat(remembered).st_mode) == 0o600
    # another process of the project finds the same server through the remembered path
    probe = "import sys; from pathlib import Path; from wizard.platform import embedded; "
    probe += "s = embedded.server(Path(sys.argv[1])); print(s.socket_dir)"
    other = subprocess.run([sys.executable, "-c", probe, str(server.root)], capture_output=True, text=True, timeout=60)
    assert other.stdout.strip() == str(sock), other.stderr


def pwd_uid(user: str) -> int:
    return pwd.getpwnam(user).pw_uid


@pytest.mark.parametrize("where", ["socket", "pgdata"])
def test_a_planted_symlink_is_refused_with_one_line_and_nothing_outside_changes(tmp_path: Path, where: str) -> None:
    """A symbolic link at the remembered socket directory or at ROOT/pgdata: refused, never followed nor chowned."""
    victim = tmp_path / "victim"
    victim.mkdir(mode=0o755)
    (victim / "precious").write_text("keep me")
    before = _tree(victim)
    root = tmp_path / "embedded"
    root.mkdir()
    if where == "socket":
        link = tmp_path / "sock"
        link.symlink_to(victim)
        (root / embedded.SOCKET_FILE).write_text(f"{link}\n")
        expected = f"the embedded server's socket directory {link} is a symbolic link; refusing to follow it"
    else:
        link = root / "pgdata"
        link.symlink_to(victim)
        expected = f"the embedded server's data directory {link} is a symbolic link; refusing to follow it"
    with pytest.raises(ShadowError) as exc:
        embedded.server(root)
    assert exc.value.message == expected
    assert exc.value.fix == f"remove {link} and run the command again"
    assert "\n" not in str(exc.value)
    assert _tree(victim) == before
    assert os.path.islink(link)


PROBE = """
import socket, sys
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(sys.argv[1])
except PermissionError:
    print("denied")
else:
    print("connected")
"""


@pytest.mark.skipif(os.geteuid() != 0 or not Path("/usr/bin/python3").exists(), reason="needs root to be another user")
def test_another_os_user_cannot_reach_the_servers_socket(server: embedded.EmbeddedServer) -> None:
    (sock,) = [p for p in server.socket_dir.glob(".s.PGSQL.*") if p.suffix != ".lock"]
    as_root = subprocess.run(["/usr/bin/python3", "-c", PROBE, str(sock)], capture_output=True, text=True, timeout=60)
    assert as_root.stdout.strip() == "connected"  # the probe works: the socket is there and answers
    other = subprocess.run(
        ["runuser", "-u", "nobody", "--", "/usr/bin/python3", "-c", PROBE, str(sock)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert other.stdout.strip() == "denied", other.stdout + other.stderr
