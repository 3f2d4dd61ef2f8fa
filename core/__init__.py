"""attrix: explain Hugging Face transformers models with feature attributions, through plugins."""

from attrix.api.display import display
from attrix.api.explainer import Explainer
from attrix.compat import (
    ImageClassificationExplainer,
    MultiLabelClassificationExplainer,
    PairwiseSequenceClassificationExplainer,
    QuestionAnsweringExplainer,
    SequenceClassificationExplainer,
    TokenClassificationExplainer,
    ZeroShotClassificationExplainer,
)
from attrix.contracts.backend import Attributions, Backend
from attrix.contracts.explanation import Explanation, TargetAttribution, Word
from attrix.contracts.hookspecs import hookimpl
from attrix.contracts.problem import InputEmbedding, Problem
from attrix.contracts.renderer import Renderer
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
from attrix.host.option_checks import OptionError
from attrix.host.registry import create, get_registry
from attrix.text.task import TextTask

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
