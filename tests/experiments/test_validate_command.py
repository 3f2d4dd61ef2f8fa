"""``attrix validate``: the resolved config on stdout, or the error with its key, line and valid keys and exit status 1."""

from __future__ import annotations

import textwrap

import pytest
import yaml

from attrix.cli import main
from attrix.experiments.config import load_experiment, parse_experiment

MISSPELLED = textwrap.dedent("""\
    # a sentiment run with one key misspelled
    model: default
    task: sequence
    backend:
      name: layer_ig
      options:
        n_step: 16
    inputs: [good, bad]
    """)


def test_a_misspelled_key_exits_1_naming_the_key_the_line_and_the_valid_keys(tmp_path, capsys):
    path = tmp_path / "config.yaml"
    path.write_text(MISSPELLED)
    assert main(["validate", str(path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: unknown key 'n_step' at backend.options")
    assert f"({path}:7)" in captured.err
    valid = captured.err.split("valid: ")[1].split(";")[0].split(", ")
    assert {"n_steps", "internal_batch_size", "method"} <= set(valid)
    assert "did you mean 'n_steps'?" in captured.err


def test_the_misspelled_key_fixed_by_an_override_is_still_named(tmp_path, capsys):
    path = tmp_path / "config.yaml"
    path.write_text(MISSPELLED.replace("n_step: 16", "n_steps: 16"))
    assert main(["validate", str(path), "--set", "backend.options.n_stpes=4"]) == 1
    assert "unknown key 'n_stpes' at backend.options (--set backend.options.n_stpes=4)" in capsys.readouterr().err


def test_a_valid_config_prints_its_resolved_form_which_reads_back_the_same(tmp_path, capsys):
    path = tmp_path / "config.yaml"
    path.write_text(MISSPELLED.replace("n_step: 16", "n_steps: 16\n    baseline: unk").replace("task: sequence", "task: auto"))
    assert main(["validate", str(path), "--set", "targets=[POSITIVE]", "--set", "renderers=[html]"]) == 0
    captured = capsys.readouterr()
    assert captured.err.strip() == f"{path}: valid"
    printed = yaml.safe_load(captured.out)
    assert printed["task"] == {"name": "sequence", "options": {"baseline": "unk"}}
    assert printed["backend"] == {"name": "layer_ig", "options": {"n_steps": 16}}
    assert printed["targets"] == ["POSITIVE"] and printed["renderers"] == [{"name": "html", "options": {}}]
    expected = load_experiment(path, ["targets=[POSITIVE]", "renderers=[html]"])
    assert parse_experiment(captured.out, "resolved") == expected


def test_a_hub_model_that_is_not_cached_is_valid_with_a_note(tmp_path, capsys):
    path = tmp_path / "config.yaml"
    path.write_text("model: someone/some-ner-model\ntask: token\ninputs: [Clara lives in Berkeley]\n")
    assert main(["validate", str(path)]) == 0
    err = capsys.readouterr().err
    assert "note: 'someone/some-ner-model' is not in the Hub cache: whether its head fits task 'token' is checked when it runs" in err


def test_a_missing_config_exits_1(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "absent.yaml")]) == 1
    assert f"error: cannot read the config {str(tmp_path / 'absent.yaml')!r}" in capsys.readouterr().err


def test_help_describes_the_command_and_its_overrides(capsys):
    with pytest.raises(SystemExit) as exit:
        main(["validate", "--help"])
    assert exit.value.code == 0
    out = capsys.readouterr().out
    assert "usage: attrix validate [-h] [--set KEY.PATH=VALUE] config" in " ".join(out.split())
    assert "without loading weights" in out and "exits with status 1" in " ".join(out.split())


def test_no_config_is_bad_usage_exit_2(capsys):
    with pytest.raises(SystemExit) as exit:
        main(["validate"])
    assert exit.value.code == 2
    assert "the following arguments are required: config" in capsys.readouterr().err
