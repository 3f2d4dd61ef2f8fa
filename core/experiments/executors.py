"""What each engine takes in ``engine.options``: the schema the config checks and the engine reads.

The Ray engine's options are type hints, their bounds ``annotated_types`` constraints, checked by the same
``check_value`` that checks a plugin's options (``attrix.contracts.options``); ``attrix.runs.ray_executor`` reads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from annotated_types import Ge

from attrix.contracts.options import check_value
from attrix.errors import UnknownNameError

RAY_OPTIONS: dict[str, Any] = {
    "address": str | None,
    "runtime_env": dict[str, Any] | None,
    "actors": Annotated[int, Ge(1)],
    "num_cpus": Annotated[float, Ge(0)],
    "num_gpus": Annotated[float, Ge(0)],
}
"""``engine.options`` of the Ray engine and what each allows: where the cluster is, and the actors and their resources."""


def check_ray_options(options: Mapping[str, Any]) -> None:
    """Raise ``UnknownNameError`` for a key the Ray engine does not take, ``OptionError`` for a value it does not allow."""
    for key, value in options.items():
        if key not in RAY_OPTIONS:
            raise UnknownNameError("option", key, RAY_OPTIONS, "for engine 'ray'")
        check_value(key, value, RAY_OPTIONS[key])
