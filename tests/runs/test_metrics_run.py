"""Dataset runs with ``metrics``: each row holds what ``attrix.evaluate`` measures for its input, explained once, and
``summary.json`` (and ``summary.html``) the mean per metric and label with a seeded bootstrap interval, from the rows
on disk."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

import attrix
from attrix.experiments.schema import (
    Component,
    EngineSpec,
    Experiment,
    InputsSpec,
    ModelSpec,
    OutputSpec,
)
from attrix.host.registry import get_registry
from attrix.runs.manifest import RunDirectoryError
from attrix.runs.runner import run_experiment
from attrix.runs.summary import bootstrap_interval
from helpers.html_dom import parse
from helpers.tiny_models import save

N_STEPS = 4
BATCH = 3
SEED = 7
GOOD = [
    "i love this movie",
    "the food was awful",
    "a good plot",
    "bad acting",
    "what a boring film , really",
    "the story was sad but the music was nice and the actors were good",
]
ITEMS = [GOOD[0], "", *GOOD[1:]]
"""Six inputs and an empty one, which becomes an error row (id 1)."""
METRICS = (
    Component("comprehensiveness"),
    Component("sufficiency", {"fractions": [0.1], "only_positive": False}),
    Component("completeness"),
)
"""``sufficiency`` at 10 % of the words has no rationale (NaN) for every input of fewer than 10 words."""


@pytest.fixture(scope="module", autouse=True)
def threads(one_torch_thread):
    """One torch thread: tiny models, many small passes."""


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return save("bert", tmp_path_factory.mktemp("model") / "bert", seed=21)


def experiment(model: Path, directory: Path, **fields) -> Experiment:
    fields.setdefault("inputs", InputsSpec(items=tuple(ITEMS)))
    return Experiment(
        model=ModelSpec(path=str(model)),
        backend=Component("layer_ig", {"n_steps": N_STEPS}),
        targets="all",
        batch_size=BATCH,
        output=OutputSpec(str(directory)),
        seed=SEED,
        metrics=METRICS,
        **fields,
    )


def rows_by_id(directory: Path) -> dict:
    rows = [json.loads(line) for line in (directory / "results.jsonl").read_text().splitlines()]
    assert len({row["id"] for row in rows}) == len(rows), "an id was written twice"
    return {row["id"]: row for row in rows}


class CountedAttributions:
    """Counts the calls of the layer_ig backend's ``attribute`` while it is in place."""

    def __init__(self, monkeypatch):
        backend = get_registry().get("backend", "layer_ig").obj
        original, self.calls = backend.attribute, 0

        def attribute(backend_self, problem):
            self.calls += 1
            return original(backend_self, problem)

        monkeypatch.setattr(backend, "attribute", attribute)


@pytest.fixture(scope="module")
def run(model_dir, tmp_path_factory):
    """One run with metrics and the html renderer, and the number of times it attributed."""
    directory = tmp_path_factory.mktemp("run") / "out"
    with pytest.MonkeyPatch.context() as monkeypatch:
        counted = CountedAttributions(monkeypatch)
        result = run_experiment(experiment(model_dir, directory, renderers=(Component("html"),)), show_progress=False)
    return result, counted.calls


@pytest.fixture(scope="module")
def evaluated(model_dir):
    """``attrix.evaluate`` of the good inputs with the run's explainer settings, batching and seed."""
    explainer = attrix.Explainer(str(model_dir), backend="layer_ig", n_steps=N_STEPS, batch_size=BATCH)
    metrics = [attrix.create("metric", metric.name, **metric.options) for metric in METRICS]
    return attrix.evaluate(GOOD, explainer, metrics, target="all", seed=SEED)


def measured(row: dict) -> dict:
    return row["explanation"]["metrics"]


def nan_for_null(values: list) -> list[float]:
    """Values as JSON holds them, a NaN written as null, read back as NaN."""
    return [math.nan if value is None else value for value in values]


