"""``engine: ray``: the same rows explained with Ray Data, by an actor pool that loads the model once per actor."""

from __future__ import annotations

import json
import pickle
from collections.abc import Iterable, Iterator
from typing import Any

from attrix.experiments.executors import check_ray_options
from attrix.experiments.schema import Experiment
from attrix.runs.dataset import Row
from attrix.runs.extras import require
from attrix.runs.rows import WINDOW_BATCHES, ResultRow, explain_rows
from attrix.runs.setup import batch_explainer, model_location


class ExplainActor:
    """One model per actor: explains the rows of each Ray batch into JSON result rows, measured by the run's metrics if any."""

    def __init__(self, experiment: Experiment, device: str) -> None:
        self.explain = batch_explainer(experiment, model_location(experiment.model), device)

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[str]]:
        rows = [pickle.loads(item) for item in batch["row"]]
        return {"result": [json.dumps(result) for results in explain_rows(self.explain, rows) for result in results]}


class RayExecutor:
    """Runs an experiment's rows through ``map_batches`` on Ray; the driver writes the result rows as they come back."""

    name = "ray"

    def __init__(self, experiment: Experiment) -> None:
        self.ray = require("ray", "ray", "engine: ray")
        options = experiment.engine.options
        check_ray_options(options)
        if not self.ray.is_initialized():
            self.ray.init(address=options.get("address"), runtime_env=options.get("runtime_env"))
        context = self.ray.data.DataContext.get_current()
        context.enable_progress_bars = context.print_on_execution_start = False  # attrix draws its own bar
        gpus = options.get("num_gpus", 1 if self.ray.cluster_resources().get("GPU", 0) else 0)
        self.device = "cuda" if gpus > 0 and not experiment.model.device.startswith("cuda") else experiment.model.device
        self.experiment = experiment
        self.pool = {"concurrency": options.get("actors", 1), "num_cpus": options.get("num_cpus", 1), "num_gpus": gpus}

    def windows(self, rows: Iterator[Row]) -> Iterator[Iterable[list[ResultRow]]]:
        """The result rows of each block Ray hands back, as one batch."""
        items = [{"row": pickle.dumps(row)} for row in rows]
        if not items:
            return
        results = self.ray.data.from_items(items).map_batches(
            ExplainActor,
            fn_constructor_kwargs={"experiment": self.experiment, "device": self.device},
            batch_size=WINDOW_BATCHES * self.experiment.batch_size,
            **self.pool,
        )
        for batch in results.iter_batches(batch_size=None, batch_format="numpy"):
            yield [[json.loads(result) for result in batch["result"]]]
