"""YAML experiment configs: the schema, shorthands, overrides, errors that name key, value, allowed values and line, plugin option schemas, and the shipped examples."""

from __future__ import annotations

import dataclasses
import importlib.resources
import importlib.util
import json
import re
import textwrap
import typing
import warnings
from pathlib import Path
from typing import Any, Literal, Mapping, Optional, Sequence

import numpy as np
import pytest

import attrix
from attrix.contracts.hints import conforms, describe
from attrix.contracts.options import OptionError
from attrix.experiments.config import (
    ConfigError,
    ConfigWarning,
    load_experiment,
    parse_experiment,
)
from attrix.experiments.schema import (
    Component,
    EngineSpec,
    Experiment,
    InputsSpec,
    ModelSpec,
)
from helpers import tiny_lms, tiny_models, tiny_nli, tiny_vision
from helpers.plugins import plugged

DOCS = Path(__file__).resolve().parents[2] / "docs" / "configs.md"
CONFIGS = importlib.resources.files("attrix.configs")
SHIPPED = sorted(entry.name for entry in CONFIGS.iterdir() if entry.name.endswith(".yaml"))
NEEDS_RAY = pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="engine: ray needs ray installed")
BUILTIN_TASKS = ("sequence", "pairwise", "multilabel", "zero_shot", "qa", "token", "image", "generation")


