"""The lock a run holds on its output directory, so that two runs never write the same results at once."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from attrix.runs.manifest import RunDirectoryError, now

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory locks, the lock is a no-op
    fcntl = None  # type: ignore[assignment]

LOCK = ".attrix.lock"
"""The lock file in the output directory; it holds the pid and start time of the run holding it."""


class RunLockedError(RunDirectoryError):
    """Another run holds the output directory."""


@contextlib.contextmanager
def run_lock(directory: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``directory`` (which must exist) until the block ends, even on an error.

    A second run on the same directory is refused at once with an error naming the pid and start time of the
    first. Where ``fcntl`` is missing the lock does nothing.
    """
    if fcntl is None:  # pragma: no cover
        yield
        return
    path = directory / LOCK
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(descriptor, 200, 0).decode("utf-8", "replace").strip() or "unknown"
            raise RunLockedError(
                f"another attrix run ({holder}) is writing into {str(directory)!r}; wait for it to finish, "
                f"or choose another output.directory"
            ) from None
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"pid {os.getpid()}, started {now()}".encode(), 0)
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                path.unlink()
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)
