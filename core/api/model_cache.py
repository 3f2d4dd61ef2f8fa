"""Building a model directory once into the user cache, safely across processes."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

__all__ = ["CACHE_ENV_VAR", "METADATA_FILE", "cache_root", "cached_build", "is_complete", "write_metadata"]

logger = logging.getLogger(__name__)

CACHE_ENV_VAR = "ATTRIX_CACHE_DIR"
METADATA_FILE = "attrix_build.json"
_STALE_TMP_SECONDS = 3600.0


def cached_build(target: Path, build_into: Callable[[Path], None], *, label: str, rebuild: bool = False) -> Path:
    """Return target, first building it with build_into(tmp dir) if missing or if rebuild."""
    if not rebuild and is_complete(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with _build_lock(target) as exclusive:
        if not rebuild and is_complete(target):  # another process built it while we waited
            return target
        _remove_leftovers(target, max_age=0.0 if exclusive else _STALE_TMP_SECONDS)
        _build(target, build_into, label=label, replace=rebuild)
    return target


def cache_root() -> Path:
    """Return the cache root: $ATTRIX_CACHE_DIR if set, else the platform user cache dir."""
    env = os.environ.get(CACHE_ENV_VAR)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("attrix"))


def is_complete(path: Path) -> bool:
    """Return whether path holds a finished build."""
    return (path / METADATA_FILE).is_file() and (path / "config.json").is_file()


def write_metadata(out_dir: Path, metadata: dict[str, Any]) -> None:
    """Write the build metadata file whose presence (with config.json) marks a finished build."""
    (out_dir / METADATA_FILE).write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")


def _build(target: Path, build_into: Callable[[Path], None], *, label: str, replace: bool) -> None:
    """Build into a temporary sibling of target, then publish it with an atomic rename."""
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    tmp.mkdir()
    try:
        logger.info("Building %s once into %s ...", label, target)
        start = time.perf_counter()
        build_into(tmp)
        _publish(tmp, target, replace=replace)
        logger.info("Built %s in %.1f s", label, time.perf_counter() - start)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def _build_lock(target: Path) -> Iterator[bool]:
    """Hold an inter-process lock so concurrent callers build once; yield whether it is held."""
    try:
        import fcntl
    except ImportError:  # Windows: no lock; the atomic rename alone keeps builds safe
        yield False
        return
    with open(target.with_name(f".{target.name}.lock"), "a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield True
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _publish(tmp: Path, target: Path, *, replace: bool) -> None:
    """Atomically move a finished build from tmp to target (first finished build wins)."""
    if replace or (target.exists() and not is_complete(target)):
        old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
        with contextlib.suppress(FileNotFoundError):
            os.rename(target, old)
        shutil.rmtree(old, ignore_errors=True)
    try:
        os.rename(tmp, target)
    except OSError:
        # Another process published a build concurrently; keep theirs, drop ours.
        if not is_complete(target):
            raise


def _remove_leftovers(target: Path, *, max_age: float) -> None:
    """Delete temporary directories of killed builds older than max_age seconds."""
    now = time.time()
    for pattern in (f".{target.name}.tmp-*", f".{target.name}.old-*"):
        for path in target.parent.glob(pattern):
            with contextlib.suppress(OSError):
                if now - path.stat().st_mtime >= max_age:
                    shutil.rmtree(path, ignore_errors=True)
