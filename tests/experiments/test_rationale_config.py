"""``inputs.rationale_field`` in configs, and the metrics refused before any model loads: one that compares with
human rationales in a config that names no rationale column, one that cannot measure the config's backend."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
import torch

import attrix
from attrix.cli import main
from attrix.experiments.config import ConfigError, load_experiment
from helpers.plugins import plugged

BASE = textwrap.dedent("""\
    model: default
    task: sequence
    backend:
      name: layer_ig
      options: {n_steps: 4}
    inputs:
      path: rows.jsonl
      rationale_field: marked
    metrics:
      - comprehensiveness
      - name: token_f1
        options: {top_k: 2}
    """)
"""A valid config: the rationale column on line 8, the metrics from line 9, token_f1's name on line 11."""
ROWS = [{"text": "i love this movie", "marked": [1]}, {"text": "the food was awful", "marked": [3]}]


class SaliencyOnly(attrix.Metric):
    """A metric that refuses every backend but one named 'saliency'."""

    name = "saliency_only"
    higher_is_better = True

    @classmethod
    def unfit(cls, backend):
        return None if backend.name == "saliency" else "it reads saliency maps only"

    def measure(self, attributions, scorer):
        return attrix.contracts.metric.Measured(torch.zeros(attributions.shape[:2]))


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "rows.jsonl").write_text("".join(json.dumps(row) + "\n" for row in ROWS), encoding="utf-8")
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def refused(tmp_path: Path, text: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_experiment(write(tmp_path, text))
    return caught.value


def test_the_rationale_field_is_kept_in_the_resolved_config(tmp_path):
    experiment = load_experiment(write(tmp_path, BASE))
    assert experiment.inputs.rationale_field == "marked"
    assert experiment.to_dict()["inputs"]["rationale_field"] == "marked"


def test_a_rationale_field_that_is_not_a_column_lists_the_columns(tmp_path):
    error = refused(tmp_path, BASE.replace("rationale_field: marked", "rationale_field: rationale"))
    assert error.key_path == "inputs.rationale_field"
    assert error.location.endswith("c.yaml:8")
    assert "'rationale' is not a column; allowed: a column of rows.jsonl: text, marked" in str(error)


def test_a_metric_needing_rationales_without_a_rationale_field_is_refused_saying_how_to_give_them(tmp_path):
    error = refused(tmp_path, BASE.replace("  rationale_field: marked\n", ""))
    assert (error.key_path, error.location) == ("metrics[1].name", f"{tmp_path / 'c.yaml'}:10")
    assert "metric 'token_f1' compares the attributions with human rationales, and the config gives none" in str(error)
    assert "set inputs.rationale_field to the column holding each row's rationale" in str(error)


def test_metrics_without_rationales_need_no_rationale_field(tmp_path):
    text = BASE.replace("  rationale_field: marked\n", "").split("  - name: token_f1")[0]
    assert [metric.name for metric in load_experiment(write(tmp_path, text)).metrics] == ["comprehensiveness"]


def test_a_metric_unfit_for_the_backend_is_refused_with_its_reason(tmp_path):
    with plugged(SaliencyOnly):
        error = refused(tmp_path, BASE + "  - saliency_only\n")
    assert (error.key_path, error.location) == ("metrics[2].name", f"{tmp_path / 'c.yaml'}:13")
    assert "'saliency_only' cannot measure backend 'layer_ig': it reads saliency maps only" in str(error)


def test_validate_refuses_a_missing_rationale_field_before_loading_any_model(tmp_path, capsys, monkeypatch):
    import attrix.api.explainer as explainer_module

    def no_model(*args, **kwargs):
        raise AssertionError("validation loaded a model")

    monkeypatch.setattr(explainer_module.Explainer, "__init__", no_model)
    path = write(tmp_path, BASE.replace("  rationale_field: marked\n", ""))
    assert main(["validate", str(path)]) == 1
    assert capsys.readouterr().err.startswith(f"error: metrics[1].name ({path}:10): metric 'token_f1' compares")
