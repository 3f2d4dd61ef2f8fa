"""attrix: explain Hugging Face transformers models with feature attributions, through plugins.

The drop-in classes of transformers-interpret (``SequenceClassificationExplainer``, ...) load on first use.
A task declares the inputs it takes in ``Task.inputs``, one ``InputField`` each (name, type, description, app
widget, example); datasets, the web app and ``attrix explain`` read them from there, third-party tasks' too.
"""

import importlib
from typing import Any

from attrix.api.comparison import Comparison, compare
from attrix.api.display import display
from attrix.api.evaluation import Evaluation, evaluate
from attrix.api.explainer import Explainer
from attrix.contracts.backend import Attributions, Backend
from attrix.contracts.explanation import Explanation, TargetAttribution, Word
from attrix.contracts.hookspecs import hookimpl
from attrix.contracts.inputs import InputField
from attrix.contracts.metric import FeatureScorer, Measured, Metric
from attrix.contracts.options import OptionError
from attrix.contracts.problem import InputEmbedding, Problem
from attrix.contracts.renderer import Renderer
from attrix.contracts.step_score import StepScore
from attrix.contracts.task import Prepared, Task
from attrix.errors import (
    AttrixError,
    InputError,
    InputTypeError,
    PluginClashError,
    TaskMismatchError,
    UnknownNameError,
)
from attrix.host.manager import plugin_manager
from attrix.host.registry import create, get_registry
from attrix.text.task import TextTask


def __getattr__(name: str) -> Any:
    """The drop-in classes, imported from ``attrix.compat`` when first asked for."""
    compat = importlib.import_module("attrix.compat")
    if name in compat.MODULES:
        return getattr(compat, name)
    raise AttributeError(f"module 'attrix' has no attribute {name!r}")


__all__ = [
    "Attributions",
    "AttrixError",
    "Backend",
    "Comparison",
    "Evaluation",
    "Explainer",
    "Explanation",
    "FeatureScorer",
    "ImageClassificationExplainer",
    "InputEmbedding",
    "InputError",
    "InputField",
    "InputTypeError",
    "Measured",
    "Metric",
    "MultiLabelClassificationExplainer",
    "OptionError",
    "PairwiseSequenceClassificationExplainer",
    "PluginClashError",
    "Prepared",
    "Problem",
    "QuestionAnsweringExplainer",
    "Renderer",
    "SequenceClassificationExplainer",
    "TargetAttribution",
    "Task",
    "TaskMismatchError",
    "StepScore",
    "TextTask",
    "TokenClassificationExplainer",
    "UnknownNameError",
    "Word",
    "ZeroShotClassificationExplainer",
    "compare",
    "create",
    "display",
    "evaluate",
    "get_registry",
    "hookimpl",
    "plugin_manager",
]