def write(tmp_path: Path, text: str, name: str = "c.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def failure(path: Path, overrides: Sequence[str] = ()) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_experiment(path, overrides)
    return caught.value


# --- the schema and its shorthands --------------------------------------------------------------------------------


def test_the_shorthands_mean_the_long_forms(tmp_path):
    short = write(tmp_path, """\
        model: default
        task: sequence
        backend: ig
        engine: local
        inputs: [good, bad]
        renderers: [html]
        """, "short.yaml")
    long = write(tmp_path, """\
        model: {path: default}
        task: {name: sequence}
        backend: {name: ig}
        engine: {name: local}
        inputs: {items: [good, bad]}
        renderers: [{name: html}]
        """, "long.yaml")
    assert load_experiment(short) == load_experiment(long)
    assert load_experiment(short).inputs.items == ("good", "bad")


def test_a_config_is_read_into_the_experiment_it_describes(tmp_path):
    write(tmp_path, "review\nfine\n", "texts.csv")
    path = write(tmp_path, """\
        model:
          path: default
          device: cuda:1
          dtype: bfloat16
        task:
          name: sequence
          options: {word_aggregation: mean}
        backend:
          name: layer_ig
          options: {n_steps: 12, internal_batch_size: 4}
        targets: [POSITIVE, 0]
        inputs:
          path: texts.csv
          fields: {text: review}
          limit: 1
        batch_size: 3
        output: {directory: out, format: parquet}
        seed: 7
        renderers:
          - name: json
            options: {indent: 4}
        engine: {name: local}
        """)
    assert load_experiment(path) == Experiment(
        model=ModelSpec("default", None, "bfloat16", "cuda:1"),
        task=Component("sequence", {"word_aggregation": "mean"}),
        backend=Component("layer_ig", {"n_steps": 12, "internal_batch_size": 4}),
        targets=["POSITIVE", 0],
        inputs=InputsSpec(path=str(tmp_path / "texts.csv"), format="csv", fields={"text": "review"}, limit=1),
        batch_size=3,
        output=dataclasses.replace(Experiment().output, directory="out", format="parquet"),
        seed=7,
        renderers=(Component("json", {"indent": 4}),),
    )


def test_auto_and_the_default_backend_are_resolved_and_task_options_move_out_of_backend_options(tmp_path):
    path = write(tmp_path, """\
        model: default
        backend:
          options: {n_steps: 8, baseline: unk, embedding: position}
        inputs: [good]
        """)
    experiment = load_experiment(path)
    assert experiment.task == Component("sequence", {"baseline": "unk", "embedding": "position"})
    assert experiment.backend == Component(attrix.get_registry().get("task", "sequence").obj.default_backend, {"n_steps": 8})


def test_null_keeps_a_default_and_an_empty_config_needs_inputs(tmp_path):
    assert load_experiment(write(tmp_path, "model:\nbatch_size:\ninputs: [x]\n")).batch_size == Experiment().batch_size
    error = failure(write(tmp_path, "# nothing yet\n", "empty.yaml"))
    assert error.key_path == "inputs" and "gives no inputs" in str(error) and "allowed: items" in str(error)


def test_relative_paths_are_read_from_the_config_directory(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "rows.jsonl").write_text('{"text": "good"}\n')
    path = write(tmp_path / "sub", "model: default\ninputs: rows.jsonl\n")
    inputs = load_experiment(path).inputs
    assert inputs.path == str((tmp_path / "sub" / "rows.jsonl").resolve()) and inputs.format == "jsonl"


# --- errors: key path, bad value, allowed values, line --------------------------------------------------------------

BASE = """\
model: default
task: sequence
backend:
  name: layer_ig
  options:
    n_steps: 8
inputs: [good, bad]
renderers:
  - html
  - name: json
    options: {indent: 2}
"""


def edited(old: str, new: str) -> str:
    assert old in BASE
    return BASE.replace(old, new)


@pytest.mark.parametrize("text, key_path, line, fragments", [
    (edited("model: default", "modle: default"), "modle", 1, ["unknown key 'modle' at the top level", "valid: backend, batch_size", "did you mean 'model'?"]),
    (edited("n_steps: 8", "n_step: 8"), "backend.options.n_step", 6, ["unknown key 'n_step' at backend.options", "not an option of backend 'layer_ig' nor of task 'sequence'", "internal_batch_size", "method", "n_steps", "baseline", "did you mean 'n_steps'?"]),
    (edited("task: sequence", "task: {name: sequence, options: {n_steps: 4}}"), "task.options.n_steps", 2, ["unknown key 'n_steps' at task.options", "it is an option of backend 'layer_ig': put it under backend.options", "valid: baseline, embedding, long_inputs, stride, window_length, word_aggregation"]),
    (edited("model: default", "model: {path: default, dtype: float64}"), "model.dtype", 1, ["'float64' is not allowed; allowed: float32, float16, bfloat16"]),
    (edited("model: default", "model:\n  path: default\n  device: gpu"), "model.device", 3, ["'gpu' is not allowed; allowed: cpu, cuda, cuda:N, mps"]),
    (edited("model: default", "model: {path: default, compile: sometimes}"), "model.compile", 1, ["'sometimes' is not allowed; allowed: true or false"]),
    (BASE + "batch_size: 0\n", "batch_size", 12, ["0 is not allowed; allowed: an integer >= 1"]),
    (BASE + "batch_size: eight\n", "batch_size", 12, ["'eight' is not allowed; allowed: an integer"]),
    (BASE + "seed: 1.5\n", "seed", 12, ["1.5 is not allowed; allowed: an integer"]),
    (edited("name: layer_ig", "name: layer_gi"), "backend.name", 4, ["'layer_gi' is not a registered backend; allowed: ", "grad_x_input, gradient_shap, ig", "layer_ig, lime", "did you mean 'layer_ig'?"]),
    (edited("task: sequence", "task: sentiment"), "task.name", 2, ["'sentiment' is not a registered task; allowed: ", "qa, seq2seq, sequence, token"]),
    (BASE + "targets: true\n", "targets", 12, ["True is not allowed; allowed: predicted, all, a label name or index, or a list"]),
    (BASE + "targets: []\n", "targets", 12, ["[] is not allowed; allowed: predicted, all"]),
    (edited("options: {indent: 2}", "options: {indnet: 2}"), "renderers[1].options.indnet", 11, ["unknown key 'indnet' at renderers[1].options", "not an option of renderer 'json'", "valid: indent", "did you mean 'indent'?"]),
    (edited("options: {indent: 2}", "options: {indent: two}"), "renderers[1].options.indent", 11, ["'two' is not allowed by renderer 'json'; allowed: an integer or null"]),
    (edited("  - html", "  - pdf"), "renderers[0].name", 9, ["'pdf' is not a registered renderer; allowed: ", "html", "json"]),
    (edited("n_steps: 8", "internal_batch_size: big"), "backend.options.internal_batch_size", 6, ["'big' is not allowed by backend 'layer_ig'; allowed: an integer >= 1 or null"]),
    (edited("task: sequence", "task: {name: sequence, options: {word_aggregation: max}}"), "task.options.word_aggregation", 2, ["'max' is not allowed by task 'sequence'; allowed: sum, mean"]),
    (edited("n_steps: 8", "n_steps: 8\n    baseline: [1]"), "backend.options.baseline", 7, ["[1] is not allowed by task 'sequence'; allowed: a string or an integer"]),
    (edited("task: sequence", "task: {name: sequence, options: {baseline: unk}}") .replace("n_steps: 8", "baseline: mask"), "backend.options.baseline", 6, ["'mask' contradicts task.options; allowed: 'unk', as task.options.baseline has it (", "c.yaml:2)"]),
    (BASE + "engine: spark\n", "engine.name", 12, ["'spark' is not allowed; allowed: local, ray"]),
    pytest.param(BASE + "engine: {name: ray, options: {workers: 4}}\n", "engine.options.workers", 12, ["unknown key 'workers' at engine.options", "not an option of engine 'ray'", "valid: actors, address, num_cpus, num_gpus, runtime_env"], marks=NEEDS_RAY),
    pytest.param(BASE + "engine:\n  name: ray\n  options:\n    actors: 0\n", "engine.options.actors", 15, ["0 is not allowed by engine 'ray'; allowed: an integer >= 1"], marks=NEEDS_RAY),
    pytest.param(BASE + "engine:\n  name: ray\n  options: {num_cpus: half}\n", "engine.options.num_cpus", 14, ["'half' is not allowed by engine 'ray'; allowed: a number"], marks=NEEDS_RAY),
    (BASE + "output: {format: xml}\n", "output.format", 12, ["'xml' is not allowed; allowed: jsonl, parquet"]),
    (edited("renderers:\n  - html\n  - name: json\n    options: {indent: 2}\n", "renderers: html\n"), "renderers", 8, ["'html' is not allowed; allowed: a list, each item a name or a mapping with the keys name, options"]),
    (BASE + "model: other\n", "model", 12, ["given twice (first on line 1)"]),
    (edited("inputs: [good, bad]", "inputs: {items: [good], path: rows.jsonl}"), "inputs", 7, ["gives both items and path; allowed: items (a list of inputs) or path"]),
    (edited("inputs: [good, bad]", "inputs: {items: []}"), "inputs.items", 7, ["[] is not allowed; allowed: a list of at least one input"]),
    (edited("inputs: [good, bad]", "inputs:\n  path: missing.jsonl"), "inputs.path", 8, ["'missing.jsonl' names no file; allowed: the path of a data file"]),
    (edited("inputs: [good, bad]", "inputs:\n  path: rows.jsonl\n  fields: {text: body}"), "inputs.fields.text", 9, ["'body' is not a column; allowed: a column of rows.jsonl: id, review"]),
    (edited("inputs: [good, bad]", "inputs:\n  path: rows.jsonl\n  id_field: key"), "inputs.id_field", 9, ["'key' is not a column; allowed: a column of rows.jsonl: id, review"]),
    (edited("inputs: [good, bad]", "inputs:\n  path: rows.jsonl"), "inputs.fields", 7, ["rows.jsonl has no column 'text' for task 'sequence'; allowed: inputs.fields mapping text to columns of rows.jsonl: id, review"]),
    (edited("inputs: [good, bad]", "inputs:\n  path: rows.jsonl\n  fields: {question: review}"), "inputs.fields.question", 9, ["unknown key 'question' at inputs.fields", "not an input of task 'sequence'", "valid: text"]),
    (edited("inputs: [good, bad]", "inputs:\n  path: rows.txt"), "inputs.path", 8, ["'rows.txt' has no known format; allowed: a file ending in .jsonl", ".csv", ".parquet", "or inputs.format set"]),
    (edited("inputs: [good, bad]", "inputs: {path: rows.jsonl, format: xml}"), "inputs.format", 7, ["'xml' is not allowed; allowed: jsonl, csv, parquet or null"]),
    (edited("inputs: [good, bad]", "inputs: {path: rows.jsonl, fields: {text: review}, limit: -1}"), "inputs.limit", 7, ["-1 is not allowed; allowed: an integer >= 0"]),
    (edited("model: default", "model: ./no/such/model"), "model.path", 1, ["no model directory at './no/such/model'", "'default' for the embedded sentiment model or 'default-lm' for the embedded language model"]),
    (edited("model: default", "model: someone/not-cached-model").replace("task: sequence", "task: auto"), "task.name", 2, ["'auto' needs the model's config.json, and 'someone/not-cached-model' is neither a local directory nor in the Hub cache", "allowed: a task name: generation, image, multilabel"]),
    (edited("task: sequence", "task: qa"), "task.name", 2, ["task 'qa' explains models with a head ending in ForQuestionAnswering, but the model is BertForSequenceClassification"]),
])
def test_an_error_names_the_key_path_the_value_the_allowed_values_and_the_line(tmp_path, text, key_path, line, fragments):
    (tmp_path / "rows.jsonl").write_text('{"id": 1, "review": "good"}\n{"id": 2, "review": "bad"}\n')
    (tmp_path / "rows.txt").write_text("good\n")
    path = write(tmp_path, text)
    error = failure(path)
    assert error.key_path == key_path
    assert error.location == f"{path}:{line}"
    message = str(error)
    assert f"({path}:{line})" in message or f"{path}:{line}:" in message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


@NEEDS_RAY
def test_ray_options_are_checked_only_for_the_ray_engine(tmp_path):
    path = write(tmp_path, BASE + "engine: {name: ray, options: {actors: 2, num_cpus: 0.5, address: auto, runtime_env: {pip: [attrix]}}}\n")
    options = {"actors": 2, "num_cpus": 0.5, "address": "auto", "runtime_env": {"pip": ["attrix"]}}
    assert load_experiment(path).engine == EngineSpec("ray", options)
    assert load_experiment(path, ["engine.name=local"]).engine == EngineSpec("local", options)  # the local engine reads none
    error = failure(path, ["engine.options.num_gpus=-1"])
    assert str(error) == "engine.options.num_gpus (--set engine.options.num_gpus=-1): -1 is not allowed by engine 'ray'; allowed: a number >= 0"


def test_a_yaml_syntax_error_names_its_line(tmp_path):
    path = write(tmp_path, "model: default\ninputs:\n  - {text: what?, other\n")
    error = failure(path)
    assert error.location == f"{path}:3" and str(error).startswith(f"{path}:3: not valid YAML")


def test_a_config_that_is_not_a_mapping_is_refused(tmp_path):
    error = failure(write(tmp_path, "- model: default\n"))
    assert "a config is a mapping of keys" in str(error) and "got list" in str(error)


def test_a_missing_config_file_is_named(tmp_path):
    error = failure(tmp_path / "nowhere.yaml")
    assert f"cannot read the config {str(tmp_path / 'nowhere.yaml')!r}" in str(error)


# --- overrides ------------------------------------------------------------------------------------------------------


def test_overrides_are_read_as_yaml_and_applied_before_validation(tmp_path):
    path = write(tmp_path, BASE)
    experiment = load_experiment(path, [
        "backend.options.n_steps=16",
        "targets=[NEGATIVE, POSITIVE]",
        "task.options.baseline=unk",
        "renderers.1.options.indent=null",
        "seed=3",
    ])
    assert experiment.backend.options == {"n_steps": 16}
    assert experiment.targets == ["NEGATIVE", "POSITIVE"]
    assert experiment.task.options == {"baseline": "unk"}
    assert experiment.renderers[1] == Component("json", {"indent": None})
    assert experiment.seed == 3


def test_an_override_reaches_inside_a_shorthand_and_can_set_one(tmp_path, tiny_model_dirs):
    path = write(tmp_path, BASE)
    assert load_experiment(path, [f"model.path={tiny_model_dirs['sequence']}"]).model.path == str(tiny_model_dirs["sequence"])
    assert load_experiment(path, ["backend=ig"]).backend == Component("ig", {})
    with pytest.warns(ConfigWarning, match="'someone/model' is not in the Hub cache"):
        assert load_experiment(path, ["model=someone/model", "model.revision=v2"]).model == ModelSpec("someone/model", "v2")


@pytest.mark.parametrize("override, key_path, fragments", [
    ("backend.options.n_step=16", "backend.options.n_step", ["unknown key 'n_step' at backend.options (--set backend.options.n_step=16)", "did you mean 'n_steps'?"]),
    ("batch_size=-2", "batch_size", ["batch_size (--set batch_size=-2): -2 is not allowed; allowed: an integer >= 1"]),
    ("model.dtype=float64", "model.dtype", ["model.dtype (--set model.dtype=float64): 'float64' is not allowed; allowed: float32, float16, bfloat16"]),
    ("n_steps", "n_steps", ["--set n_steps: an override is key.path=value"]),
    ("seed=[1", "seed", ["--set seed=[1: the value '[1' is not valid YAML"]),
    ("batch_size.small=1", "batch_size.small", ["--set batch_size.small=1: batch_size is 8, which has no keys to set"]),
    ("renderers.5.name=html", "renderers.5.name", ["--set renderers.5.name=html: renderers is a list of 2; give an index below it"]),
])
def test_an_error_in_an_override_names_the_override(tmp_path, override, key_path, fragments):
    error = failure(write(tmp_path, BASE + "batch_size: 8\n"), [override])
    assert error.key_path == key_path and error.location == f"--set {override}"
    for fragment in fragments:
        assert fragment in str(error), f"{fragment!r} not in {str(error)!r}"


def test_an_override_replaces_what_it_sets_with_its_location(tmp_path):
    path = write(tmp_path, BASE)
    error = failure(path, ["backend.options={n_steps: 8, internal_batch_size: big}"])
    # the value came from the override, so it is the override that is named, not line 6 of the file
    assert error.key_path == "backend.options.internal_batch_size"
    assert error.location == "--set backend.options={n_steps: 8, internal_batch_size: big}"


# --- options a plugin declares -------------------------------------------------------------------------------------


class EvenStepsBackend(attrix.Backend):
    """A third-party-style backend that declares rules its type hints cannot say."""

    name = "test_even_steps"

    def __init__(self, *, n_steps: int = 4, mode: Literal["fast", "careful"] = "fast", scale: Optional[float] = None) -> None:
        self.n_steps, self.mode, self.scale = n_steps, mode, scale

    @classmethod
    def validate_options(cls, options: Mapping[str, Any]) -> None:
        if options.get("n_steps", 4) % 2:
            raise OptionError("n_steps", "an even number of steps")
        if options.get("mode") == "careful" and options.get("n_steps", 4) < 8:
            raise ValueError("mode 'careful' needs n_steps >= 8")
        if options.get("mode") == "careful" and "scale" not in options:
            raise OptionError("scale", "a number, which mode 'careful' needs")

    def attribute(self, problem):
        raise NotImplementedError("only validated in these tests")


@pytest.fixture
def even_steps():
    with plugged(EvenStepsBackend):
        yield


PLUGGED = """\
model: default
task: sequence
backend:
  name: test_even_steps
  options:
    n_steps: {n_steps}
    mode: {mode}{extra}
inputs: [good]
"""


def test_a_third_party_backend_accepts_what_its_schema_allows(tmp_path, even_steps):
    experiment = load_experiment(write(tmp_path, PLUGGED.format(n_steps=8, mode="careful", extra="\n    scale: 2")))
    assert experiment.backend == Component("test_even_steps", {"n_steps": 8, "mode": "careful", "scale": 2})


@pytest.mark.parametrize("n_steps, mode, key_path, line, fragments", [
    (3, "fast", "backend.options.n_steps", 6, ["3 is not allowed by backend 'test_even_steps'; allowed: an even number of steps"]),
    (4, "quick", "backend.options.mode", 7, ["'quick' is not allowed by backend 'test_even_steps'; allowed: fast, careful"]),
    (4, "careful", "backend.options", 5, ["backend 'test_even_steps' refuses these options: mode 'careful' needs n_steps >= 8"]),
    ("many", "fast", "backend.options.n_steps", 6, ["'many' is not allowed by backend 'test_even_steps'; allowed: an integer"]),
])
def test_a_third_party_backend_refuses_options_through_its_schema(tmp_path, even_steps, n_steps, mode, key_path, line, fragments):
    path = write(tmp_path, PLUGGED.format(n_steps=n_steps, mode=mode, extra=""))
    error = failure(path)
    assert error.key_path == key_path and error.location == f"{path}:{line}"
    for fragment in fragments:
        assert fragment in str(error), f"{fragment!r} not in {str(error)!r}"


def test_an_option_a_third_party_backend_needs_is_named_where_it_belongs(tmp_path, even_steps):
    path = write(tmp_path, PLUGGED.format(n_steps=8, mode="careful", extra=""))
    error = failure(path)
    assert error.key_path == "backend.options.scale" and error.location == f"{path}:5"
    assert "is not set, and backend 'test_even_steps' needs it; allowed: a number, which mode 'careful' needs" in str(error)


@pytest.mark.parametrize("options, error, message", [
    ({"n_steps": "many"}, attrix.InputTypeError, "option 'n_steps' of backend 'test_even_steps' must be an integer, got 'many'"),
    ({"n_steps": True}, attrix.InputTypeError, "option 'n_steps' of backend 'test_even_steps' must be an integer, got True"),
    ({"mode": "quick"}, attrix.UnknownNameError, "unknown mode 'quick'; valid: careful, fast"),
    ({"n_steps": 3}, attrix.InputError, "option 'n_steps' of backend 'test_even_steps' must be an even number of steps, got 3"),
    ({"n_steps": 4, "mode": "careful"}, attrix.InputError, "backend 'test_even_steps' refuses these options: mode 'careful' needs n_steps >= 8"),
    ({"n_steps": 8, "mode": "careful"}, attrix.InputError, "option 'scale' of backend 'test_even_steps' is not set, and it is needed; allowed: a number, which mode 'careful' needs"),
])
def test_python_gets_the_checks_a_config_gets(even_steps, options, error, message):
    with pytest.raises(error, match=f"^{re.escape(message)}$"):
        attrix.host.registry.create("backend", "test_even_steps", **options)


def test_the_explainer_checks_options_and_takes_numpy_numbers_for_numbers(even_steps):
    model, tokenizer = tiny_models.build("bert", seed=3)
    with pytest.raises(attrix.InputError, match="^option 'n_steps' of backend 'test_even_steps' must be an even number of steps, got np.int64"):
        attrix.Explainer(model, tokenizer, backend="test_even_steps", n_steps=np.int64(5))
    backend = attrix.Explainer(model, tokenizer, backend="test_even_steps", n_steps=np.int64(8), mode="careful", scale=np.float32(0.5)).backend
    assert (backend.n_steps, backend.mode, backend.scale) == (8, "careful", 0.5)


def test_an_unknown_option_of_a_third_party_backend_lists_its_options(tmp_path, even_steps):
    error = failure(write(tmp_path, PLUGGED.format(n_steps=4, mode="fast", extra="\n    scal: 2")))
    assert "unknown key 'scal' at backend.options" in str(error) and "mode, n_steps, scale" in str(error)
    assert "did you mean 'scale'?" in str(error)


# --- type hints ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value, hint, expected", [
    (3, int, True), (True, int, False), (3, float, True), (True, bool, True), (1, bool, False),
    (None, Optional[int], True), ("x", Optional[int], False),
    ("word", Literal["word", "position"], True), ("max", Literal["word", "position"], False), (1, Literal[True], False),
    (["a", "b"], Sequence[str], True), ("ab", Sequence[str], False), (["a", 1], Sequence[str], False),
    ([1, "a"], list[typing.Union[str, int]], True), (("a", "b"), tuple[str, str], True), (["a"], tuple[str, str], False),
    ({"a": "b"}, dict[str, str], True), ({"a": 1}, dict[str, str], False), (["a"], dict[str, str], False),
    (object(), Any, True), ("x", "SomeUnresolvedName", True),
])
def test_values_conform_to_type_hints_as_yaml_gives_them(value, hint, expected):
    assert conforms(value, hint) is expected


