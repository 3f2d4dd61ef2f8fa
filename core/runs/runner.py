"""``run_experiment``: a config's inputs explained into result rows, a manifest, a summary and reports, here or on Ray."""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attrix.contracts.explanation import Explanation
from attrix.errors import AttrixError, InputError
from attrix.experiments.schema import Experiment
from attrix.host.registry import create
from attrix.runs.dataset import Dataset, Row
from attrix.runs.lock import LOCK, run_lock
from attrix.runs.manifest import Manifest, RunDirectoryError
from attrix.runs.outputs import Results, open_results
from attrix.runs.progress import progress_bar
from attrix.runs.reports import write_reports
from attrix.runs.rows import WINDOW_BATCHES, ResultRow, explain_rows
from attrix.runs.setup import batch_explainer, model_location, task_class
from attrix.runs.summary import Convergence, MetricValues, WordMeans, summary

if TYPE_CHECKING:
    from attrix.runs.ray_executor import RayExecutor

REPORT_ROWS = 1000
"""At most this many explanations (the first in the results) go into the reports."""
SUMMARY = "summary.json"
SUMMARY_PAGE = "summary.html"
"""The summary as a page, written when the config has the html renderer."""


class RunFailedError(AttrixError):
    """A run whose every row failed for the same reason (a target the model does not have, say)."""


@dataclass(frozen=True)
class RunResult:
    """What a run left in its output directory."""

    directory: Path
    counts: dict[str, int]
    reports: list[Path]
    unconverged_rows: int = 0
    """Rows with a target whose attributions miss the method's completeness tolerance (``converged`` false)."""


class LocalExecutor:
    """Explains in this process, with one ``Explainer``."""

    name = "local"

    def __init__(self, experiment: Experiment, model: str) -> None:
        self.explain = batch_explainer(experiment, model)
        self.window = WINDOW_BATCHES * experiment.batch_size

    @property
    def device(self) -> str:
        return str(next(self.explain.explainer.model.parameters()).device)

    def windows(self, rows: Iterator[Row]) -> Iterator[Iterable[list[ResultRow]]]:
        """Each window of rows as the batches of result rows it gives, computed as they are consumed."""
        while window := list(itertools.islice(rows, self.window)):
            yield explain_rows(self.explain, window)


class RunInterruptedError(AttrixError):
    """A run stopped by Ctrl-C; the rows written so far are kept for ``--resume``."""

    exit_status = 130


def run_experiment(experiment: Experiment, *, resume: bool = False, show_progress: bool = True) -> RunResult:
    """Run ``experiment``; with ``resume``, continue the run its output directory holds without redoing its rows.

    The run holds a lock on its output directory: a second run on it at the same time is refused.
    """
    directory = Path(experiment.output.directory)
    _prepare_directory(directory, resume)
    with run_lock(directory):
        return _run_locked(experiment, directory, resume, show_progress)


def _prepare_directory(directory: Path, resume: bool) -> None:
    """Create the output directory; an ``InputError`` when it is a file or cannot be created or written."""
    where = f"the output directory {str(directory)!r}"
    if directory.exists() and not directory.is_dir():
        raise InputError(f"{where} is a file, not a directory; choose another output.directory")
    if resume and not directory.is_dir():
        Manifest.read(directory)  # raises: nothing to resume
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(f"cannot create {where}: {error.strerror or error}; choose another output.directory") from None
    if not os.access(directory, os.W_OK | os.X_OK):
        raise InputError(f"cannot write into {where}: permission denied; choose another output.directory")


