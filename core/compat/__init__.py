"""Drop-in replacements for the explainer classes of transformers-interpret 0.10.0, each loaded on first use (the
image one brings matplotlib, which ``import attrix`` should not)."""

from __future__ import annotations

import importlib
from typing import Any

MODULES = {
    "ImageClassificationExplainer": "image",
    "MultiLabelClassificationExplainer": "multilabel",
    "PairwiseSequenceClassificationExplainer": "pairwise",
    "QuestionAnsweringExplainer": "qa",
    "SequenceClassificationExplainer": "sequence",
    "TokenClassificationExplainer": "token",
    "ZeroShotClassificationExplainer": "zero_shot",
}
"""Each drop-in class and the module of ``attrix.compat`` that defines it."""

__all__ = sorted(MODULES)


def __getattr__(name: str) -> Any:
    if name not in MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{MODULES[name]}"), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *MODULES])
