"""The base class of metrics, what they measure with, and what they return."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from attrix.contracts.backend import Backend
from attrix.contracts.options import CheckedOptions
from attrix.contracts.problem import Problem


class FeatureScorer(ABC):
    """Scores a problem's inputs with some of their features removed: what the task's ``Problem`` provides a metric.

    Features are the removable ones of one grouping (``Problem.features``), numbered by column ``0 … n - 1``; rows
    with fewer features than ``n`` mark the rest absent in ``present``.
    """

    present: torch.Tensor
    """Which feature columns each row has, ``[batch, n]`` (bool)."""
    scores: torch.Tensor
    """Every target's score at the input, f(x): ``[batch, n_targets]``."""
    baseline_scores: torch.Tensor
    """Every target's score with every removable feature removed: ``[batch, n_targets]``."""
    problem: Problem
    """The problem the attributions were made for: its inputs, baselines and forward."""
    backend: Backend | None = None
    """The backend that made the attributions, for metrics that explain again (None when unknown)."""
    rationales: torch.Tensor | None = None
    """Human rationales per feature column, ``[batch, n]`` (1.0 for a feature a person marked, 0.0 for one not
    marked, NaN on every column of an input without a rationale); None when no input has one."""

    @abstractmethod
    def score(self, kept: torch.Tensor) -> torch.Tensor:
        """Each target's score with only the ``kept`` features, ``[..., batch, n_targets, n]`` (bool; the target axis
        may be 1 for a removal shared by every target): ``[..., batch, n_targets]``, all variants in shared passes."""


@dataclass
class Measured:
    """A metric's values per target, ``[batch, n_targets]``, and its curves when it draws some."""

    values: torch.Tensor
    curves: torch.Tensor | None = None
    """``[batch, n_targets, n_points]``: the score at each point of the metric's removal schedule."""


class Metric(CheckedOptions, ABC):
    """A measure of how faithful attributions are, per target; options are keyword-only constructor arguments."""

    plugin_kind: ClassVar[str] = "metric"
    name: ClassVar[str]
    higher_is_better: ClassVar[bool]
    ranks: ClassVar[bool] = True
    """Whether the metric reads attributions only through the ranking of features, so that a random ranking is a
    meaningful reference for it."""
    needs_rationales: ClassVar[bool] = False
    """Whether the metric compares attributions with human rationales (``FeatureScorer.rationales``)."""

    @classmethod
    def unfit(cls, backend: type[Backend]) -> str | None:
        """Why the metric cannot measure ``backend``'s attributions, or None when it can (the default)."""
        return None

    def settings(self) -> dict[str, Any]:
        """The options this metric runs with."""
        return dict(vars(self))

    @abstractmethod
    def measure(self, attributions: torch.Tensor, scorer: FeatureScorer) -> Measured:
        """The metric of ``attributions`` per feature column, ``[batch, n_targets, n]`` (absent columns hold 0)."""
