"""The ``metrics`` key of experiment configs: names and options resolved, and each bad entry refused at validation,
naming its key, its line, the bad value and what is allowed."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

import attrix
from attrix.cli import main
from attrix.experiments.config import ConfigError, load_experiment
from attrix.experiments.schema import Component

BASE = textwrap.dedent("""\
    model: default
    task: sequence
    backend:
      name: layer_ig
      options: {n_steps: 4}
    inputs: [good, bad]
    metrics:
      - comprehensiveness
      - name: sufficiency
        options: {fractions: [0.5, 1.0], only_positive: false}
    """)
"""A valid config whose metrics start on line 7: the first on line 8, the second's name on 9 and options on 10."""
METRICS = sorted(attrix.get_registry().entries["metric"])


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_metrics_are_resolved_as_components_with_their_options(tmp_path):
    experiment = load_experiment(write(tmp_path, BASE))
    assert experiment.metrics == (
        Component("comprehensiveness", {}),
        Component("sufficiency", {"fractions": [0.5, 1.0], "only_positive": False}),
    )
    assert experiment.to_dict()["metrics"] == [
        {"name": "comprehensiveness", "options": {}},
        {"name": "sufficiency", "options": {"fractions": [0.5, 1.0], "only_positive": False}},
    ]


def test_a_config_without_metrics_measures_none(tmp_path):
    assert load_experiment(write(tmp_path, BASE.split("metrics:")[0])).metrics == ()


def test_an_override_can_set_and_change_metrics(tmp_path):
    path = write(tmp_path, BASE)
    experiment = load_experiment(path, ["metrics=[deletion_auc, {name: insertion_auc, options: {steps: 4}}]"])
    assert experiment.metrics == (Component("deletion_auc", {}), Component("insertion_auc", {"steps": 4}))
    assert load_experiment(path, ["metrics.1.options.fractions=[0.25]"]).metrics[1].options["fractions"] == [0.25]


def test_validate_prints_the_metrics_in_the_resolved_config_which_reads_back_the_same(tmp_path, capsys):
    path = write(tmp_path, BASE)
    assert main(["validate", str(path)]) == 0
    printed = capsys.readouterr().out
    sufficiency = {"name": "sufficiency", "options": {"fractions": [0.5, 1.0], "only_positive": False}}
    assert yaml.safe_load(printed)["metrics"][1] == sufficiency
    assert load_experiment(write(tmp_path, printed)).metrics == load_experiment(path).metrics


def edited(old: str, new: str) -> str:
    assert old in BASE
    return BASE.replace(old, new)


@pytest.mark.parametrize(("text", "key_path", "line", "fragments"), [
    (edited("  - comprehensiveness", "  - comprehensivness"), "metrics[0].name", 8,
     ["'comprehensivness' is not a registered metric; allowed: " + ", ".join(METRICS), "did you mean 'comprehensiveness'?"]),
    (edited("  - comprehensiveness", "  - {name: faithfulness}"), "metrics[0].name", 8,
     ["'faithfulness' is not a registered metric; allowed: " + ", ".join(METRICS)]),
    (edited("fractions: [0.5, 1.0]", "fractions: [0.5, 1.5]"), "metrics[1].options.fractions", 10,
     ["[0.5, 1.5] is not allowed by metric 'sufficiency'; allowed: a list, each item a number > 0 and <= 1"]),
    (edited("fractions: [0.5, 1.0]", "fractions: [0, 0.5]"), "metrics[1].options.fractions", 10,
     ["[0, 0.5] is not allowed by metric 'sufficiency'; allowed: a list, each item a number > 0 and <= 1"]),
    (edited("fractions: [0.5, 1.0]", "fractions: []"), "metrics[1].options.fractions", 10,
     ["[] is not allowed by metric 'sufficiency'", "with at least 1 item"]),
    (edited("only_positive: false", "only_positive: maybe"), "metrics[1].options.only_positive", 10,
     ["'maybe' is not allowed by metric 'sufficiency'; allowed: true or false"]),
    (edited("only_positive: false", "onlypositive: false"), "metrics[1].options.onlypositive", 10,
     ["unknown key 'onlypositive' at metrics[1].options", "not an option of metric 'sufficiency'",
      "valid: fractions, only_positive", "did you mean 'only_positive'?"]),
    (BASE + "  - {name: deletion_auc, options: {steps: 0}}\n", "metrics[2].options.steps", 11,
     ["0 is not allowed by metric 'deletion_auc'; allowed: an integer >= 1"]),
    (edited("  - name: sufficiency", "  - name: comprehensiveness"), "metrics[1].name", 9,
     ["'comprehensiveness' is listed twice; allowed: a metric not listed yet; it is metrics[0] already"]),
    (edited("  - comprehensiveness", "  - {name: comprehensiveness, colour: red}"), "metrics[0].colour", 8,
     ["unknown key 'colour' at metrics[0]", "valid: name, options"]),
    (BASE.split("metrics:")[0] + "metrics: comprehensiveness\n", "metrics", 7,
     ["'comprehensiveness' is not allowed; allowed: a list, each item a name or a mapping with the keys name, options"]),
])
def test_a_bad_metric_entry_is_refused_at_its_key_with_the_value_and_what_is_allowed(tmp_path, text, key_path, line, fragments):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_experiment(path)
    error = caught.value
    assert (error.key_path, error.location) == (key_path, f"{path}:{line}")
    for fragment in fragments:
        assert fragment in str(error), f"{fragment!r} not in {str(error)!r}"


def test_a_bad_metric_set_by_an_override_names_the_override(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_experiment(write(tmp_path, BASE), ["metrics.1.options.fractions=[2]"])
    assert caught.value.location == "--set metrics.1.options.fractions=[2]"
    assert "[2] is not allowed by metric 'sufficiency'" in str(caught.value)


def test_validate_refuses_a_bad_metric_before_loading_any_model(tmp_path, capsys, monkeypatch):
    import attrix.api.explainer as explainer_module

    def no_model(*args, **kwargs):
        raise AssertionError("validation loaded a model")

    monkeypatch.setattr(explainer_module.Explainer, "__init__", no_model)
    path = write(tmp_path, edited("  - comprehensiveness", "  - aopc"))
    assert main(["validate", str(path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"error: metrics[0].name ({path}:8): 'aopc' is not a registered metric; allowed: ")
