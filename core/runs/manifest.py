"""``manifest.json``: what a run was (config, versions, model hash, seed, device) and how it went (sessions, times, counts)."""

from __future__ import annotations

import hashlib
import json
import os
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from attrix.api.provenance import versions
from attrix.errors import AttrixError
from attrix.experiments.schema import Experiment

MANIFEST = "manifest.json"
FREE_ON_RESUME = ("engine", "output.directory")
"""Config keys a resumed run may change: they do not change the rows."""


class RunDirectoryError(AttrixError):
    """An output directory that does not fit the run: not empty without ``--resume``, nothing to resume, or another config's."""


def model_hash(path: str | Path) -> str | None:
    """The sha256 of a model directory's files (their relative paths and bytes, in sorted order); None for a Hub id."""
    directory = Path(path)
    if not directory.is_dir():
        return None
    digest = hashlib.sha256()
    for file in sorted(p for p in directory.rglob("*") if p.is_file()):
        digest.update(file.relative_to(directory).as_posix().encode() + b"\0")
        with file.open("rb") as content:
            for chunk in iter(lambda: content.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def now() -> str:
    """The current time in UTC, ISO 8601."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def plain(experiment: Experiment) -> dict[str, Any]:
    """The experiment as the manifest stores it: JSON data, so that it compares equal with what is read back."""
    return json.loads(json.dumps(experiment.to_dict()))


class Manifest:
    """The manifest of the run in ``directory``, rewritten atomically whenever it changes."""

    def __init__(self, directory: Path, data: dict[str, Any]) -> None:
        self.path, self.data = directory / MANIFEST, data
        self._started = time.perf_counter()

    @classmethod
    def read(cls, directory: Path) -> Manifest:
        """The manifest a run left in ``directory``; an error if there is none."""
        path = directory / MANIFEST
        if not path.is_file():
            raise RunDirectoryError(f"nothing to resume in {str(directory)!r}: it has no {MANIFEST}; run without --resume")
        try:
            data = json.loads(path.read_text(encoding="utf-8", errors="replace"))
        except json.JSONDecodeError as error:
            problem = f"is not valid JSON at line {error.lineno}, column {error.colno} ({error.msg})"
        else:
            if (
                isinstance(data, dict)
                and isinstance(data.get("config"), dict)
                and isinstance(data.get("sessions"), list)
                and isinstance(data.get("model"), dict)
            ):
                return cls(directory, data)
            problem = "is not a run manifest (a JSON object with config, model and sessions)"
        raise RunDirectoryError(
            f"cannot resume: {str(path)!r} {problem}; restore it (or delete the directory's contents) and start the "
            f"run again, or run into another output.directory"
        )

    @classmethod
    def create(cls, directory: Path, experiment: Experiment, model: str) -> Manifest:
        """A new run's manifest: its config, versions and model; sessions and counts come later."""
        data = {
            "config": plain(experiment),
            "versions": versions(),
            "model": {"path": model, "sha256": model_hash(model)},
            "seed": experiment.seed,
            "sessions": [],
        }
        return cls(directory, data)

    def check_resumable(self, experiment: Experiment, model: str) -> None:
        """Nothing unless the config or the model files differ from the run being resumed; then an error naming what differs."""
        recorded = {**plain(Experiment()), **self.data["config"]}  # a key the schema gained since counts as its default
        differing = [key for key in _differences(recorded, plain(experiment)) if not key.startswith(FREE_ON_RESUME)]
        if model_hash(model) != self.data["model"]["sha256"]:
            differing.append(f"model files of {model!r} (sha256 differs)")
        if differing:
            raise RunDirectoryError(
                f"cannot resume the run in {str(self.path.parent)!r}: the config differs from its manifest at "
                f"{', '.join(differing)}; resume with the same config, or start a new run in another output.directory"
            )

    def begin(self, engine: str, device: str) -> None:
        """Record the start of a session (the first run, or a resume); its wall time counts from here."""
        self.data["device"] = device
        self.data["sessions"].append(
            {"engine": engine, "device": device, "started": now(), "finished": None, "wall_seconds": None}
        )
        self._started = time.perf_counter()
        self.write()

    def finish(self, counts: dict[str, int]) -> float:
        """Record the end of the session and the run's row counts; the run's wall time over all its sessions."""
        session = self.data["sessions"][-1]
        session.update(finished=now(), wall_seconds=round(time.perf_counter() - self._started, 3))
        self.data.update(
            started=self.data["sessions"][0]["started"],
            finished=session["finished"],
            wall_seconds=round(sum(s["wall_seconds"] or 0.0 for s in self.data["sessions"]), 3),
            rows=counts,
        )
        self.write()
        return self.data["wall_seconds"]

    def write(self) -> None:
        """Write the manifest atomically: a reader never sees half of it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(self.path.name + ".tmp")
        temporary.write_text(json.dumps(self.data, indent=2) + "\n", encoding="utf-8")
        os.replace(temporary, self.path)


def _differences(old: Any, new: Any, key: str = "") -> list[str]:
    """The key paths where two configs differ, with both values."""
    if isinstance(old, dict) and isinstance(new, dict):
        return [
            found
            for name in {**old, **new}
            for found in _differences(old.get(name), new.get(name), f"{key}.{name}" if key else name)
        ]
    return [] if old == new else [f"{key} (was {old!r}, now {new!r})"]
