"""What attrix relies on in captum's private integration rules (attrix.integration.rules): every method, its points
on [0, 1], and the weights captum gives them (attrix must equal captum, quirks included)."""

from __future__ import annotations

import pytest

from attrix.integration.rules import METHODS, integration_steps

N = 10


def test_every_method_attrix_documents_is_there():
    assert set(METHODS) == {"riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid", "gausslegendre"}


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("n_steps", [2, 7, 50])
def test_one_point_and_one_weight_per_step_on_the_path(method, n_steps):
    alphas, weights = integration_steps(method, n_steps)
    assert len(alphas) == len(weights) == n_steps
    assert all(0 <= alpha <= 1 for alpha in alphas) and alphas == sorted(alphas)
    assert all(weight > 0 for weight in weights)


@pytest.mark.parametrize(
    "method, first, line",
    [("riemann_left", 0.0, 0.45), ("riemann_right", 0.1, 0.55), ("riemann_middle", 0.05, 0.5), ("gausslegendre", None, 0.5)],
)
def test_the_rules_weigh_the_whole_path_and_integrate_a_line_as_their_definitions_say(method, first, line):
    alphas, weights = integration_steps(method, N)
    assert sum(weights) == pytest.approx(1.0, abs=1e-9)
    assert sum(w * a for a, w in zip(alphas, weights)) == pytest.approx(line, abs=1e-6)
    if first is not None:
        assert alphas[0] == pytest.approx(first, abs=1e-6)


def test_the_trapezoid_rule_keeps_captums_step_of_one_over_n_with_halved_ends():
    """captum's trapezoid spaces n points evenly from 0 to 1 but weighs them 1/n (ends halved): (n − 1)/n in all."""
    alphas, weights = integration_steps("riemann_trapezoid", N)
    assert alphas == pytest.approx([k / (N - 1) for k in range(N)], abs=1e-6)
    assert weights == pytest.approx([0.5 / N, *[1 / N] * (N - 2), 0.5 / N])


def test_gauss_legendre_integrates_a_high_polynomial_exactly():
    """n Gauss–Legendre points integrate polynomials up to degree 2n − 1 exactly: a^9 on [0, 1] with 5 points."""
    alphas, weights = integration_steps("gausslegendre", 5)
    assert sum(w * a**9 for a, w in zip(alphas, weights)) == pytest.approx(0.1, abs=1e-9)
