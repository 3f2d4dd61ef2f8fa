"""``attrix app``: the web demo, served by Streamlit (the optional extra ``attrix[app]``)."""

from __future__ import annotations

import argparse
import importlib.util
import os
import signal
import subprocess
import sys

from attrix.errors import AttrixError

STREAMLIT_SETTINGS = (
    "--server.headless",
    "true",
    "--browser.gatherUsageStats",
    "false",
    "--server.fileWatcherType",
    "none",
    "--client.showErrorDetails",
    "none",
    "--client.toolbarMode",
    "viewer",
)
"""No browser opened, no telemetry, no reloading, no tracebacks in the page, no developer menu."""


def add_command(commands) -> None:
    command = commands.add_parser("app", help="serve the web demo: explain a model in the browser (needs attrix[app])")
    command.add_argument("--model", help="model directory or Hub id preselected (default: the embedded sentiment model)")
    command.add_argument("--port", type=port, default=8501, help="port to serve on (default: 8501)")
    command.add_argument("--host", default="127.0.0.1", help="address to serve on (default: 127.0.0.1, this machine only)")
    command.set_defaults(run=run)


def port(value: str) -> int:
    """A TCP port number, 1 to 65535."""
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise argparse.ArgumentTypeError(f"a port is a number from 1 to 65535, got {value!r}")
    return int(value)


def run(arguments: argparse.Namespace) -> int:
    if importlib.util.find_spec("streamlit") is None:
        raise AttrixError("attrix app needs Streamlit, which is not installed: pip install 'attrix[app]'")
    from attrix.app.logic import MODEL_ENV_VAR, PAGE

    environment = dict(os.environ)
    if arguments.model is not None:
        environment[MODEL_ENV_VAR] = arguments.model
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(PAGE),
        "--server.address",
        arguments.host,
        "--server.port",
        str(arguments.port),
        *STREAMLIT_SETTINGS,
    ]
    try:
        with _stopping_on(STOP_SIGNALS):
            return subprocess.call(command, env=environment)
    except KeyboardInterrupt:  # Ctrl-C stops Streamlit too; leave without a traceback
        return 130
    except _Stopped as stopped:  # subprocess.call killed and reaped Streamlit on the way out: the port is free
        return 128 + stopped.signum


STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))
"""Signals that stop ``attrix app``, and with it the Streamlit it serves by."""


class _Stopped(BaseException):
    """``attrix app`` got a stop signal: raised out of ``subprocess.call``, which then kills and waits for its child."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class _stopping_on:
    """Within the block, each of ``signals`` raises ``_Stopped`` (in the main thread only; elsewhere nothing changes)."""

    def __init__(self, signals: tuple[int, ...]) -> None:
        self.signals, self.previous = signals, {}

    def __enter__(self) -> None:
        try:
            for signum in self.signals:
                self.previous[signum] = signal.signal(signum, self._raise)
        except ValueError:  # not the main thread: signals cannot be handled here
            self.__exit__()

    def __exit__(self, *exc_info: object) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)
        self.previous = {}

    @staticmethod
    def _raise(signum: int, frame: object) -> None:
        raise _Stopped(signum)
