"""attrix: explain Hugging Face transformers models with feature attributions, through plugins."""

from attrix.backend import Attributions, Backend
from attrix.compat import (
    ImageClassificationExplainer,
    MultiLabelClassificationExplainer,
    PairwiseSequenceClassificationExplainer,
    QuestionAnsweringExplainer,
    SequenceClassificationExplainer,
    TokenClassificationExplainer,
    ZeroShotClassificationExplainer,
)
from attrix.display import display
from attrix.errors import AttrixError, InputError, InputTypeError, PluginClashError, TaskMismatchError, UnknownNameError
from attrix.explainer import Explainer
from attrix.explanation import Explanation, TargetAttribution, Word
from attrix.hookspecs import hookimpl
from attrix.manager import plugin_manager
from attrix.plugin_options import OptionError
from attrix.problem import InputEmbedding, Problem
from attrix.registry import create, get_registry
from attrix.renderer import Renderer
from attrix.task import Prepared, Task
from attrix.text_task import TextTask

__all__ = [
    "AttrixError",
    "Attributions",
    "Backend",
    "Explainer",
    "Explanation",
    "ImageClassificationExplainer",
    "InputEmbedding",
    "InputError",
    "InputTypeError",
    "MultiLabelClassificationExplainer",
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
    "TextTask",
    "TokenClassificationExplainer",
    "UnknownNameError",
    "Word",
    "ZeroShotClassificationExplainer",
    "hookimpl",
    "plugin_manager",
    "create",
    "display",
    "OptionError",
    "get_registry",
]
