"""What the integrated-gradients backends share: their options, fixed or adaptive steps, and the shared-forward path."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ContextManager, Literal

import torch
from annotated_types import Ge, Gt, Lt

from attrix.backends.gradient import GradientBackend
from attrix.contracts.backend import Attributions
from attrix.contracts.options import OptionError
from attrix.contracts.points import Endpoints, Point
from attrix.contracts.problem import Problem
from attrix.integration.adaptive import FIRST_STEPS, adaptive_attributions
from attrix.integration.chunking import Chunking
from attrix.integration.path import path_attributions
from attrix.integration.rules import METHODS, integration_steps

AUTOCAST = {"bf16": torch.bfloat16, "bfloat16": torch.bfloat16, "fp16": torch.float16, "float16": torch.float16}
Method = Literal[METHODS]
"""The integration rules ``method`` may name: captum's, as attrix.integration.rules lists them."""
Autocast = Literal[tuple(AUTOCAST)]
"""The lower precisions ``autocast`` may name."""
ADAPTIVE_OPTIONS = ("max_steps",)
STEP_LIMITS: dict[str, int] = {"gausslegendre": 1024}
"""The most ``n_steps`` a method allows, where its points cost time of their own: numpy finds the Gauss–Legendre
nodes as the eigenvalues of an n×n matrix, O(n³): 0.2 s for 1024 points, 1 s for 2048, 7 s for 4096 and minutes
for 10000 (measured on 2 CPU cores; tests/contracts/test_step_limits.py). The Riemann rules' points are free."""
CPU_MEMORY_BUDGET = 32 << 20
"""Bytes the path's activations may take at once on the CPU when ``internal_batch_size`` is not given: small
chunks stay in the CPU's caches, so they cost no time (benchmarks/RESULTS.md) and keep the peak memory low."""


def default_memory_budget(device: torch.device) -> int:
    """Bytes for the path's activations: half the free memory of a GPU, ``CPU_MEMORY_BUDGET`` on the CPU."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return free // 2
    return CPU_MEMORY_BUDGET


def check_steps(options: Mapping[str, Any]) -> None:
    """Refuse a number of steps over the ``STEP_LIMITS`` of the method (``gausslegendre`` when not given)."""
    method, n_steps = options.get("method", "gausslegendre"), options.get("n_steps")
    limit = STEP_LIMITS.get(method)
    if limit is not None and isinstance(n_steps, int) and n_steps > limit:
        raise OptionError(
            "n_steps",
            f"at most {limit} steps with method={method!r} (numpy takes seconds to minutes to find more {method} "
            f"points); use fewer steps, n_steps='auto', or a riemann method",
        )


class PathIntegralBackend(GradientBackend):
    """Integrated gradients from the baseline to the input, at some point of the model.

    ``n_steps`` is ``"auto"`` (the default) or a number of steps. With ``"auto"`` the path is cut into segments, and
    the segments whose own completeness error is too large are halved, until each target's relative completeness
    error |delta| / |f(x) − f(baseline)| is at most ``tolerance`` or it took ``max_steps`` gradient evaluations (see
    attrix.integration.adaptive; its explanation's settings record ``steps_used``). Either way, a target whose error
    is above ``tolerance`` is marked as not converged (``TargetAttribution.converged``). Without ``internal_batch_size``, the
    steps are chunked to fit ``memory_budget`` bytes (default: 32 MiB on the CPU, half the free GPU memory).
    ``autocast="bf16" | "fp16"`` runs the path's forward passes under torch.autocast; f(x) and f(baseline) are
    not, so the delta shows what the lower precision costs.
    """

    def __init__(
        self,
        *,
        n_steps: Annotated[int, Ge(1)] | Literal["auto"] = "auto",
        method: Method = "gausslegendre",
        internal_batch_size: Annotated[int, Ge(1)] | None = None,
        tolerance: Annotated[float, Gt(0), Lt(1)] = 0.01,
        max_steps: Annotated[int, Ge(FIRST_STEPS)] = 128,
        memory_budget: Annotated[int, Ge(1)] | None = None,
        autocast: Autocast | None = None,
    ) -> None:
        self.n_steps, self.method, self.internal_batch_size = n_steps, method, internal_batch_size
        self.tolerance, self.max_steps = float(tolerance), max_steps
        self.memory_budget, self.autocast = memory_budget, autocast

    @classmethod
    def validate_options(cls, options: Mapping[str, Any]) -> None:
        """``n_steps`` within the ``STEP_LIMITS`` of its ``method``."""
        check_steps(options)

    def settings(self) -> dict[str, Any]:
        """The options in force; ``max_steps`` only with ``n_steps="auto"``."""
        settings = super().settings()
        if self.n_steps != "auto":
            for key in ADAPTIVE_OPTIONS:
                del settings[key]
        return settings

    def completeness_tolerance(self) -> float | None:
        """``tolerance``: what ``n_steps="auto"`` refines to, and what any number of steps is judged by."""
        return self.tolerance

    def precision(self, device: torch.device) -> ContextManager[object] | None:
        """The autocast context the path runs under, if asked for."""
        return None if self.autocast is None else torch.autocast(device.type, dtype=AUTOCAST[self.autocast])

    def needs_baseline_scores(self) -> bool:
        """Adaptive steps take f(baseline) from their first points (α = 0), unless those run under autocast."""
        return self.n_steps != "auto" or self.autocast is not None

    def integrate(self, problem: Problem, point: Point, ends: Endpoints) -> Attributions:
        device = ends.end.device
        chunking = Chunking(
            self.internal_batch_size, self.memory_budget or default_memory_budget(device), weight_floor=self.memory_budget is None
        )
        if self.n_steps == "auto":
            return adaptive_attributions(point, problem, ends, self.tolerance, self.max_steps, chunking, self.precision(device))
        alphas, weights = integration_steps(self.method, self.n_steps)
        values = path_attributions(point, problem, ends.end, ends.start, alphas, weights, chunking, self.precision(device))
        return Attributions.bounded(values, ends)
