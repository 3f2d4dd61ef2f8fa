"""Dataset runs with human rationales: each row's rationale read from ``inputs.rationale_field`` (a list, or a JSON
list in a CSV cell) and handed to the plausibility metrics, whose values the rows hold."""

from __future__ import annotations

import csv
import json
import math

import pytest

import attrix
from attrix.experiments.schema import Component, Experiment, InputsSpec, ModelSpec, OutputSpec
from attrix.runs.dataset import Dataset, Row
from attrix.runs.runner import run_experiment
from helpers.tiny_models import save

N_STEPS = 4
RECORDS = [
    {"text": "i love this movie", "marked": [1, 3]},
    {"text": "the food was awful", "marked": None},
    {"text": "a good plot", "marked": [False, True, True]},
    {"text": "bad acting", "marked": "bad"},
]
"""Word indexes, no rationale, a mask per word, and a value that is no rationale (an error row)."""


@pytest.fixture(scope="module", autouse=True)
def threads(one_torch_thread):
    """One torch thread: tiny models, many small passes."""


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return save("bert", tmp_path_factory.mktemp("model") / "bert", seed=21)


def test_a_jsonl_rationale_column_becomes_each_rows_rationale(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in RECORDS), encoding="utf-8")
    rows = list(Dataset(InputsSpec(path=str(path), rationale_field="marked"), ["text"]))
    assert rows[:3] == [
        Row(0, "i love this movie", rationale=[1, 3]),
        Row(1, "the food was awful"),
        Row(2, "a good plot", rationale=[False, True, True]),
    ]
    assert rows[3].input == "bad acting" and rows[3].rationale is None
    assert rows[3].problem.startswith("the rationale in column 'marked' is 'bad'; allowed: a list of word indexes")


def test_a_csv_rationale_is_a_json_list_in_its_cell(tmp_path):
    path = tmp_path / "rows.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerows(
            [["text", "marked"], ["i love this movie", "[1, 3]"], ["the food was awful", ""], ["a good plot", "[0, 1"]]
        )
    rows = list(Dataset(InputsSpec(path=str(path), rationale_field="marked"), ["text"]))
    assert rows[0] == Row(0, "i love this movie", rationale=[1, 3])
    assert rows[1] == Row(1, "the food was awful")
    assert "the rationale in column 'marked' is '[0, 1'" in rows[2].problem


def test_without_a_rationale_field_rows_have_none(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text(json.dumps(RECORDS[0]) + "\n", encoding="utf-8")
    assert list(Dataset(InputsSpec(path=str(path)), ["text"])) == [Row(0, "i love this movie")]


def test_a_run_measures_each_row_against_its_rationale(model_dir, tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in RECORDS), encoding="utf-8")
    experiment = Experiment(
        model=ModelSpec(path=str(model_dir)),
        backend=Component("layer_ig", {"n_steps": N_STEPS}),
        targets="all",
        inputs=InputsSpec(path=str(path), rationale_field="marked"),
        batch_size=4,
        output=OutputSpec(str(tmp_path / "out")),
        metrics=(Component("token_f1", {"top_k": 2}),),
    )
    run_experiment(experiment, show_progress=False)
    rows = {row["id"]: row for row in map(json.loads, (tmp_path / "out" / "results.jsonl").read_text().splitlines())}
    assert rows[3]["error"].startswith("the rationale in column 'marked' is 'bad'")
    explainer = attrix.Explainer(str(model_dir), backend="layer_ig", n_steps=N_STEPS, batch_size=4)
    texts, rationales = [record["text"] for record in RECORDS[:3]], [record["marked"] for record in RECORDS[:3]]
    metric = attrix.create("metric", "token_f1", top_k=2)
    expected = attrix.evaluate(texts, explainer, [metric], target="all", rationales=rationales).explanations
    for row_id, want in enumerate(expected):
        got = rows[row_id]["explanation"]["metrics"]["token_f1"]
        values = [math.nan if value is None else value for value in got["values"]]
        assert values == pytest.approx(want.metrics["token_f1"]["values"], abs=1e-6, nan_ok=True)
        assert got["settings"] == {"only_positive": True, "top_k": 2}
    assert all(math.isnan(value) for value in expected[1].metrics["token_f1"]["values"])
    assert not any(math.isnan(value) for value in expected[0].metrics["token_f1"]["values"])


def test_a_batch_without_any_rationale_gets_nan_rather_than_an_error(model_dir, tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in RECORDS[:2]), encoding="utf-8")
    experiment = Experiment(
        model=ModelSpec(path=str(model_dir)),
        backend=Component("layer_ig", {"n_steps": N_STEPS}),
        inputs=InputsSpec(path=str(path), rationale_field="marked"),
        batch_size=1,
        output=OutputSpec(str(tmp_path / "out")),
        metrics=(Component("token_f1"), Component("comprehensiveness")),
    )
    run_experiment(experiment, show_progress=False)
    rows = [json.loads(line) for line in (tmp_path / "out" / "results.jsonl").read_text().splitlines()]
    without = next(row for row in rows if row["id"] == 1)
    assert "error" not in without, without.get("error")
    metrics = without["explanation"]["metrics"]
    assert metrics["token_f1"]["values"] == [None]  # NaN, written as null
    assert metrics["comprehensiveness"]["values"][0] is not None
