"""Where, in what precision and how a model runs: the ``device``, ``dtype`` and ``compile`` options of ``Explainer``."""

from __future__ import annotations

import torch
from torch import nn

from attrix.errors import InputError, UnknownNameError

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def resolve_device(device: str | torch.device) -> torch.device:
    """The torch device ``device`` names: ``"auto"`` is the GPU when there is one, else the CPU."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError):
        raise InputError(f'device must be "cpu", "cuda", "cuda:N", "auto" or a torch.device, got {device!r}') from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f'device {device!r} asks for a GPU but torch sees none; use device="cpu" or "auto"')
    return resolved


def resolve_dtype(dtype: str | torch.dtype) -> torch.dtype:
    """The floating-point dtype ``dtype`` names: ``"float32"``, ``"float16"``, ``"bfloat16"`` or a torch dtype."""
    if isinstance(dtype, torch.dtype) and dtype in DTYPES.values():
        return dtype
    if isinstance(dtype, str) and dtype in DTYPES:
        return DTYPES[dtype]
    raise UnknownNameError("dtype", str(dtype), [*DTYPES, None])


def compile_in_place(model: nn.Module) -> nn.Module:
    """``model`` with its forward pass compiled by ``torch.compile`` (in place, shapes dynamic): the backward passes
    through it are compiled too. The first passes of each new shape compile (minutes for MiniLM on a CPU)."""
    model.compile(dynamic=True)
    return model