def test_rows_hold_the_values_evaluate_gives_for_the_same_inputs_explained_once(run, evaluated, model_dir, monkeypatch):
    result, attributions = run
    rows = rows_by_id(result.directory)
    assert rows[1]["error"].startswith("text is empty")
    good_ids = [0, 2, 3, 4, 5, 6]
    for row_id, expected in zip(good_ids, evaluated.explanations):
        got = measured(rows[row_id])
        assert set(got) == {"comprehensiveness", "sufficiency", "completeness"}
        assert [target["label"] for target in rows[row_id]["explanation"]["targets"]] == ["NEGATIVE", "POSITIVE"]
        for name, want in expected.metrics.items():
            assert nan_for_null(got[name]["values"]) == pytest.approx(want["values"], abs=1e-6, nan_ok=True), (row_id, name)
            if want["random"] is None:
                assert got[name]["random"] is None
            else:
                assert nan_for_null(got[name]["random"]) == pytest.approx(want["random"], abs=1e-6, nan_ok=True)
            assert got[name]["settings"] == json.loads(json.dumps(want["settings"]))
        for target, want_target in zip(rows[row_id]["explanation"]["targets"], expected.targets):
            assert target["token_scores"] == pytest.approx(want_target.token_scores, abs=1e-6)
    explainer = attrix.Explainer(str(model_dir), backend="layer_ig", n_steps=N_STEPS, batch_size=BATCH)
    counted = CountedAttributions(monkeypatch)
    explainer(GOOD, target="all")
    # each batch attributed once, as explaining without metrics does: not once to explain and once more to measure
    assert attributions == counted.calls > 0


def rows_values(rows: dict, name: str, label: str, key: str = "values") -> list[float]:
    """The values (or ``random``) of one metric toward one label over the explained rows, null read as NaN."""
    found = []
    for row in rows.values():
        if "explanation" not in row:
            continue
        labels = [target["label"] for target in row["explanation"]["targets"]]
        value = measured(row)[name][key]
        if value is not None:
            found.extend(nan_for_null([value[labels.index(label)]]))
    return found


def independent_interval(values: list[float], seed: int) -> list[float]:
    """The 95 % percentile bootstrap of the mean of the sorted values, 1000 resamples, written out again."""
    ordered = np.sort(np.asarray(values))
    picks = np.random.default_rng(seed).integers(0, len(ordered), size=(1000, len(ordered)))
    return list(np.percentile(ordered[picks].mean(axis=1), [2.5, 97.5]))


def test_the_summary_has_each_metrics_mean_interval_counts_and_random_reference_per_label(run):
    result, _ = run
    rows = rows_by_id(result.directory)
    summary = json.loads((result.directory / "summary.json").read_text())
    assert summary["bootstrap"] == {"resamples": 1000, "confidence": 0.95, "seed": SEED}
    assert list(summary["metrics"]) == ["comprehensiveness", "sufficiency", "completeness"]
    for name, labels in summary["metrics"].items():
        assert set(labels) == {"NEGATIVE", "POSITIVE"}
        for label, entry in labels.items():
            values = rows_values(rows, name, label)
            finite = [value for value in values if not math.isnan(value)]
            assert (entry["n"], entry["nan"]) == (len(finite), len(values) - len(finite))
            assert entry["mean"] == pytest.approx(float(np.mean(finite)), abs=1e-12)
            assert entry["interval"] == pytest.approx(independent_interval(finite, SEED), abs=1e-12)
            assert entry["interval"][0] <= entry["mean"] <= entry["interval"][1]
            randoms = rows_values(rows, name, label, "random")
            assert entry["random"] == (None if not randoms else pytest.approx(float(np.nanmean(randoms)), abs=1e-12))
    assert summary["metrics"]["completeness"]["POSITIVE"]["random"] is None


def test_nan_values_are_left_out_of_the_mean_and_counted(run):
    result, _ = run
    summary = json.loads((result.directory / "summary.json").read_text())
    # only the last input has 10 words or more: 10 % of the others is no word, no rationale, NaN
    for label in ("NEGATIVE", "POSITIVE"):
        entry = summary["metrics"]["sufficiency"][label]
        assert (entry["n"], entry["nan"]) == (1, 5)
        assert entry["interval"] == [entry["mean"], entry["mean"]]
    rows = rows_by_id(result.directory)
    assert measured(rows[0])["sufficiency"]["values"] == [None, None]  # NaN is written as null


def test_summary_html_shows_the_metrics_table(run):
    result, _ = run
    summary = json.loads((result.directory / "summary.json").read_text())
    table = parse((result.directory / "summary.html").read_text()).find("table", "metrics")
    header, *cells = table.rows()
    assert header == ["metric", "label", "mean", "95% interval", "n", "NaN", "random"]
    expected = [
        [name, label, f"{entry['mean']:.4g}", f"[{entry['interval'][0]:.4g}, {entry['interval'][1]:.4g}]", str(entry["n"]),
         str(entry["nan"]), "–" if entry["random"] is None else f"{entry['random']:.4g}"]
        for name, labels in summary["metrics"].items()
        for label, entry in labels.items()
    ]
    assert cells == expected
    assert "1000 resamples (seed 7)" in table.find("caption").text


