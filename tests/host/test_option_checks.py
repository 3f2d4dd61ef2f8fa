"""Constraints declared with an option, ``Annotated`` with ``annotated_types``: checked once, by the registry, for
Python (``create``, the ``Explainer``), YAML configs and the command line alike, the built-in plugins' and a third
party's, with errors naming the option, the value and the bound."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Annotated, Any, Literal, Mapping, Optional, Sequence

import pytest
from annotated_types import Ge, Gt, Interval, Le, Len, Lt, MaxLen, MultipleOf

import attrix
from attrix.cli import main
from attrix.contracts.hints import choices, conforms, describe
from attrix.contracts.options import OptionError, OptionTypeError, check_value
from attrix.experiments.config import ConfigError, load_experiment
from attrix.experiments.executors import check_ray_options
from helpers.plugins import plugged
from helpers.tiny_models import build, save

# --- the hints: checked and said in words --------------------------------------------------------------------------


@pytest.mark.parametrize("hint, allowed, refused, words", [
    (Annotated[int, Ge(1)], [1, 7], [0, -3, 1.5, True, "2"], "an integer >= 1"),
    (Annotated[int, Gt(0), Le(10)], [1, 10], [0, 11], "an integer > 0 and <= 10"),
    (Annotated[float, Gt(0), Lt(1)], [0.5, 1e-9], [0, 1, 1.5, -0.1, float("nan")], "a number > 0 and < 1"),
    (Annotated[float, Interval(ge=0, le=1)], [0, 1, 0.25], [-0.01, 1.01], "a number >= 0 and <= 1"),
    (Annotated[list[str], Len(1, 3)], [["a"], ["a", "b", "c"]], [[], ["a", "b", "c", "d"], [1]], "a list, each item a string, with 1 to 3 items"),
    (Annotated[str, Len(1)], ["x"], [""], "a string with at least 1 character"),
    (Annotated[list[int], MaxLen(1)], [[], [4]], [[1, 2]], "a list, each item an integer, with at most 1 item"),
    (Annotated[int, MultipleOf(2)], [0, 4], [3], "an integer that is a multiple of 2"),
    (Sequence[Annotated[int, Ge(0)]], [[], [0, 3]], [[-1], [0, -2]], "a list, each item an integer >= 0"),
    (Annotated[int, Ge(1)] | Literal["auto"], [1, "auto"], [0, "sometimes"], "an integer >= 1 or auto"),
    (Optional[Annotated[int, Ge(20)]], [None, 20], [19], "an integer >= 20 or null"),
    (Annotated[int, "a note that is no constraint"], [-5], ["x"], "an integer"),
])
def test_an_annotated_hint_is_checked_and_described(hint, allowed, refused, words):
    assert [conforms(value, hint) for value in allowed] == [True] * len(allowed)
    assert [conforms(value, hint) for value in refused] == [False] * len(refused)
    assert describe(hint) == words


def test_the_constraints_can_be_left_out_to_tell_a_wrong_type_from_a_wrong_value():
    hint = Annotated[int, Ge(1)] | None
    assert conforms(0, hint, constraints=False) and not conforms("0", hint, constraints=False)
    with pytest.raises(OptionError) as raised:
        check_value("n", 0, hint)
    assert type(raised.value) is OptionError and raised.value.allowed == "an integer >= 1 or null"
    with pytest.raises(OptionTypeError):
        check_value("n", "0", hint)


def test_the_choices_of_an_annotated_literal_are_its_values():
    assert choices(Annotated[Literal["a", "b"], "a note"]) == ("a", "b")
    assert choices(Annotated[Literal["a", "b"], "a note"] | None) == ("a", "b", None)
    assert choices(Annotated[int, Ge(1)] | Literal["auto"]) is None


# --- a third party declares constraints, and core checks them with no change -----------------------------------------


class CountedBackend(attrix.Backend):
    """A third-party-style backend declaring its bounds with ``annotated_types``; core knows nothing of it."""

    name = "test_counted"

    def __init__(
        self,
        *,
        samples: Annotated[int, Ge(2)] = 4,
        noise: Annotated[float, Gt(0)] = 0.5,
        share: Annotated[float, Interval(ge=0, le=1)] = 0.5,
        layers: Annotated[list[str], Len(1, 2)] = ("embeddings",),
        mode: Literal["fast", "careful"] = "fast",
    ) -> None:
        self.samples, self.noise, self.share, self.layers, self.mode = samples, noise, share, list(layers), mode

    @classmethod
    def validate_options(cls, options: Mapping[str, Any]) -> None:
        if options.get("mode") == "careful" and options.get("samples", 4) < 8:
            raise ValueError("mode 'careful' needs samples >= 8")

    def attribute(self, problem):
        raise NotImplementedError("only its options are checked in these tests")


@pytest.fixture
def counted():
    with plugged(CountedBackend):
        yield


REFUSALS = [
    ({"samples": 1}, attrix.InputError, "option 'samples' of backend 'test_counted' must be an integer >= 2, got 1"),
    ({"noise": 0}, attrix.InputError, "option 'noise' of backend 'test_counted' must be a number > 0, got 0"),
    ({"share": 1.5}, attrix.InputError, "option 'share' of backend 'test_counted' must be a number >= 0 and <= 1, got 1.5"),
    ({"layers": []}, attrix.InputError, "option 'layers' of backend 'test_counted' must be a list, each item a string, with 1 to 2 items, got []"),
    ({"samples": "many"}, attrix.InputTypeError, "option 'samples' of backend 'test_counted' must be an integer >= 2, got 'many'"),
    ({"mode": "quick"}, attrix.UnknownNameError, "unknown mode 'quick'; valid: careful, fast"),
    ({"mode": "careful"}, attrix.InputError, "backend 'test_counted' refuses these options: mode 'careful' needs samples >= 8"),
]


@pytest.mark.parametrize("options, error, message", REFUSALS)
def test_python_create_refuses_a_value_out_of_its_declared_bounds(counted, options, error, message):
    with pytest.raises(error, match=f"^{re.escape(message)}$") as raised:
        attrix.create("backend", "test_counted", **options)
    if error is attrix.InputError:  # a value of the right type out of bounds is no type error
        assert not isinstance(raised.value, TypeError)


def test_values_within_the_bounds_are_taken(counted):
    backend = attrix.create("backend", "test_counted", samples=2, noise=1e-3, share=1, layers=["a", "b"], mode="fast")
    assert (backend.samples, backend.noise, backend.share, backend.layers) == (2, 1e-3, 1, ["a", "b"])


def test_the_explainer_routes_and_checks_a_third_party_backends_options(counted):
    model, tokenizer = build("bert", seed=3)
    with pytest.raises(attrix.InputError, match="^option 'samples' of backend 'test_counted' must be an integer >= 2, got 1$"):
        attrix.Explainer(model, tokenizer, backend="test_counted", samples=1)
    assert attrix.Explainer(model, tokenizer, backend="test_counted", samples=9, mode="careful").backend.samples == 9


def test_the_explainers_batch_size_is_checked_against_its_annotated_hint():
    model, tokenizer = build("bert", seed=3)
    for bad, error in ((0, attrix.InputError), (-2, attrix.InputError), (2.5, attrix.InputTypeError), (True, attrix.InputTypeError)):
        with pytest.raises(error, match=f"^option 'batch_size' of the Explainer must be an integer >= 1, got {re.escape(repr(bad))}$"):
            attrix.Explainer(model, tokenizer, batch_size=bad)
    assert attrix.Explainer(model, tokenizer, batch_size=1).batch_size == 1


@pytest.mark.parametrize("options, message", [
    ({"n_steps": 0}, "option 'n_steps' of backend 'layer_ig' must be an integer >= 1 or auto, got 0"),
    ({"tolerance": 1}, "option 'tolerance' of backend 'layer_ig' must be a number > 0 and < 1, got 1"),
    ({"internal_batch_size": 0}, "option 'internal_batch_size' of backend 'layer_ig' must be an integer >= 1 or null, got 0"),
])
def test_the_builtin_backends_declare_their_bounds_the_same_way(options, message):
    with pytest.raises(attrix.InputError, match=f"^{re.escape(message)}$"):
        attrix.create("backend", "layer_ig", **options)


# --- a YAML config and the command line get the same checks -------------------------------------------------------

CONFIG = """\
model: default
task: sequence
backend:
  name: test_counted
  options:
    samples: {samples}
    share: {share}