def _run_locked(experiment: Experiment, directory: Path, resume: bool, show_progress: bool) -> RunResult:
    model = model_location(experiment.model)
    manifest = _manifest(directory, experiment, model, resume)
    dataset = Dataset(experiment.inputs, task_class(experiment, model).inputs)
    total = dataset.count()
    executor = _executor(experiment, model)
    results = open_results(directory, experiment.output.format)
    done = {row["id"] for row in results.rows()}
    manifest.begin(executor.name, executor.device)
    try:
        with progress_bar(total, len(done), show=show_progress) as advance:
            for window in executor.windows(row for row in dataset if row.id not in done):
                results.write(_advancing(window, advance))
    except KeyboardInterrupt:
        results.close()
        raise RunInterruptedError(f"interrupted after {_written(results)} rows; continue with --resume") from None
    except OSError as error:
        results.close()
        raise RunDirectoryError(
            f"writing the results in {str(directory)!r} failed: {error.strerror or error}; the {_written(results)} rows "
            f"already written are intact: free the space (or fix the error) and continue with --resume"
        ) from None
    finally:
        results.close()
    metrics = MetricValues(tuple(metric.name for metric in experiment.metrics))
    convergence = Convergence()
    counts, words, explanations = _read_back(results, metrics, convergence)
    wall_seconds = manifest.finish(counts)
    document = summary(counts, words, wall_seconds, metrics, experiment.seed, convergence)
    (directory / SUMMARY).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    reports = write_reports(explanations, experiment.renderers, directory, stem="report") if experiment.renderers else []
    pages = reports + _summary_page(experiment, document, directory, reports)
    result = RunResult(directory, counts, pages, convergence.unconverged_rows)
    if counts["rows"] > 1 and counts["errors"] == counts["rows"]:
        _all_failed(results, counts["rows"])
    return result


def _written(results: Results) -> int:
    """How many complete rows the results hold, read back; 0 if they cannot be read."""
    try:
        return sum(1 for _ in results.rows())
    except (OSError, AttrixError):
        return 0


def _all_failed(results: Results, rows: int) -> None:
    """Nothing unless every row failed for the same reason: then an error saying so."""
    reasons = {row["error"] for row in results.rows()}
    if len(reasons) == 1:
        raise RunFailedError(f"every one of the {rows} rows failed with the same error: {reasons.pop()}")


def _summary_page(experiment: Experiment, document: dict[str, Any], directory: Path, reports: list[Path]) -> list[Path]:
    """``summary.html``, linking to the reports, when the config has the html renderer (whose title heads it); else nothing."""
    html = next((renderer for renderer in experiment.renderers if renderer.name == "html"), None)
    if html is None:
        return []
    title = html.options.get("title")
    renderer = create("renderer", "html", **html.options)
    page = renderer.summary_page(
        document, [report.name for report in reports], f"{title}: run summary" if title else "run summary"
    )
    path = directory / SUMMARY_PAGE
    path.write_text(page, encoding="utf-8")
    return [path]


def _manifest(directory: Path, experiment: Experiment, model: str, resume: bool) -> Manifest:
    if resume:
        manifest = Manifest.read(directory)
        manifest.check_resumable(experiment, model)
        return manifest
    if directory.exists() and any(path.name != LOCK for path in directory.iterdir()):
        raise RunDirectoryError(
            f"the output directory {str(directory)!r} is not empty; continue its run with --resume, "
            f"or choose another output.directory"
        )
    return Manifest.create(directory, experiment, model)


def _executor(experiment: Experiment, model: str) -> LocalExecutor | RayExecutor:
    if experiment.engine.name == "ray":
        from attrix.runs.ray_executor import RayExecutor

        return RayExecutor(experiment)
    return LocalExecutor(experiment, model)


def _advancing(batches: Iterable[list[ResultRow]], advance: Callable[[int], None]) -> Iterator[list[ResultRow]]:
    for batch in batches:
        yield batch
        advance(len(batch))


def _read_back(
    results: Results, metrics: MetricValues, convergence: Convergence
) -> tuple[dict[str, int], WordMeans, list[Explanation]]:
    """The row counts, the word means and the first explanations, from the results as written; their metric values
    counted into ``metrics``, their targets' convergence into ``convergence``."""
    counts = {"rows": 0, "explained": 0, "errors": 0, "warnings": 0}
    words, explanations = WordMeans(), []
    for row in results.rows():
        counts["rows"] += 1
        counts["warnings"] += "warnings" in row
        if "error" in row:
            counts["errors"] += 1
            continue
        counts["explained"] += 1
        explanation = Explanation.from_dict(row["explanation"])
        words.add(explanation)
        metrics.add(explanation)
        convergence.add(explanation)
        if len(explanations) < REPORT_ROWS:
            explanations.append(explanation)
    return counts, words, explanations
