"""A real third-party plugin package, pip-installed into a temporary directory, found through its entry point.

The package ``attrix-example-plugin`` 0.3.1 adds two tasks (``sequence_logit``: explain the raw logit;
``titled_logit``: the same over a review's title and body, two inputs it declares itself) and a backend
(``plain_saliency``: captum's Saliency on the input embeddings).  A subprocess with the package on its ``PYTHONPATH``
explains a text with both; the results are checked against torch and captum run here.  Other subprocesses run
``titled_logit`` from a YAML config over a JSONL dataset, through the app's logic and through ``attrix explain``,
which know its inputs only from its declaration.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from captum.attr import Saliency
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from helpers.tiny_models import build

pytestmark = pytest.mark.slow

TEXT = "i love this movie"
DISTRIBUTION = "attrix-example-plugin"
VERSION = "0.3.1"

PYPROJECT = f"""
[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "{DISTRIBUTION}"
version = "{VERSION}"
description = "An example attrix plugin: a logit task and a saliency backend."
requires-python = ">=3.10"
dependencies = ["attrix", "captum"]

[project.entry-points.attrix]
example = "attrix_example_plugin"

[tool.setuptools]
py-modules = ["attrix_example_plugin"]
"""

PLUGIN = '''
"""An example attrix plugin: a logit task and a saliency backend."""

import torch
from captum.attr import Saliency

import attrix
from attrix.plugins.sequence import SequenceClassification
from attrix.integration.points import InputPoint
from attrix.text.encoding import check_text


class SequenceLogit(SequenceClassification):
    """Text classification explained toward the raw logit of a class, not its probability."""

    name = "sequence_logit"

    def probabilities(self, **inputs):
        return self.model(**inputs).logits


class TitledLogit(SequenceLogit):
    """A review's title and body, read as a text pair, explained toward the raw logit of a class."""

    name = "titled_logit"
    inputs = (
        attrix.InputField("title", str, "the headline of the review", "line", "A wonderful film"),
        attrix.InputField("body", str, "the review itself", "area", "i love this movie"),
    )

    @classmethod
    def auto_fits(cls, architecture, config):
        return False

    def check(self, item):
        names = self.input_names()
        if not isinstance(item, dict) or sorted(item) != sorted(names):
            raise attrix.InputError(f"a titled_logit input is a dict with the keys {', '.join(names)}, got {item!r:.80}")
        return tuple(check_text(item[name], name) for name in names)

    def sequences(self, item):
        return item


class SaliencyBackend(attrix.Backend):
    """Saliency: the absolute gradient of the score on the input embeddings (captum's Saliency)."""

    name = "plain_saliency"

    def __init__(self, *, absolute: bool = True) -> None:
        self.absolute = absolute

    def attribute(self, problem):
        point = InputPoint()
        end, start = point.values(problem)
        forward, rest = point.captum_forward(problem)
        columns = [
            Saliency(forward).attribute(
                end.clone().requires_grad_(True),
                target=problem.targets[:, column].tolist(),
                abs=self.absolute,
                additional_forward_args=rest,
            )
            for column in range(problem.n_targets)
        ]
        return attrix.Attributions.measured(torch.stack(columns, dim=1), point, problem, end, start)


@attrix.hookimpl
def register_tasks(register):
    register(SequenceLogit)
    register(TitledLogit)


@attrix.hookimpl
def register_backends(register):
    register(SaliencyBackend)
'''

SCRIPT = '''
import json, sys
import attrix

model_dir = sys.argv[1]
result = {}
explanation = attrix.Explainer(model_dir, task="sequence_logit", backend="plain_saliency")(%r)
result["explanation"] = json.loads(explanation.to_json())
try:
    attrix.Explainer(model_dir)
except attrix.AttrixError as error:
    result["auto_error"] = {"type": type(error).__name__, "message": str(error)}
print(json.dumps(result))
''' % TEXT


def offline_env(site: Path) -> dict[str, str]:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    env["PYTHONPATH"] = os.pathsep.join([str(site), *filter(None, [os.environ.get("PYTHONPATH")])])
    return env


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The example plugin package, built and pip-installed (no network, no deps) into its own directory."""
    root = tmp_path_factory.mktemp("third_party")
    package = root / "pkg"
    package.mkdir()
    (package / "pyproject.toml").write_text(PYPROJECT)
    (package / "attrix_example_plugin.py").write_text(PLUGIN)
    target = root / "site"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index", "-q",
         "--target", str(target), str(package)],
        capture_output=True, text=True, env=offline_env(root / "nowhere"), cwd=root, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return target


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    """A tiny BERT classifier, weights spread wide enough that logits and gradients depend on the words."""
    model, tokenizer = build("bert", num_labels=3, seed=5)
    generator = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "LayerNorm" not in name:
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.2)
    directory = tmp_path_factory.mktemp("model")
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


@pytest.fixture(scope="module")
def outputs(site, model_dir) -> dict:
    """The explanation script's result and ``attrix plugins --json``, both run in the plugin's environment."""
    script = site.parent / "explain.py"
    script.write_text(SCRIPT)
    attrix_command = Path(sys.executable).parent / "attrix"
    plugins_command = [str(attrix_command)] if attrix_command.exists() else [sys.executable, "-m", "attrix.cli"]
    env = offline_env(site)
    explain = subprocess.Popen([sys.executable, str(script), str(model_dir)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=site.parent)
    plugins = subprocess.Popen([*plugins_command, "plugins", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=site.parent)
    explain_out, explain_err = explain.communicate(timeout=300)
    plugins_out, plugins_err = plugins.communicate(timeout=300)
    assert explain.returncode == 0, explain_err
    assert plugins.returncode == 0, plugins_err
    assert "PluginWarning" not in explain_err + plugins_err
    return {"result": json.loads(explain_out), "plugins": json.loads(plugins_out)}


@pytest.fixture(scope="module")
def reference(model_dir) -> dict:
    """The logits and captum Saliency computed here with the model itself, without attrix."""
    model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    encoding = tokenizer(TEXT, return_tensors="pt", return_special_tokens_mask=True)
    special = encoding.pop("special_tokens_mask").bool()
    with torch.no_grad():
        logits = model(**encoding).logits[0]
        baseline_ids = torch.where(special, encoding["input_ids"], tokenizer.pad_token_id)
        baseline_logits = model(**dict(encoding, input_ids=baseline_ids)).logits[0]
    predicted = int(logits.argmax())
    embeddings = model.get_input_embeddings()(encoding["input_ids"]).detach()

    def forward(inputs_embeds, attention_mask, token_type_ids):
        return model(inputs_embeds=inputs_embeds, attention_mask=attention_mask, token_type_ids=token_type_ids).logits

    saliency = Saliency(forward).attribute(
        embeddings.requires_grad_(True),
        target=predicted,
        abs=True,
        additional_forward_args=(encoding["attention_mask"], encoding["token_type_ids"]),
    )
    return {
        "logits": logits,
        "baseline_logits": baseline_logits,
        "predicted": predicted,
        "label": model.config.id2label[predicted],
        "tokens": tokenizer.convert_ids_to_tokens(encoding["input_ids"][0].tolist()),
        "token_scores": saliency[0].sum(-1),
    }


def test_package_is_installed_with_its_entry_point(site):
    info = site / f"attrix_example_plugin-{VERSION}.dist-info"
    assert info.is_dir(), sorted(p.name for p in site.iterdir())
    (dist,) = importlib.metadata.distributions(path=[str(site)])
    assert (dist.metadata["Name"], dist.version) == (DISTRIBUTION, VERSION)
    (entry_point,) = dist.entry_points.select(group="attrix")
    assert (entry_point.name, entry_point.value) == ("example", "attrix_example_plugin")
    assert (site / "attrix_example_plugin.py").is_file()


def test_explanation_uses_the_plugin_task_and_backend(outputs, reference):
    explanation = outputs["result"]["explanation"]
    assert explanation["task"] == "sequence_logit"
    assert explanation["method"] == "plain_saliency"
    assert explanation["settings"]["absolute"] is True
    assert explanation["tokens"] == reference["tokens"]
    assert explanation["predicted_label"] == reference["label"]
    (target,) = explanation["targets"]
    assert target["index"] == reference["predicted"]
    assert target["label"] == reference["label"]


def test_target_score_is_the_raw_logit(outputs, reference):
    (target,) = outputs["result"]["explanation"]["targets"]
    logits = reference["logits"]
    assert target["score"] == pytest.approx(float(logits[reference["predicted"]]), abs=1e-5)
    # a logit, not a probability: the tiny model's logits are well outside [0, 1] and do not sum to 1
    assert float(torch.softmax(logits, -1)[reference["predicted"]]) != pytest.approx(target["score"], abs=1e-3)
    assert target["baseline_score"] == pytest.approx(float(reference["baseline_logits"][reference["predicted"]]), abs=1e-5)


def test_token_scores_are_captum_saliency(outputs, reference):
    (target,) = outputs["result"]["explanation"]["targets"]
    scores = torch.tensor(target["token_scores"])
    expected = reference["token_scores"]
    assert scores.shape == expected.shape
    assert float(expected.abs().max()) > 1e-2, "saliency too small for the comparison to mean anything"
    torch.testing.assert_close(scores, expected.to(scores.dtype), atol=1e-5, rtol=1e-5)
    assert (scores >= 0).all(), "absolute gradients summed over hidden are never negative"
    # the delta is what Attributions.measured defines: sum of attributions minus (f(x) - f(baseline))
    assert target["delta"] == pytest.approx(float(expected.sum()) - (target["score"] - target["baseline_score"]), abs=1e-4)


def test_auto_task_is_ambiguous_and_names_both_tasks(outputs):
    error = outputs["result"]["auto_error"]
    assert error["type"] == "TaskMismatchError"
    assert "BertForSequenceClassification" in error["message"]
    assert "sequence_logit" in error["message"]
    names = error["message"].split(": ", 1)[1].split(";")[0].split(", ")
    assert sorted(names) == ["sequence", "sequence_logit"]


def test_plugins_lists_the_third_party_entries_beside_the_builtins(outputs):
    by_key = {(entry["kind"], entry["name"]): entry for entry in outputs["plugins"]}
    for key in [("task", "sequence_logit"), ("backend", "plain_saliency")]:
        entry = by_key[key]
        assert entry["plugin"] == "example"
        assert entry["distribution"] == DISTRIBUTION
        assert entry["version"] == VERSION
    assert by_key["task", "sequence_logit"]["description"] == "Text classification explained toward the raw logit of a class, not its probability."
    assert by_key["backend", "plain_saliency"]["options"] == ["absolute"]
    assert set(by_key["task", "sequence_logit"]["options"]) == {"embedding", "baseline", "word_aggregation", "long_inputs", "stride", "window_length"}
    attrix_version = importlib.metadata.version("attrix")
    for key in [("task", "sequence"), ("backend", "layer_ig"), ("backend", "ig"), ("backend", "grad_x_input"), ("renderer", "json")]:
        assert (by_key[key]["distribution"], by_key[key]["version"]) == ("attrix", attrix_version)


def test_plugin_is_not_visible_without_its_path():
    import attrix

    assert "plain_saliency" not in attrix.get_registry().entries["backend"]
    assert "sequence_logit" not in attrix.get_registry().entries["task"]


# --- a task that declares its own inputs: datasets, the app and the command line read them -----------------------

TITLED = "titled_logit"
REVIEWS = [
    {"id": "r1", "headline": "A wonderful film", "body": "i love this movie"},
    {"id": "r2", "headline": "Dull", "body": "the plot was awful"},
    {"id": "r3", "headline": "No body here"},
    {"id": "r4", "headline": "Fine", "body": "a good plot"},
]
RUN_CONFIG = """\
model: {model}
task: titled_logit
backend: plain_saliency
inputs:
  path: reviews.jsonl
  fields: {{title: headline}}
  id_field: id
batch_size: 2
output: {{directory: out}}
"""

APP_SCRIPT = '''
import contextlib, io, json, sys
import attrix
from attrix.app import logic as app_logic
from attrix.cli import main

model_dir, task = sys.argv[1], "titled_logit"
reviews = json.loads(sys.argv[2])
result = {}
info = app_logic.describe(model_dir)
result["tasks"], result["fitting"] = info.tasks, info.fitting
result["fields"] = [[f.name, f.label, f.widget, f.example, f.description] for f in app_logic.input_fields(task)]
values = {"title": "A wonderful film", "body": "i love this movie"}
result["item"] = app_logic.make_input(task, values)
result["targets"] = app_logic.target_choices(info, task, values)
for name, bad in {"missing": {"title": "x"}, "empty": {"title": "x", "body": " "}}.items():
    try:
        app_logic.make_input(task, bad)
    except attrix.AttrixError as error:
        result[name] = str(error)
request = app_logic.Request(model_dir, task, "plain_saliency", (), tuple(values.items()), app_logic.PREDICTED)
result["app"] = json.loads(app_logic.explain(request).explanation.to_json())
explainer = attrix.Explainer(model_dir, task=task, backend="plain_saliency")
result["direct"] = [json.loads(e.to_json()) for e in explainer([{"title": r["headline"], "body": r["body"]} for r in reviews])]
printed = io.StringIO()
with contextlib.redirect_stdout(printed):
    code = main(["explain", "--model", model_dir, "--task", task, "--backend", "plain_saliency", "--json",
                 values["title"], "--input", "body=" + values["body"]])
result["cli"] = {"code": code, "explanation": json.loads(printed.getvalue())}
print(json.dumps(result))
'''


@pytest.fixture(scope="module")
def declared(site, model_dir) -> dict:
    """``attrix run`` of ``titled_logit`` over a JSONL dataset, and the app logic and CLI script, in the plugin's environment."""
    work = site.parent / "declared"
    work.mkdir()
    (work / "reviews.jsonl").write_text("".join(json.dumps(review) + "\n" for review in REVIEWS))
    (work / "run.yaml").write_text(RUN_CONFIG.format(model=model_dir))
    (work / "app.py").write_text(APP_SCRIPT)
    attrix_command = Path(sys.executable).parent / "attrix"
    run_command = [str(attrix_command)] if attrix_command.exists() else [sys.executable, "-m", "attrix.cli"]
    env = offline_env(site)
    complete = json.dumps([review for review in REVIEWS if "body" in review])
    run = subprocess.Popen([*run_command, "run", "run.yaml"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=work)
    app = subprocess.Popen([sys.executable, "app.py", str(model_dir), complete], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=work)
    run_out, run_err = run.communicate(timeout=300)
    app_out, app_err = app.communicate(timeout=300)
    assert run.returncode == 0, run_err
    assert app.returncode == 0, app_err
    rows = [json.loads(line) for line in (work / "out" / "results.jsonl").read_text().splitlines()]
    return {"printed": run_out, "rows": {row["id"]: row for row in rows}, "app": json.loads(app_out)}


def test_the_declared_task_runs_from_a_config_over_a_jsonl_dataset(declared):
    rows = declared["rows"]
    assert sorted(rows) == ["r1", "r2", "r3", "r4"]
    assert "4 rows in out: 3 explained, 1 errors" in declared["printed"]
    direct = iter(declared["app"]["direct"])
    for review in REVIEWS:
        row = rows[review["id"]]
        if "body" not in review:
            continue
        explanation, expected = row["explanation"], next(direct)
        assert explanation["task"] == TITLED and explanation["method"] == "plain_saliency"
        assert explanation["inputs"] == {"title": review["headline"], "body": review["body"]}
        assert explanation["tokens"].count("[SEP]") == 2, "title and body are encoded as a pair"
        assert explanation["tokens"] == expected["tokens"]
        (target,), (expected_target,) = explanation["targets"], expected["targets"]
        assert target["token_scores"] == pytest.approx(expected_target["token_scores"], abs=1e-5)


def test_a_dataset_row_missing_a_declared_input_is_an_error_row_naming_it(declared):
    row = declared["rows"]["r3"]
    assert "explanation" not in row and row["input"] == {"id": "r3", "headline": "No body here"}
    assert row["error"] == (
        "the row has no field 'body'; the task's inputs are title (column 'headline'), body "
        "(inputs.fields maps input names to columns); its fields are id, headline"
    )


def test_the_app_offers_the_declared_fields_and_makes_the_input_from_them(declared):
    app = declared["app"]
    assert TITLED in app["tasks"] and TITLED in app["fitting"]
    assert app["fields"] == [
        ["title", "Title", "line", "A wonderful film", "the headline of the review"],
        ["body", "Body", "area", "i love this movie", "the review itself"],
    ]
    assert app["item"] == {"title": "A wonderful film", "body": "i love this movie"}
    assert app["targets"][:2] == ["predicted", "all"] and len(app["targets"]) == 5  # the model's three labels
    assert app["missing"].startswith("task 'titled_logit' needs the input 'body'; its inputs are title (the headline of the review)")
    assert app["empty"].startswith("body is empty")
    explained = app["app"]
    assert explained["task"] == TITLED and explained["inputs"] == app["item"]
    assert explained["targets"][0]["token_scores"] == pytest.approx(app["direct"][0]["targets"][0]["token_scores"], abs=1e-5)


def test_attrix_explain_takes_the_declared_inputs(declared):
    cli = declared["app"]["cli"]
    assert cli["code"] == 0
    explanation = cli["explanation"]
    assert explanation["task"] == TITLED and explanation["inputs"] == {"title": "A wonderful film", "body": "i love this movie"}
    assert explanation["targets"][0]["token_scores"] == pytest.approx(declared["app"]["direct"][0]["targets"][0]["token_scores"], abs=1e-5)