inputs: [good]
"""


def config(tmp_path: Path, samples: object = 4, share: object = 0.5) -> Path:
    path = tmp_path / "counted.yaml"
    path.write_text(textwrap.dedent(CONFIG.format(samples=samples, share=share)), encoding="utf-8")
    return path


@pytest.mark.parametrize("samples, share, key_path, line, fragment", [
    (1, 0.5, "backend.options.samples", 6, "1 is not allowed by backend 'test_counted'; allowed: an integer >= 2"),
    (4, 2, "backend.options.share", 7, "2 is not allowed by backend 'test_counted'; allowed: a number >= 0 and <= 1"),
    ("many", 0.5, "backend.options.samples", 6, "'many' is not allowed by backend 'test_counted'; allowed: an integer >= 2"),
])
def test_a_config_refuses_a_value_out_of_its_declared_bounds_at_its_key(counted, tmp_path, samples, share, key_path, line, fragment):
    path = config(tmp_path, samples, share)
    with pytest.raises(ConfigError) as raised:
        load_experiment(path)
    assert raised.value.key_path == key_path and raised.value.location == f"{path}:{line}"
    assert fragment in str(raised.value)
    assert load_experiment(config(tmp_path, 2, 1)).backend.options == {"samples": 2, "share": 1}


def test_a_config_refuses_a_builtin_bound_and_its_batch_size(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("model: default\ntask: sequence\nbackend: {name: layer_ig, options: {tolerance: 0}}\ninputs: [good]\n")
    with pytest.raises(ConfigError, match=re.escape("0 is not allowed by backend 'layer_ig'; allowed: a number > 0 and < 1")):
        load_experiment(path)
    with pytest.raises(ConfigError, match=re.escape("0 is not allowed; allowed: an integer >= 1")):
        load_experiment(path, ["backend.options={}", "batch_size=0"])


def test_attrix_validate_refuses_a_value_out_of_its_declared_bounds(counted, tmp_path, capsys):
    path = config(tmp_path, samples=1)
    assert main(["validate", str(path)]) == 1
    assert f"error: backend.options.samples ({path}:6): 1 is not allowed by backend 'test_counted'; allowed: an integer >= 2" in capsys.readouterr().err
    assert main(["validate", str(config(tmp_path)), "--set", "backend.options.share=-1"]) == 1
    assert "-1 is not allowed by backend 'test_counted'; allowed: a number >= 0 and <= 1" in capsys.readouterr().err


def test_attrix_explain_refuses_a_value_out_of_its_declared_bounds(tmp_path, capsys):
    model_dir = save("bert", tmp_path / "bert", seed=11)
    assert main(["explain", "--model", str(model_dir), "--n-steps", "0", "fine"]) == 1
    assert "error: option 'n_steps' of backend 'layer_ig' must be an integer >= 1 or auto, got 0" in capsys.readouterr().err


# --- the Ray engine's options: a schema of the configs, read by the engine -----------------------------------------


@pytest.mark.parametrize("options, allowed", [
    ({"actors": 0}, "an integer >= 1"),
    ({"num_cpus": -0.5}, "a number >= 0"),
    ({"num_gpus": "all"}, "a number >= 0"),
])
def test_the_ray_options_are_checked_by_their_annotated_hints(options, allowed):
    with pytest.raises(OptionError) as raised:
        check_ray_options(options)
    assert (raised.value.option, raised.value.allowed) == (*options, allowed)
    check_ray_options({"actors": 2, "num_cpus": 0, "num_gpus": 0.5, "address": None, "runtime_env": {"pip": ["attrix"]}})
    with pytest.raises(attrix.UnknownNameError, match="unknown option 'workers' for engine 'ray'; valid: actors, address"):
        check_ray_options({"workers": 2})


def test_a_plugin_built_directly_checks_its_options_as_the_registry_does():
    """The checks run as the class is built, so constructing a plugin class by hand refuses what create refuses."""
    from attrix.backends.path_integral import PathIntegralBackend
    from attrix.renderers.png import PngRenderer

    for build in (lambda: attrix.create("backend", "layer_ig", tolerance=1.5), lambda: PathIntegralBackend(tolerance=1.5)):
        with pytest.raises(attrix.InputError, match="option 'tolerance' of backend .* must be a number > 0 and < 1, got 1.5"):
            build()
    with pytest.raises(attrix.InputError, match="option 'top_k' of renderer 'png' must be an integer >= 1, got 0"):
        PngRenderer(top_k=0)
