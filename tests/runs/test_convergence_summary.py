"""A dataset run says how many of its targets' attributions do not add up: in ``summary.json``, ``summary.html`` and
what ``attrix run`` prints, counted from the rows on disk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from attrix.cli import main
from attrix.experiments.schema import Component, Experiment, InputsSpec, ModelSpec, OutputSpec
from attrix.runs.runner import run_experiment
from helpers.html_dom import parse
from helpers.tiny_models import save

TEXTS = ("i love this movie", "the food was awful", "a good plot", "what a boring film , really", "bad acting")


@pytest.fixture(scope="module", autouse=True)
def threads(one_torch_thread):
    """One torch thread: tiny models, many small passes."""


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return save("bert", tmp_path_factory.mktemp("model") / "bert", seed=21)


def experiment(model: Path, directory: Path, backend: Component) -> Experiment:
    return Experiment(
        model=ModelSpec(path=str(model)),
        backend=backend,
        targets="all",
        inputs=InputsSpec(items=TEXTS),
        output=OutputSpec(str(directory)),
        renderers=(Component("html"),),
    )


def converged_on_disk(directory: Path) -> list[list[bool | None]]:
    """Each row's targets' ``converged``, read from results.jsonl as written."""
    rows = [json.loads(line) for line in (directory / "results.jsonl").read_text().splitlines()]
    return [[target.get("converged") for target in row["explanation"]["targets"]] for row in rows]


def test_a_run_of_too_few_steps_counts_its_unconverged_targets_and_rows_everywhere(model_dir, tmp_path):
    out = tmp_path / "few"
    result = run_experiment(experiment(model_dir, out, Component("ig", {"n_steps": 1})), show_progress=False)
    flags = converged_on_disk(out)
    missed = sum(flag is False for row in flags for flag in row)
    assert missed > 0, "one step cannot add up on this model"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["convergence"] == {
        "targets": sum(len(row) for row in flags),
        "unconverged_targets": missed,
        "unconverged_rows": sum(False in row for row in flags),
    }
    assert result.unconverged_rows == summary["convergence"]["unconverged_rows"]
    marked = parse((out / "summary.html").read_text()).find_all("p", class_="unconverged")
    assert len(marked) == 1 and f"{missed} of {summary['convergence']['targets']} targets" in marked[0].text


def test_a_converged_run_says_so_and_a_method_without_completeness_says_nothing(model_dir, tmp_path):
    auto = run_experiment(experiment(model_dir, tmp_path / "auto", Component("ig", {"n_steps": "auto"})), show_progress=False)
    summary = json.loads((tmp_path / "auto" / "summary.json").read_text())
    assert auto.unconverged_rows == summary["convergence"]["unconverged_targets"] == 0
    assert summary["convergence"]["targets"] == sum(len(row) for row in converged_on_disk(tmp_path / "auto"))
    page = parse((tmp_path / "auto" / "summary.html").read_text())
    assert not page.find_all("p", class_="unconverged") and "targets converged" in page.text

    run_experiment(experiment(model_dir, tmp_path / "occlusion", Component("occlusion")), show_progress=False)
    assert "convergence" not in json.loads((tmp_path / "occlusion" / "summary.json").read_text())


def test_attrix_run_prints_how_many_rows_did_not_converge(model_dir, tmp_path, capsys):
    config = tmp_path / "config.yaml"
    lines = "".join(f"  - {json.dumps(text)}\n" for text in TEXTS)
    config.write_text(
        f"model: {model_dir}\nbackend:\n  name: ig\n  options: {{n_steps: 1}}\ntargets: all\ninputs:\n{lines}"
        f"output:\n  directory: {tmp_path / 'out'}\n"
    )
    assert main(["run", str(config), "--no-progress"]) == 0
    rows = sum(False in row for row in converged_on_disk(tmp_path / "out"))
    assert f"{rows} rows have targets whose attributions do not add up" in capsys.readouterr().out
