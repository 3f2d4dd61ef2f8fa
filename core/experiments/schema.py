"""An experiment as plain data: what ``attrix run`` reads from a YAML config and records in its manifest."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Annotated, Any, Literal

from annotated_types import Ge

DEFAULT_MODEL = "default"
"""``model.path`` that names the embedded default sentiment model."""
DEFAULT_LM = "default-lm"
"""``model.path`` that names the embedded language model (SmolLM2-135M-Instruct)."""
FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
"""The data file suffixes ``inputs.path`` may end in, and the ``inputs.format`` each means."""


@dataclass(frozen=True)
class ModelSpec:
    """Which model to explain and where it runs."""

    path: str = DEFAULT_MODEL
    revision: str | None = None
    dtype: Literal["float32", "float16", "bfloat16"] = "float32"
    device: str = "cpu"
    compile: bool = False
    """Compile the model's passes with torch.compile (the Explainer's ``compile``)."""


@dataclass(frozen=True)
class Component:
    """A registered plugin by name, with its options; ``name=None`` lets attrix choose."""

    name: str | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class InputsSpec:
    """Inline inputs, or a JSONL / CSV / Parquet file whose columns ``fields`` maps to the task's input names."""

    items: tuple[Any, ...] | None = None
    path: str | None = None
    format: Literal["jsonl", "csv", "parquet"] | None = None
    fields: dict[str, str] = field(default_factory=dict)
    id_field: str | None = None
    rationale_field: str | None = None
    """The column holding each row's human rationale (word indexes or a 0/1 mask per word), for plausibility metrics."""
    limit: int | None = None


@dataclass(frozen=True)
class OutputSpec:
    """Where a run writes its rows, manifest, summary and reports."""

    directory: str = "attrix-run"
    format: Literal["jsonl", "parquet"] = "jsonl"


@dataclass(frozen=True)
class EngineSpec:
    """What runs the batches: ``local`` in this process, or ``ray`` on a Ray cluster (options: address, actors, CPUs and GPUs per actor)."""

    name: Literal["local", "ray"] = "local"
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Experiment:
    """Everything one run needs; ``targets`` is ``"predicted"``, ``"all"``, a label, or a list of labels."""

    model: ModelSpec = field(default_factory=ModelSpec)
    task: Component = field(default_factory=lambda: Component("auto"))
    backend: Component = field(default_factory=Component)
    targets: str | int | list[str | int] = "predicted"
    inputs: InputsSpec = field(default_factory=InputsSpec)
    batch_size: Annotated[int, Ge(1)] = 8
    output: OutputSpec = field(default_factory=OutputSpec)
    seed: int = 0
    renderers: tuple[Component, ...] = ()
    metrics: tuple[Component, ...] = ()
    """Faithfulness metrics each batch's explanations are measured with (``attrix.evaluate``), seeded by ``seed``."""
    engine: EngineSpec = field(default_factory=EngineSpec)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (lists for tuples), as the run manifest records it."""
        return _plain(asdict(self))


def _plain(value: Any) -> Any:
    """``value`` with every tuple, at any depth, made a list."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value
