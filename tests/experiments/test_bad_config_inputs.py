"""Bad-input sweep of configs: hostile YAML (billion laughs, deep nesting, Python tags) and option values validate must refuse."""

from __future__ import annotations

import textwrap

import pytest

from attrix.cli import main
from attrix.experiments.config import ConfigError, load_experiment
from attrix.experiments.located_yaml import MAX_DEPTH, MAX_NODES, read_yaml
from helpers.tiny_models import save

BASE = textwrap.dedent("""\
    model: default
    task: sequence
    backend:
      name: layer_ig
      options:
        {option}
    inputs: [good, bad]
    """)


def billion_laughs(levels: int = 9) -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, levels):
        previous, name = chr(ord("a") + level - 1), chr(ord("a") + level)
        lines.append(f"{name}: &{name} [{','.join(['*' + previous] * 9)}]")
    return "\n".join(lines) + "\n"


def test_a_billion_laughs_config_is_refused_before_it_expands(tmp_path):
    with pytest.raises(ConfigError, match=rf"aliases \(\*name\) expand to more than {MAX_NODES} values"):
        read_yaml(billion_laughs(), "laughs.yaml")
    path = tmp_path / "laughs.yaml"
    path.write_text(billion_laughs())
    with pytest.raises(ConfigError, match="expand to more than"):
        load_experiment(path)


@pytest.mark.slow
def test_a_few_aliases_are_still_fine_and_a_long_list_without_aliases_is_not_limited():
    located = read_yaml(billion_laughs(3), "few.yaml")
    assert len(located.data["c"]) == 9 and located.data["c"][0][0] == ["lol"] * 9
    many = MAX_NODES + 10
    assert len(read_yaml("inputs: [" + ", ".join(["x"] * many) + "]\n", "long.yaml").data["inputs"]) == many


@pytest.mark.slow
@pytest.mark.parametrize("depth", [MAX_DEPTH + 5, 20_000])
def test_a_deeply_nested_config_is_refused(depth, tmp_path, capsys):
    text = "a: " + "[" * depth + "]" * depth + "\n"
    with pytest.raises(ConfigError, match=f"more than {MAX_DEPTH} deep"):
        read_yaml(text, "deep.yaml")
    path = tmp_path / "deep.yaml"
    path.write_text(text)
    assert main(["validate", str(path)]) == 1
    assert f"more than {MAX_DEPTH} deep" in capsys.readouterr().err


def test_a_deeply_nested_block_mapping_is_refused():
    text = "".join("  " * level + f"k{level}:\n" for level in range(MAX_DEPTH + 3)) + "  " * (MAX_DEPTH + 3) + "v: 1\n"
    with pytest.raises(ConfigError, match="deep"):
        read_yaml(text, "deep.yaml")


def test_a_self_referencing_alias_is_refused():
    with pytest.raises(ConfigError):
        read_yaml("a: &x [*x]\n", "loop.yaml")


@pytest.mark.parametrize("tag", ["!!python/object/apply:os.system", "!!python/object/new:os.system", "!!python/name:os.system"])
def test_python_tags_are_refused_never_executed(tag, tmp_path, monkeypatch):
    import os

    calls = []
    monkeypatch.setattr(os, "system", lambda *arguments: calls.append(arguments) or 0)
    text = f"model: default\ninputs: [good]\nseed: {tag} ['touch {tmp_path}/pwned']\n"
    with pytest.raises(ConfigError, match=r"c.yaml:3: not valid YAML.*python"):
        read_yaml(text, "c.yaml")
    assert calls == [] and not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("option", ["n_steps: 0", "n_steps: abc", "n_steps: 1e30", "n_steps: -3", "internal_batch_size: 0"])
def test_validate_refuses_bad_option_values(option, tmp_path, capsys):
    path = tmp_path / "config.yaml"
    path.write_text(BASE.format(option=option))
    assert main(["validate", str(path)]) == 1
    error = capsys.readouterr().err
    name = option.split(":")[0]
    assert error.startswith(f"error: backend.options.{name} ({path}:6)"), error


def test_validate_accepts_good_option_values(tmp_path, capsys):
    path = tmp_path / "config.yaml"
    path.write_text(BASE.format(option="n_steps: 16"))
    assert main(["validate", str(path)]) == 0, capsys.readouterr().err


@pytest.mark.parametrize("targets, path", [("no_such_label", "targets"), ("[POSITIVE, nope]", "targets[1]"), ("7", "targets")])
def test_validate_refuses_a_target_label_the_model_does_not_have(targets, path, tmp_path, capsys):
    config = tmp_path / "config.yaml"
    config.write_text(BASE.format(option="n_steps: 4") + f"targets: {targets}\n")
    assert main(["validate", str(config)]) == 1
    error = capsys.readouterr().err
    assert error.startswith(f"error: {path} ({config}:8)") and "is not one of the model's labels" in error
    assert "NEGATIVE" in error and "POSITIVE" in error


@pytest.mark.parametrize("targets", ["positive", "[NEGATIVE, 1]", "all", "predicted"])
def test_validate_accepts_the_model_labels_as_targets(targets, tmp_path, capsys):
    config = tmp_path / "config.yaml"
    config.write_text(BASE.format(option="n_steps: 4") + f"targets: {targets}\n")
    assert main(["validate", str(config)]) == 0, capsys.readouterr().err


TASK_CONFIG = textwrap.dedent("""\
    model: {model}
    task:
      name: {task}
      options: {options}
    inputs: [{item}]
    targets: {targets}
    """)


@pytest.mark.parametrize("task, options, item, targets, valid", [
    ("qa", "{}", "{question: q, context: c}", "middle", "0=start, 1=end"),
    ("zero_shot", "{candidate_labels: [food, sport]}", "good", "[food, travel]", "0=food, 1=sport"),
    ("token", "{}", "anna", "PERSON", "0=O, 1=PER"),
])
def test_validate_refuses_targets_the_task_cannot_explain(task, options, item, targets, valid, tmp_path, capsys):
    head = {"qa": "qa", "token": "token", "zero_shot": "sequence"}[task]
    labels = {"token": {0: "O", 1: "PER"}, "zero_shot": {0: "entailment", 1: "neutral", 2: "contradiction"}}.get(task)
    model = save("bert", tmp_path / "model", head=head, num_labels=2 if labels is None else len(labels), id2label=labels)
    capsys.readouterr()
    config = tmp_path / "config.yaml"
    config.write_text(TASK_CONFIG.format(model=model, task=task, options=options, item=item, targets=targets))
    assert main(["validate", str(config)]) == 1
    error = capsys.readouterr().err
    assert error.startswith("error: targets") and valid in error, error
    good = {"qa": "start", "zero_shot": "[sport, 0]", "token": "per"}[task]
    config.write_text(TASK_CONFIG.format(model=model, task=task, options=options, item=item, targets=good))
    assert main(["validate", str(config)]) == 0, capsys.readouterr().err


@pytest.mark.parametrize("value, fragment", [
    ("{" + billion_laughs().strip().replace("\n", ", ") + "}", "expand to more than"),
    ("[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5), "deep"),
    ("!!python/object/apply:os.system ['touch pwned']", "not valid YAML"),
])
def test_set_overrides_are_read_under_the_same_limits(value, fragment, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "config.yaml"
    path.write_text(BASE.format(option="n_steps: 16"))
    assert main(["validate", str(path), "--set", f"seed={value}"]) == 1
    error = capsys.readouterr().err
    assert error.startswith("error: --set seed=") and fragment in error, error
    assert not (tmp_path / "pwned").exists()