@pytest.mark.parametrize("hint, words", [
    (Optional[int], "an integer or null"),
    (Literal["sum", "mean"], "sum, mean"),
    (Sequence[str], "a list, each item a string"),
    (dict[str, float], "a mapping of strings to a number"),
    (bool, "true or false"),
])
def test_a_type_hint_is_described_in_words(hint, words):
    assert describe(hint) == words


# --- the shipped examples and the docs ---------------------------------------------------------------------------


# --- inputs a task declares ---------------------------------------------------------------------------------------


class CaptionedTask(attrix.Task):
    """A third-party-style task of two declared inputs, one of them an image path."""

    name = "test_captioned"
    heads = ("ForSequenceClassification",)
    inputs = (
        attrix.InputField("photo", str, "an image file", "image", relative_path=True),
        attrix.InputField("caption", str, "what the photo shows", "line", "a cat"),
    )

    @classmethod
    def auto_fits(cls, architecture, config) -> bool:
        return False

    def prepare(self, items, target):
        raise NotImplementedError("only validated in these tests")

    def explanations(self, prepared, attributions):
        raise NotImplementedError("only validated in these tests")


@pytest.fixture
def captioned():
    with plugged(CaptionedTask):
        yield CaptionedTask.name


def test_inline_paths_of_a_declared_path_input_are_read_from_the_config_directory(tmp_path, captioned):
    (tmp_path / "pics").mkdir()
    (tmp_path / "pics" / "cat.png").write_bytes(b"")
    path = write(tmp_path, f"task: {captioned}\ninputs:\n  - {{photo: pics/cat.png, caption: pics/cat.png}}\n  - {{photo: pics/none.png, caption: x}}\n")
    first, second = load_experiment(path).inputs.items
    assert first == {"photo": str((tmp_path / "pics" / "cat.png").resolve()), "caption": "pics/cat.png"}  # the caption is no path
    assert second == {"photo": "pics/none.png", "caption": "x"}  # naming no file: left for the run to report


