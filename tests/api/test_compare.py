"""``attrix compare`` and ``attrix.api.comparison.compare``: backend × metric means equal to ``attrix.evaluate``'s, the
random reference beside them, compare.json and compare.html, and the errors a bad argument or a failing backend give."""

from __future__ import annotations

import base64
import io
import json
import math
import re

import pytest
from PIL import Image

import attrix
from attrix.api.comparison import DEFAULT_METRICS
from attrix import compare
from attrix.cli import main
from helpers import tiny_vision
from helpers.tiny_models import build
from helpers.tiny_nli import spread

N_STEPS = 4
HOSTILE = "the food was <script>alert(1)</script> awful"
INPUTS = ["i love this movie it is great", HOSTILE, "a boring plot"]
BACKENDS = ("layer_ig", "ig", "grad_x_input")


@pytest.fixture(scope="module", autouse=True)
def threads(one_torch_thread):
    """One torch thread: tiny models, many small passes."""


@pytest.fixture(scope="module")
def tiny():
    """A tiny BERT sentiment model whose outputs depend on the words, and its tokenizer."""
    model, tokenizer = build("bert", seed=7)
    spread(model, 0.3, seed=7)
    return model, tokenizer


@pytest.fixture(scope="module")
def model_dir(tiny, tmp_path_factory):
    directory = tmp_path_factory.mktemp("model") / "bert"
    for part in tiny:
        part.save_pretrained(directory)
    return directory


def config(directory, model, items, backend="layer_ig") -> str:
    """A config of ``model`` over ``items`` whose own backend takes ``N_STEPS`` steps."""
    path = directory / "config.yaml"
    lines = "".join(f"    - {json.dumps(item)}\n" for item in items)
    path.write_text(f"model: {model}\nbackend:\n  name: {backend}\n  options: {{n_steps: {N_STEPS}}}\ninputs:\n  items:\n{lines}")
    return str(path)


def evaluate_means(evaluation) -> tuple[dict[str, float], dict[str, float]]:
    """Per metric, the mean of evaluate's rows' values and of their random references (NaNs left out)."""
    values, randoms = {}, {}
    for name in DEFAULT_METRICS:
        rows = [row for row in evaluation.rows if row["metric"] == name]
        values[name] = mean([row["value"] for row in rows])
        randoms[name] = mean([row["random"] for row in rows])
    return values, randoms


def mean(values: list[float]) -> float:
    kept = [value for value in values if not math.isnan(value)]
    return sum(kept) / len(kept)


def test_each_cell_is_the_mean_of_evaluates_rows_for_that_backend(tiny):
    model, tokenizer = tiny
    explainer = attrix.Explainer(model, tokenizer, n_steps=N_STEPS)
    backends = [attrix.create("backend", "layer_ig", n_steps=N_STEPS), attrix.create("backend", "ig", n_steps=N_STEPS), "grad_x_input"]
    comparison = compare(INPUTS, explainer, backends, target="all")
    assert explainer.backend.name == "layer_ig" and explainer.backend.settings()["n_steps"] == N_STEPS
    table = {row["backend"]: row for row in comparison.table()}
    assert list(table) == [*BACKENDS, "random"]
    for name in BACKENDS:
        direct = attrix.Explainer(model, tokenizer, backend=name, **({} if name == "grad_x_input" else {"n_steps": N_STEPS}))
        values, randoms = evaluate_means(attrix.evaluate(INPUTS, direct, DEFAULT_METRICS, target="all"))
        for metric in DEFAULT_METRICS:
            assert table[name]["metrics"][metric] == {"mean": pytest.approx(values[metric], abs=1e-9), "n": 2 * len(INPUTS)}
            assert table["random"]["metrics"][metric]["mean"] == pytest.approx(randoms[metric], abs=1e-9)
        assert 0 < table[name]["seconds_per_input"]["explain"] < table[name]["seconds_per_input"]["with_metrics"]
    means = [table[name]["metrics"]["comprehensiveness"]["mean"] for name in BACKENDS]
    assert len(set(means)) > 1, "the backends rank the words differently: the model is not flat"


def test_the_config_runs_under_each_backend_into_a_table_json_and_html(model_dir, tiny, tmp_path, capsys):
    path = config(tmp_path, model_dir, INPUTS)
    arguments = ["compare", path, "--backends", ",".join(BACKENDS), "--out", str(tmp_path / "out"), "--limit", "2"]
    assert main(arguments) == 0
    out = capsys.readouterr().out
    header = "| backend | comprehensiveness ↑ | sufficiency ↓ | deletion_auc ↓ | insertion_auc ↑ | s/input (explain) |"
    assert header in out and re.search(r"^\| random \| \S+ \| \S+ \| \S+ \| \S+ \| - \| - \|$", out, re.MULTILINE)
    data = json.loads((tmp_path / "out" / "compare.json").read_text())
    assert data["inputs"] == 2 and [entry["backend"] for entry in data["backends"]] == list(BACKENDS)
    assert [metric["name"] for metric in data["metrics"]] == list(DEFAULT_METRICS)
    assert all(set(entry["metrics"]) == set(DEFAULT_METRICS) for entry in data["backends"])
    assert set(data["random"]) == set(DEFAULT_METRICS)
    # the config's own backend keeps its options; another runs with its defaults
    assert data["backends"][0]["settings"]["n_steps"] == N_STEPS and data["backends"][1]["settings"]["n_steps"] == "auto"
    model, tokenizer = tiny
    own = attrix.evaluate(INPUTS[:2], attrix.Explainer(model, tokenizer, n_steps=N_STEPS), DEFAULT_METRICS)
    values, randoms = evaluate_means(own)
    printed = next(line for line in out.splitlines() if line.startswith("| layer_ig |")).split("|")[2:-1]
    for number, metric in enumerate(DEFAULT_METRICS):
        cell = data["backends"][0]["metrics"][metric]
        assert cell == {"mean": pytest.approx(values[metric], abs=1e-9), "n": 2}
        assert data["random"][metric]["mean"] == pytest.approx(randoms[metric], abs=1e-9)
        assert printed[number].strip() == f"{values[metric]:.4g}"
    assert data["backends"][0]["seconds_per_input"]["explain"] > 0
    assert len(data["backends"][0]["curves"]["deletion_auc"]) == 11


