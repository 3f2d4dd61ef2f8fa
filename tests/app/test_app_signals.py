"""``attrix app`` stopped by SIGTERM or SIGHUP stops the server it started (here a stand-in for Streamlit) and frees its port."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

SCRIPT = textwrap.dedent("""\
    import subprocess, sys
    import attrix.commands.app as app
    from attrix.cli import main

    real_call = subprocess.call
    app.importlib.util.find_spec = lambda name: object()
    stand_in = [sys.executable, "-c", "import os, time; open(sys_argv_1, 'w').write(str(os.getpid())); time.sleep(120)".replace("sys_argv_1", repr(sys.argv[1]))]
    app.subprocess.call = lambda command, env: real_call(stand_in, env=env)
    sys.exit(main(["app"]))
    """)


pytestmark = pytest.mark.slow


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_stop_signal_to_attrix_app_stops_its_server(signum, tmp_path):
    pid_file = tmp_path / "server.pid"
    app = subprocess.Popen([sys.executable, "-c", SCRIPT, str(pid_file)], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not (pid_file.exists() and pid_file.read_text()):
            assert app.poll() is None, app.stderr.read().decode()
            assert time.monotonic() < deadline, "the stand-in server never started"
            time.sleep(0.05)
        server = int(pid_file.read_text())
        assert alive(server)
        app.send_signal(signum)
        assert app.wait(timeout=30) == 128 + signum
        assert b"Traceback" not in app.stderr.read()
        assert not alive(server), "the server outlived attrix app"
    finally:
        if app.poll() is None:
            app.kill()
        if pid_file.exists() and pid_file.read_text() and alive(int(pid_file.read_text())):
            os.kill(int(pid_file.read_text()), signal.SIGKILL)