@pytest.mark.parametrize("task, columns, fragments", [
    ("pairwise", ["text"], ["rows.jsonl has no column 'text_pair' for task 'pairwise'", "inputs.fields mapping text, text_pair to columns of rows.jsonl: text"]),
    ("test_captioned", ["photo", "text"], ["rows.jsonl has no column 'caption' for task 'test_captioned'", "mapping photo, caption to columns"]),
])
def test_a_data_file_needs_a_column_for_every_required_input(tmp_path, captioned, task, columns, fragments):
    (tmp_path / "rows.jsonl").write_text(json.dumps(dict.fromkeys(columns, "x")) + "\n")
    error = failure(write(tmp_path, f"task: {task}\ninputs: rows.jsonl\n"))
    assert error.key_path == "inputs.fields"
    for fragment in fragments:
        assert fragment in str(error), f"{fragment!r} not in {str(error)!r}"


def test_an_optional_input_needs_no_column_and_fields_may_name_only_declared_inputs(tmp_path):
    (tmp_path / "rows.jsonl").write_text('{"body": "we won"}\n')
    inputs = load_experiment(write(tmp_path, "task: zero_shot\ninputs: {path: rows.jsonl, fields: {text: body}}\n")).inputs
    assert inputs.fields == {"text": "body"} and inputs.format == "jsonl"
    error = failure(write(tmp_path, "task: zero_shot\ninputs: {path: rows.jsonl, fields: {labels: body}}\n"))
    assert error.key_path == "inputs.fields.labels"
    assert "not an input of task 'zero_shot'" in str(error) and "valid: candidate_labels, text" in str(error)


