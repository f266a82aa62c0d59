"""The embedded server is shared by concurrent processes and stopped by the last one."""

from __future__ import annotations

import subprocess
import sys
import time

from wizard.platform import embedded

HOLD = """
import sys, time
from pathlib import Path
from wizard.platform import embedded
srv = embedded.server(Path(sys.argv[1]))
print("up", flush=True)
time.sleep(float(sys.argv[2]))
"""


def test_two_processes_share_the_server_and_the_last_stops_it(tmp_path):
    root = tmp_path / "embedded"
    first = subprocess.Popen([sys.executable, "-c", HOLD, str(root), "3"], stdout=subprocess.PIPE, text=True)
    assert first.stdout.readline().strip() == "up"
    started = time.monotonic()
    second = subprocess.run([sys.executable, "-c", HOLD, str(root), "0"], capture_output=True, text=True, timeout=60)
    assert second.stdout.strip() == "up", second.stderr
    assert time.monotonic() - started < 2.5, "the second process waited for the first to exit"
    srv = embedded.EmbeddedServer(root=root.resolve(), socket_dir=root)
    assert srv.is_running(), "the second process stopped a server the first still uses"
    first.wait(timeout=60)
    assert not srv.is_running(), "the last process did not stop the server"
