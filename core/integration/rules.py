"""The integration rules: where on the path the steps fall and what each weighs, as captum defines them.

captum keeps them in a private module (``captum.attr._utils``); this is the only place attrix imports it, and
tests/integration/test_rules.py pins what attrix relies on, so a captum release that moves it fails there first.
"""

from __future__ import annotations

from captum.attr._utils.approximation_methods import SUPPORTED_METHODS, approximation_parameters

METHODS: tuple[str, ...] = tuple(SUPPORTED_METHODS)
"""The integration methods: ``gausslegendre``, ``riemann_left``, ``riemann_right``, ``riemann_middle``, ``riemann_trapezoid``."""


def integration_steps(method: str, n_steps: int) -> tuple[list[float], list[float]]:
    """captum's points (alphas in [0, 1]) and weights for ``n_steps`` of ``method``."""
    step_sizes, alphas = approximation_parameters(method)
    return list(alphas(n_steps)), list(step_sizes(n_steps))
