"""Options and steps shared by the integrated-gradients backends."""

from __future__ import annotations

from captum.attr._utils.approximation_methods import SUPPORTED_METHODS, approximation_parameters

from attrix.errors import InputError, UnknownNameError


def integration_steps(method: str, n_steps: int) -> tuple[list[float], list[float]]:
    """captum's points and weights for ``n_steps`` of ``method`` (``gausslegendre``, ``riemann_trapezoid``, ...)."""
    step_sizes, alphas = approximation_parameters(method)
    return list(alphas(n_steps)), list(step_sizes(n_steps))


def check_integration_options(method: str, n_steps: int, internal_batch_size: int | None) -> None:
    """Reject an unknown method or a step count or chunk size that is not a positive integer."""
    if method not in SUPPORTED_METHODS:
        raise UnknownNameError("integration method", method, SUPPORTED_METHODS)
    if not isinstance(n_steps, int) or isinstance(n_steps, bool) or n_steps < 1:
        raise InputError(f"n_steps must be a positive integer, got {n_steps!r}")
    if internal_batch_size is not None and (not isinstance(internal_batch_size, int) or internal_batch_size < 1):
        raise InputError(f"internal_batch_size must be a positive integer or None, got {internal_batch_size!r}")
