"""Pictures in and out: an input image loaded as the image-classification pipeline loads it, uint8 RGB pixels, and
the PNG ``data:`` URI an image explanation carries them in."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from io import BytesIO
from typing import Any

import numpy as np
from PIL import Image
from transformers.image_utils import load_image

from attrix.errors import InputError, InputTypeError

MIN_SIDE = 8
"""The smallest image side, in pixels, that is explained."""
ARRAY_SHAPES = "(height, width, 3) RGB, (height, width, 4) RGBA or (height, width) grayscale"


@dataclass(frozen=True)
class Picture:
    """An input image in RGB, as the image-classification pipeline loads it, with what was given."""

    image: Image.Image
    source: str
    """The path given, or a short description of the image or array."""
    mode: str
    """The PIL mode the image came in; anything but ``RGB`` was converted."""


def load_picture(item: Any) -> Picture:
    """A PIL image, a uint8 numpy array or a path as an RGB picture; a clear error for anything else."""
    if isinstance(item, (str, os.PathLike)):
        source = os.fspath(item)
        image = _open(source)
    elif isinstance(item, np.ndarray):
        image, source = _from_array(item), f"numpy array {item.shape} {item.dtype}"
    elif isinstance(item, Image.Image):
        image, source = item, f"PIL image {item.mode} {item.width}x{item.height}"
    else:
        raise InputTypeError(
            f"an image must be a PIL image, a numpy uint8 array {ARRAY_SHAPES} or the path of an image file, "
            f"got {type(item).__name__} {item!r:.80}"
        )
    if min(image.size) < MIN_SIDE:
        raise InputError(
            f"the image is {image.width}x{image.height} pixels (width x height); "
            f"the smallest image explained is {MIN_SIDE}x{MIN_SIDE}"
        )
    return Picture(load_image(image), source, image.mode)


def _open(path: str) -> Image.Image:
    if not os.path.isfile(path):
        hint = " (URLs are not fetched: download the image and give its path)" if "://" in path else ""
        raise InputError(f"no image file at {path!r}{hint}")
    try:
        image = Image.open(path)
        image.load()
    except OSError as error:
        raise InputError(f"cannot read an image from {path!r}: {error}") from None
    return image


def _from_array(array: np.ndarray) -> Image.Image:
    if array.dtype != np.uint8 or not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] in (3, 4))):
        raise InputError(
            f"a numpy image must be a uint8 array {ARRAY_SHAPES}; got {array.dtype} of shape {array.shape} "
            f"(channels go last; scale floats in [0, 1] with (array * 255).astype(numpy.uint8))"
        )
    return Image.fromarray(array)


def rgb_pixels(image: Image.Image | np.ndarray) -> np.ndarray:
    """``image`` as a uint8 ``(height, width, 3)`` array: a PIL image (any mode) or a uint8 RGB / grayscale array."""
    if isinstance(image, Image.Image):
        return np.asarray(image.convert("RGB"))
    if isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 2:
        return np.repeat(image[..., None], 3, axis=-1)
    if isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3:
        return image
    described = f"{image.dtype} array of shape {image.shape}" if isinstance(image, np.ndarray) else type(image).__name__
    raise InputError(f"the image must be a PIL image or a uint8 array (height, width, 3) or (height, width), got {described}")


DATA_URI_PREFIX = "data:image/png;base64,"


def png_data_uri(pixels: np.ndarray) -> str:
    """uint8 RGB ``pixels`` as a PNG ``data:`` URI: compact in JSON, and an ``<img src>`` as it is."""
    buffer = BytesIO()
    Image.fromarray(rgb_pixels(pixels)).save(buffer, format="png")
    return DATA_URI_PREFIX + base64.b64encode(buffer.getvalue()).decode("ascii")


def pixels_of_data_uri(uri: str) -> np.ndarray:
    """The uint8 ``(height, width, 3)`` pixels of a PNG ``data:`` URI that ``png_data_uri`` made."""
    if not isinstance(uri, str) or not uri.startswith(DATA_URI_PREFIX):
        raise InputError(f"an image must be a PNG data URI starting {DATA_URI_PREFIX!r}, got {str(uri)[:40]!r}")
    try:
        return rgb_pixels(Image.open(BytesIO(base64.b64decode(uri[len(DATA_URI_PREFIX) :], validate=True))))
    except (ValueError, OSError) as error:
        raise InputError(f"the image's data URI holds no readable PNG: {error}") from None