@pytest.fixture(scope="module")
def tiny_model_dirs(tmp_path_factory) -> dict[str, Path]:
    """A tiny local model for every task's head; only config.json is read to validate, the weights to explain."""
    root = tmp_path_factory.mktemp("tiny")
    nli, nli_tokenizer = tiny_nli.build_nli("bert", seed=3)
    nli.save_pretrained(root / "nli")
    nli_tokenizer.save_pretrained(root / "nli")
    return {
        "sequence": tiny_models.save("bert", root / "sequence", seed=1),
        "pairwise": tiny_models.save("bert", root / "pairwise", num_labels=1, seed=2),
        "multilabel": tiny_models.save("bert", root / "multilabel", seed=4, id2label={0: "joy", 1: "sadness", 2: "anger", 3: "neutral"}),
        "zero_shot": root / "nli",
        "qa": tiny_models.save("bert", root / "qa", head="qa", seed=5),
        "token": tiny_models.save("bert", root / "token", head="token", seed=6, id2label=dict(enumerate(["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]))),
        "image": tiny_vision.save("vit", root / "image", seed=7),
        "generation": tiny_lms.save_lm("llama", root / "generation", seed=8),
    }


def shipped(name: str, overrides: Sequence[str] = ()) -> Experiment:
    with importlib.resources.as_file(CONFIGS / name) as path:
        return load_experiment(path, overrides)


def test_there_is_an_example_config_for_every_builtin_task():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConfigWarning)
        tasks = {shipped(name).task.name for name in SHIPPED}
    assert tasks >= set(BUILTIN_TASKS)


@pytest.mark.parametrize("name", SHIPPED)
def test_a_shipped_config_is_valid_offline_saying_what_it_leaves_to_the_run(name):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        experiment = shipped(name)
    notes = [str(warning.message) for warning in caught if warning.category is ConfigWarning]
    if experiment.model.path in ("default", "default-lm"):
        assert notes == []
    else:  # a Hub model, not downloaded here: only its head is left unchecked
        assert notes == [f"{experiment.model.path!r} is not in the Hub cache: whether its head fits task {experiment.task.name!r} is checked when it runs"]


@pytest.mark.parametrize("name", SHIPPED)
def test_a_shipped_config_explains_its_first_input_with_a_tiny_model_of_its_head(name, tiny_model_dirs, one_torch_thread):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConfigWarning)
        first = shipped(name)
    model_dir = tiny_model_dirs[first.task.name]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConfigWarning)  # with a local model, its head is checked now
        experiment = shipped(name, [f"model.path={model_dir}", "backend.options={n_steps: 2}"])
    assert experiment.task.name == first.task.name
    explainer = attrix.Explainer(
        experiment.model.path, task=experiment.task.name, backend=experiment.backend.name, **experiment.task.options, **experiment.backend.options
    )
    item = experiment.inputs.items[0] if experiment.inputs.items else first_row(experiment.inputs)
    target = None if experiment.targets == "predicted" else experiment.targets
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tiny models truncate long texts
        explanation = explainer(item, target=target)
    assert explanation.method == experiment.backend.name
    for key, value in {**experiment.task.options, **experiment.backend.options}.items():
        assert json.loads(json.dumps(explanation.settings[key])) == value, key
    if isinstance(experiment.targets, list):
        assert [target.label for target in explanation.targets] == experiment.targets


def first_row(inputs: InputsSpec) -> str:
    with open(inputs.path, encoding="utf-8") as rows:
        return json.loads(next(rows))[inputs.fields["text"]]


def test_the_sequence_example_reads_200_varied_reviews_with_unique_ids():
    experiment = shipped("sequence.yaml")
    assert experiment.model.path == "default" and experiment.inputs.format == "jsonl"
    rows = [json.loads(line) for line in Path(experiment.inputs.path).read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 200
    assert len({row[experiment.inputs.id_field] for row in rows}) == 200
    texts = [row[experiment.inputs.fields["text"]] for row in rows]
    assert all(isinstance(text, str) and text.strip() for text in texts)
    assert len(set(texts)) == 200 and len({text.split()[0] for text in texts}) >= 5


def dotted_keys(cls: type, prefix: str = "") -> list[str]:
    keys = []
    for field in dataclasses.fields(cls):
        hint = typing.get_type_hints(cls)[field.name]
        keys.append(prefix + field.name)
        if dataclasses.is_dataclass(hint):
            keys += dotted_keys(hint, f"{prefix}{field.name}.")
    return keys


def test_the_docs_document_every_key_of_the_schema():
    docs = DOCS.read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z_.]+)`", docs, flags=re.MULTILINE))
    assert set(dotted_keys(Experiment)) | {"renderers.name", "renderers.options", "task.name", "task.options", "backend.name", "backend.options"} <= documented


def test_the_docs_example_is_a_valid_config(tmp_path):
    docs = DOCS.read_text(encoding="utf-8")
    example = re.search(r"```yaml\n(# the whole schema.*?)```", docs, flags=re.DOTALL)
    assert example, "docs/configs.md has a complete example starting '# the whole schema'"
    (tmp_path / "reviews.jsonl").write_text('{"id": "a", "review": "good"}\n')
    experiment = parse_experiment(example.group(1), "docs/configs.md", directory=tmp_path)
    assert experiment.task.name == "sequence" and experiment.renderers