def test_a_resumed_run_counts_each_row_once(model_dir, run, tmp_path):
    full, _ = run
    directory = tmp_path / "resumed"
    lines = (full.directory / "results.jsonl").read_text().splitlines(keepends=True)
    spec = experiment(model_dir, directory, renderers=(Component("html"),))
    directory.mkdir()
    (directory / "manifest.json").write_text((full.directory / "manifest.json").read_text())  # output.directory may change
    (directory / "results.jsonl").write_text("".join(lines[:3]))  # the error row and two explained rows: a killed run
    resumed = run_experiment(spec, resume=True, show_progress=False)
    assert resumed.counts == full.counts == {"rows": 7, "explained": 6, "errors": 1, "warnings": 0}
    assert sorted(rows_by_id(directory)) == sorted(rows_by_id(full.directory))
    want = json.loads((full.directory / "summary.json").read_text())["metrics"]
    got = json.loads((directory / "summary.json").read_text())["metrics"]
    for name, labels in want.items():
        for label, entry in labels.items():
            mine = got[name][label]
            assert (mine["n"], mine["nan"]) == (entry["n"], entry["nan"])
            assert mine["mean"] == pytest.approx(entry["mean"], abs=1e-6)
            assert mine["interval"] == pytest.approx(entry["interval"], abs=1e-6)


def test_the_bootstrap_interval_shrinks_to_the_value_when_all_values_are_equal_and_ignores_their_order():
    assert bootstrap_interval(np.full(8, 0.25), seed=0) == [0.25, 0.25]
    assert bootstrap_interval(np.array([]), seed=0) is None
    values = np.random.default_rng(3).normal(size=40)
    low, high = bootstrap_interval(values, seed=5)
    assert low < values.mean() < high and high - low < 1.5  # about 4 standard errors wide, 1/sqrt(40) each
    assert bootstrap_interval(values[::-1].copy(), seed=5) == [low, high]
    assert bootstrap_interval(values, seed=6) != [low, high]


def test_a_run_without_metrics_has_no_metrics_in_its_rows_or_summary(model_dir, tmp_path):
    spec = dataclasses.replace(experiment(model_dir, tmp_path / "plain"), metrics=(), inputs=InputsSpec(items=tuple(GOOD[:2])))
    run_experiment(spec, show_progress=False)
    assert all("metrics" not in row["explanation"] for row in rows_by_id(tmp_path / "plain").values())
    assert "metrics" not in json.loads((tmp_path / "plain" / "summary.json").read_text())


@pytest.mark.ray
@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="engine: ray needs ray installed")
def test_ray_rows_carry_the_same_metrics_as_local_rows(model_dir, run, tmp_path):
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        spec = experiment(model_dir, tmp_path / "ray", engine=EngineSpec("ray", {"num_cpus": 1}))
        run_experiment(spec, show_progress=False)
    finally:
        ray.shutdown()
    local, remote = rows_by_id(run[0].directory), rows_by_id(tmp_path / "ray")
    assert sorted(remote) == sorted(local)
    for row_id, row in local.items():
        if "explanation" in row:
            for name, want in measured(row).items():
                got = measured(remote[row_id])[name]["values"]
                assert nan_for_null(got) == pytest.approx(nan_for_null(want["values"]), abs=1e-6, nan_ok=True)


def test_resuming_with_other_metrics_is_refused_naming_them(model_dir, run, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(run[0].directory, copy)
    spec = dataclasses.replace(experiment(model_dir, copy, renderers=(Component("html"),)), metrics=METRICS[:1])
    with pytest.raises(RunDirectoryError, match=r"the config differs from its manifest at metrics \(was \["):
        run_experiment(spec, resume=True, show_progress=False)


def test_a_manifest_written_before_the_metrics_key_resumes_as_without_metrics(model_dir, tmp_path):
    directory = tmp_path / "older"
    spec = dataclasses.replace(experiment(model_dir, directory), metrics=(), inputs=InputsSpec(items=tuple(GOOD[:2])))
    run_experiment(spec, show_progress=False)
    manifest = json.loads((directory / "manifest.json").read_text())
    del manifest["config"]["metrics"]
    (directory / "manifest.json").write_text(json.dumps(manifest))
    assert run_experiment(spec, resume=True, show_progress=False).counts["explained"] == 2
    assert len(json.loads((directory / "manifest.json").read_text())["sessions"]) == 2
