"""transformers-interpret 0.10.0's exception classes, each also an attrix error, so that ``except`` clauses
written for either library catch them."""

from __future__ import annotations

from collections.abc import Iterable

from attrix.errors import InputError, UnknownNameError


class AttributionTypeNotSupportedError(UnknownNameError, RuntimeError):
    """An ``attribution_type`` the explainer does not support (transformers-interpret: a RuntimeError)."""

    def __init__(self, attribution_type: object, valid: Iterable[object]) -> None:
        super().__init__("attribution_type", attribution_type, valid)


class AttributionsNotCalculatedError(InputError, RuntimeError):
    """Attributions read before the explainer was called (transformers-interpret: a RuntimeError)."""


class InputIdsNotCalculatedError(InputError, RuntimeError):
    """Something that needs the input ids of a call read before any call (transformers-interpret: a RuntimeError)."""


class ImageOptionError(UnknownNameError, ValueError):
    """An image explainer option (``attribution_type``, ``noise_tunnel_type``) that is not among the valid ones;
    transformers-interpret raised ValueError for these."""


__all__ = ["AttributionTypeNotSupportedError", "AttributionsNotCalculatedError", "ImageOptionError", "InputIdsNotCalculatedError"]
