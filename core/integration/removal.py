"""Scoring a problem's inputs with features removed: the removable features of one grouping, attributions summed per
feature, and every removal variant of every input run through the model in shared, chunked passes."""

from __future__ import annotations

import torch

from attrix.contracts.metric import FeatureScorer
from attrix.contracts.problem import Problem
from attrix.errors import InputError, UnknownNameError
from attrix.integration.points import InputPoint

VALUES_PER_PASS = 1 << 24
"""At most this many values of the model's continuous input per pass (64 MiB in float32): long inputs run fewer rows
at a time than ``rows_per_pass``."""
DEFAULT_FEATURES = ("word", "patch")
"""The grouping used when none is asked for: the first of these the task gives (words of text, patches of images)."""


def grouping(problem: Problem, name: str | None) -> str:
    """The name of the feature grouping ``name`` asks for (the default one when None); an error lists the task's
    groupings when it has no such one."""
    if not problem.features:
        raise InputError("this task gives no features to remove; removing features needs Problem.features")
    if name is None:
        name = next((default for default in DEFAULT_FEATURES if default in problem.features), None)
        if name is None:
            raise InputError(f"choose the features to remove with features=...; this task gives: {', '.join(problem.features)}")
    if name not in problem.features:
        raise UnknownNameError("features", name, problem.features, "for this task")
    return name


def feature_ids(problem: Problem, name: str | None) -> torch.Tensor:
    """The feature ids of grouping ``name`` (or the default one), ``[batch, ...]``."""
    return problem.features[grouping(problem, name)].contiguous()


def first_removable(ids: torch.Tensor, end: torch.Tensor, start: torch.Tensor) -> int:
    """The first feature id worth removing: 1 where the baseline equals the input on all of feature 0 (the special
    tokens and padding of text, which removing would not change), else 0 (a patch or pixel of an image)."""
    return 0 if ((end != start) & (ids == 0)).any() else 1


def kept_elements(kept: torch.Tensor, ids: torch.Tensor, first: int) -> torch.Tensor:
    """Which elements are kept, ``[n, *ids.shape[1:]]``, given which of features ``first``, ``first + 1``, … are
    (``kept``, ``[n, n_features]``, 1 or 0) and each variant's ids (``ids``, ``[n, ...]``): the features before
    ``first`` always are."""
    with_fixed = torch.cat([torch.ones_like(kept[:, :1]).expand(-1, first), kept], 1)
    return with_fixed.gather(1, ids.flatten(1)).view(ids.shape)


def per_feature(values: torch.Tensor, ids: torch.Tensor, first: int) -> torch.Tensor:
    """Attributions ``[batch, n_targets, *value]`` summed per feature ``first``, ``first + 1``, …:
    ``[batch, n_targets, n]``."""
    batch, n_targets = values.shape[:2]
    shared = [axis + 1 for axis in range(1, ids.dim()) if ids.shape[axis] == 1 < values.shape[axis + 1]]
    summed = values.sum(shared, keepdim=True) if shared else values
    flat = ids.flatten(1).unsqueeze(1).expand(batch, n_targets, -1)
    table = summed.new_zeros(batch, n_targets, int(ids.max()) + 1)
    table.scatter_add_(2, flat, summed.reshape(batch, n_targets, -1))
    return table[..., first:]


class RemovalScorer(FeatureScorer):
    """Removes features by putting the task's baseline in their place, at the model's continuous input (input
    embeddings, pixels): every distinct variant of an input is run once, ``rows_per_pass`` at a time (fewer where
    that would pass ``VALUES_PER_PASS``), and each target is read from the variant made for it."""

    def __init__(self, problem: Problem, ids: torch.Tensor, rows_per_pass: int, removed: Problem | None = None) -> None:
        """``removed``, when given, is ``problem`` with the baselines that take a removed feature's place."""
        self.problem, self.ids, self.rows_per_pass = problem, ids, rows_per_pass
        self.end, self.start = InputPoint().values(removed or problem)
        self.first = first_removable(ids, self.end, self.start)
        count = int(ids.max()) + 1 - self.first
        columns = torch.arange(self.first, self.first + count, device=ids.device)
        self.present = (ids.flatten(1).unsqueeze(-1) == columns).any(1)
        ends = self.score(torch.stack([self.present, torch.zeros_like(self.present)]).unsqueeze(2))
        self.scores, self.baseline_scores = ends[0], ends[1]

    def score(self, kept: torch.Tensor) -> torch.Tensor:
        leading, (batch, shared, count) = kept.shape[:-3], kept.shape[-3:]
        kept = (kept.reshape(-1, batch, shared, count) & self.present.unsqueeze(1)).long()
        rows = torch.arange(batch, device=kept.device).view(1, batch, 1, 1).expand(*kept.shape[:3], 1)
        unique, inverse = torch.unique(torch.cat([rows, kept], -1).flatten(0, 2), dim=0, return_inverse=True)
        outputs = self.run(unique[:, 0], unique[:, 1:])[inverse].view(*kept.shape[:3], -1)
        n_targets = self.problem.n_targets
        outputs = outputs.expand(-1, -1, n_targets, -1)
        targets = self.problem.targets.view(1, batch, n_targets, 1).expand(outputs.shape[0], -1, -1, 1)
        return outputs.gather(-1, targets).view(*leading, batch, n_targets)

    def rows_within_budget(self) -> int:
        """How many variants a pass runs: ``rows_per_pass``, or fewer for inputs so large that it would hold more than
        ``VALUES_PER_PASS`` values of the continuous input."""
        return max(1, min(self.rows_per_pass, VALUES_PER_PASS // self.end[0].numel()))

    def run(self, rows: torch.Tensor, kept: torch.Tensor) -> torch.Tensor:
        """The model's outputs ``[n, n_outputs]`` for row ``rows[i]`` of the problem keeping features ``kept[i]``."""
        outputs, step = [], self.rows_within_budget()
        with torch.no_grad():
            for first in range(0, len(rows), step):
                chunk, keep = rows[first : first + step], kept[first : first + step]
                mask = kept_elements(keep.to(self.end.dtype), self.ids[chunk], self.first)
                value = self.end[chunk] * mask + self.start[chunk] * (1 - mask)
                inputs = {key: tensor[chunk] for key, tensor in self.problem.inputs.items()}
                outputs.append(InputPoint().run(self.problem, inputs, value))
        return torch.cat(outputs)
