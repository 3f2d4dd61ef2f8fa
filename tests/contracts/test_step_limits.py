"""``n_steps`` is bounded for Gauss–Legendre, whose points numpy finds in O(n³): 10000 steps would hang for minutes."""

from __future__ import annotations

import numpy
import pytest

import attrix
from attrix.backends.layer_ig import LayerIntegratedGradientsBackend
from attrix.backends.path_integral import STEP_LIMITS
from attrix.contracts.options import OptionError, check_options
from attrix.errors import InputError
from attrix.integration.rules import integration_steps

LIMIT = STEP_LIMITS["gausslegendre"]
MESSAGE = f"option 'n_steps' of backend '{{name}}' must be at most {LIMIT} steps with method='gausslegendre'"


def test_the_limit_is_1024_and_its_points_are_a_valid_rule():
    """How long the points take is measured in benchmarks, not here; here, that the largest rule allowed is sound."""
    assert LIMIT == 1024
    alphas, weights = integration_steps("gausslegendre", LIMIT)
    assert len(alphas) == len(weights) == LIMIT
    assert all(0 < alpha < 1 for alpha in alphas) and alphas == sorted(alphas)
    assert sum(weights) == pytest.approx(1.0, abs=1e-9)
    assert sum(weight * alpha**3 for alpha, weight in zip(alphas, weights)) == pytest.approx(0.25, abs=1e-9)


@pytest.mark.parametrize("name", ["layer_ig", "ig"])
@pytest.mark.parametrize("options", [{"n_steps": 10_000}, {"n_steps": LIMIT + 1, "method": "gausslegendre"}])
def test_too_many_gauss_legendre_steps_are_refused_at_once_naming_the_limit(name, options, monkeypatch):
    def computed(*arguments):
        raise AssertionError("the Gauss-Legendre points were computed before the refusal")

    monkeypatch.setattr(numpy.polynomial.legendre, "leggauss", computed)
    with pytest.raises(InputError, match=f"at most {LIMIT} steps with method='gausslegendre'.*n_steps='auto', or a riemann method"):
        attrix.create("backend", name, **options)


def test_the_message_names_the_backend_and_the_value():
    with pytest.raises(InputError, match=MESSAGE.format(name="layer_ig") + r".*, got 10000$"):
        attrix.create("backend", "layer_ig", n_steps=10_000)


@pytest.mark.parametrize("name", ["layer_ig", "ig"])
@pytest.mark.parametrize("options", [{"n_steps": LIMIT}, {"n_steps": 10_000, "method": "riemann_trapezoid"},
                                     {"n_steps": "auto"}, {"n_steps": "auto", "max_steps": 10_000}])
def test_the_limit_leaves_other_settings_alone(name, options):
    backend = attrix.create("backend", name, **options)
    assert backend.n_steps == options["n_steps"]


def test_configs_see_the_rule_before_building_anything():
    with pytest.raises(OptionError, match=f"at most {LIMIT} steps"):
        check_options(LayerIntegratedGradientsBackend, {"n_steps": LIMIT + 1})
    check_options(LayerIntegratedGradientsBackend, {"n_steps": LIMIT + 1, "method": "riemann_left"})


def test_the_explainer_refuses_too_many_steps():
    from helpers.tiny_models import build

    model, tokenizer = build("bert", num_labels=2, seed=1)
    with pytest.raises(InputError, match=f"at most {LIMIT} steps"):
        attrix.Explainer(model, tokenizer, n_steps=5000)