def test_the_page_draws_the_curves_as_a_png_and_escapes_the_inputs(model_dir, tmp_path, capsys):
    assert main(["compare", config(tmp_path, model_dir, INPUTS), "--backends", "layer_ig,grad_x_input", "--out", str(tmp_path)]) == 0
    page = (tmp_path / "compare.html").read_text()
    match = re.search(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert match, "no embedded PNG"
    picture = Image.open(io.BytesIO(base64.b64decode(match.group(1), validate=True)))
    assert picture.format == "PNG" and picture.width > 300
    assert "<script>" not in page and "the food was &lt;script&gt;alert(1)&lt;/script&gt; awful" in page
    assert "<td>layer_ig</td>" in page and "<td>grad_x_input</td>" in page and '<tr class="random"><td>random</td>' in page


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--backends", "layer_ig,shap"], "argument --backends: unknown backend 'shap'; valid: feature_ablation, grad_x_input"),
        (["--backends", ""], "argument --backends: name at least one backend"),
        (["--backends", " , "], "argument --backends: name at least one backend"),
        (["--backends", "ig,ig"], "argument --backends: backend 'ig' is named twice"),
        (["--backends", "ig", "--metrics", "aopc"], "argument --metrics: unknown metric 'aopc'; valid: "),
        (["--backends", "ig", "--limit", "0"], "argument --limit: expected a whole number of at least 1, got '0'"),
    ],
)
def test_bad_arguments_exit_2_listing_the_valid_names_before_any_model_loads(tmp_path, capsys, flags, message):
    path = config(tmp_path, tmp_path / "no-such-model", INPUTS)  # loading it would fail with status 1
    with pytest.raises(SystemExit) as exit:
        main(["compare", path, *flags])
    assert exit.value.code == 2
    assert message in capsys.readouterr().err


@pytest.fixture(scope="module")
def image_config(tmp_path_factory):
    """A config of a tiny ResNet over two image files, explained by ``ig`` with few steps (its ``layer_ig`` attributes
    at the stem's feature maps, which no metric can read)."""
    directory = tmp_path_factory.mktemp("images")
    tiny_vision.save("resnet", directory / "resnet", seed=1)
    for number in range(2):
        tiny_vision.image(seed=number).save(directory / f"{number}.png")
    return config(directory, directory / "resnet", ["0.png", "1.png"], backend="ig")


def test_a_backend_the_metrics_cannot_read_fails_alone_with_its_reason(image_config, tmp_path, capsys):
    assert main(["compare", image_config, "--backends", "layer_ig,ig", "--metrics", "comprehensiveness", "--out", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    reason = "metrics need attributions at the input embeddings or pixels"
    assert "error: backend 'layer_ig' failed: the backend's attributions have shape" in captured.err and reason in captured.err
    assert "Traceback" not in captured.err
    assert re.search(r"^\| layer_ig \| failed \|", captured.out, re.MULTILINE)
    assert re.search(r"^\| ig \| -?\d", captured.out, re.MULTILINE)
    data = json.loads((tmp_path / "compare.json").read_text())
    failed, done = data["backends"]
    assert reason in failed["error"] and failed["metrics"] == {}
    assert done["error"] is None and done["metrics"]["comprehensiveness"]["n"] == 2
    assert data["random"]["comprehensiveness"]["n"] == 2
    assert "failed: the backend&#x27;s attributions have shape" in (tmp_path / "compare.html").read_text()


def test_without_metrics_flags_the_configs_metrics_are_measured_with_their_options(model_dir, tiny, tmp_path, capsys):
    path = config(tmp_path, model_dir, INPUTS[:2])
    with open(path, "a", encoding="utf-8") as file:
        file.write("metrics:\n  - {name: comprehensiveness, options: {fractions: [0.5, 1.0]}}\n")
    assert main(["compare", path, "--backends", "layer_ig", "--out", str(tmp_path / "out")]) == 0
    data = json.loads((tmp_path / "out" / "compare.json").read_text())
    assert [metric["name"] for metric in data["metrics"]] == ["comprehensiveness"]
    model, tokenizer = tiny
    halves = attrix.create("metric", "comprehensiveness", fractions=[0.5, 1.0])
    own = attrix.evaluate(INPUTS[:2], attrix.Explainer(model, tokenizer, n_steps=N_STEPS), [halves])
    assert data["backends"][0]["metrics"]["comprehensiveness"]["mean"] == pytest.approx(
        mean([row["value"] for row in own.rows]), abs=1e-9
    )
    default = attrix.evaluate(INPUTS[:2], attrix.Explainer(model, tokenizer, n_steps=N_STEPS), ["comprehensiveness"])
    assert mean([row["value"] for row in default.rows]) != pytest.approx(mean([row["value"] for row in own.rows]), abs=1e-6)
