"""``ImageClassificationExplainer``, as transformers-interpret 0.10.0 has it."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from PIL import Image
from transformers import PreTrainedModel

from attrix.api.explainer import Explainer
from attrix.compat.errors import ImageOptionError
from attrix.contracts.explanation import Explanation
from attrix.contracts.targets import resolve_label
from attrix.drawing.figures import (
    MAGNITUDE_METHODS,
    check_options,
    image_figure,
    png_bytes,
)
from attrix.drawing.pictures import load_picture
from attrix.errors import InputError, UnknownNameError

ATTRIBUTION_TYPES = ("IG", "IGNT")
"""Plain integrated gradients, and integrated gradients inside a noise tunnel."""
NOISE_TUNNELS = ("smoothgrad", "smoothgrad_sq", "vargrad")
"""transformers-interpret's noise tunnel types (captum's NoiseTunnel kinds)."""
METHOD_TITLES = {
    "heatmap": "Heatmap",
    "overlay": "Heatmap Overlay",
    "masked_image": "Masked Image",
    "alpha_scaling": "Alpha Scaling",
}


def _in_notebook() -> bool:
    """Whether this runs in a Jupyter kernel (IPython imported and driven by a kernel app)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and "IPKernelApp" in shell.config


class ImageClassificationExplainer:
    """Explains a ``...ForImageClassification`` model's logits; call it with an image for pixel attributions.

    ``attribution_type``: ``"IGNT"`` (the default: integrated gradients with ``n_steps_noise_tunnel`` steps
    averaged over ``noise_tunnel_n_samples`` noisy copies of the image, noise of standard deviation 1 in
    ``pixel_values`` units) or ``"IG"`` (plain integrated gradients, ``n_steps`` steps). Baseline: all-zero
    ``pixel_values``.
    """

    task = "image"

    def __init__(
        self,
        model: PreTrainedModel,
        feature_extractor: Any,
        attribution_type: str = "IGNT",
        custom_labels: list[str] | None = None,
    ) -> None:
        if attribution_type not in ATTRIBUTION_TYPES:
            raise ImageOptionError("attribution_type", attribution_type, ATTRIBUTION_TYPES)
        self.model, self.feature_extractor, self.attribution_type = model, feature_extractor, attribution_type
        self.id2label = image_id2label(model, custom_labels)
        self.label2id = {label: index for index, label in self.id2label.items()}
        self.device = model.device
        self.internal_batch_size: int | None = None
        self.n_steps: int = 50
        self.n_steps_noise_tunnel: int = 5
        self.noise_tunnel_n_samples: int = 10
        self.noise_tunnel_type: str = "smoothgrad"
        self.explanation: Explanation | None = None
        self.attributions: np.ndarray | None = None
        self.delta: np.ndarray | None = None
        self.inputs: np.ndarray | None = None
        self._image: Any = None

    def __call__(
        self,
        image: Image.Image | np.ndarray | str,
        index: int | None = None,
        class_name: str | None = None,
        internal_batch_size: int | None = None,
        n_steps: int | None = None,
        n_steps_noise_tunnel: int | None = None,
        noise_tunnel_n_samples: int | None = None,
        noise_tunnel_type: str = "smoothgrad",
    ) -> np.ndarray:
        """Attributions ``(1, 3, height, width)`` of the processed image toward ``index``, ``class_name`` or the
        predicted class; ``n_steps`` and the noise-tunnel settings given are kept for later calls."""
        if noise_tunnel_type not in NOISE_TUNNELS:
            raise ImageOptionError("noise_tunnel_type", noise_tunnel_type, NOISE_TUNNELS)
        self.noise_tunnel_type = noise_tunnel_type
        self.n_steps = n_steps or self.n_steps
        self.n_steps_noise_tunnel = n_steps_noise_tunnel or self.n_steps_noise_tunnel
        self.noise_tunnel_n_samples = noise_tunnel_n_samples or self.noise_tunnel_n_samples
        self.internal_batch_size = internal_batch_size or self.internal_batch_size
        chosen = index if index is not None else class_name
        target = None if chosen is None else resolve_label(chosen, self.id2label)
        explainer = self._explainer()
        self.explanation = explainer(image, target=target)
        explained = self.explanation.target()
        self._image = image
        self.attributions = np.asarray(explained.array, dtype=np.float32)[None]
        self.delta = np.array([explained.delta], dtype=np.float32)
        self.inputs = explainer.task.pixels([load_picture(image).image]).detach().cpu().numpy()
        return self.attributions

    def _explainer(self) -> Explainer:
        steps = {"n_steps": self.n_steps}
        if self.attribution_type == "IGNT":
            steps = {
                "n_steps": self.n_steps_noise_tunnel,
                "noise_tunnel": self.noise_tunnel_type,
                "nt_samples": self.noise_tunnel_n_samples,
            }
        return Explainer(
            self.model,
            self.feature_extractor,
            task=self.task,
            backend="ig",
            output="logits",
            internal_batch_size=self.internal_batch_size,
            **steps,
        )

    def _explained(self) -> Explanation:
        if self.explanation is None:
            raise InputError("nothing explained yet: call the explainer on an image first")
        return self.explanation

    @property
    def selected_index(self) -> int:
        """The output index the last call explained."""
        return self._explained().target().index

    @property
    def predicted_index(self) -> int:
        """The output index with the highest logit in the last call."""
        model_labels = {label: int(index) for index, label in self.model.config.id2label.items()}
        return model_labels[self._explained().predicted_label]

    @property
    def predicted_class_name(self) -> str:
        """The predicted label of the last call (custom labels applied)."""
        return self.id2label[self.predicted_index]

    def _original_pixels(self) -> np.ndarray:
        """The last image as the processor resizes and crops it, before rescaling and normalising: uint8 ``(height, width, 3)``."""
        self._explained()
        processed = self.feature_extractor(
            images=load_picture(self._image).image, do_rescale=False, do_normalize=False, return_tensors="np"
        )["pixel_values"][0]
        return np.asarray(processed, dtype=np.float64).transpose(1, 2, 0).clip(0, 255).round().astype(np.uint8)

    def _model_pixels(self) -> np.ndarray:
        """The ``pixel_values`` the model saw, stretched to 0..255 for display: uint8 ``(height, width, 3)``."""
        self._explained()
        pixels = self.inputs[0].transpose(1, 2, 0).astype(np.float64)
        low, high = pixels.min(), pixels.max()
        stretched = (pixels - low) / (high - low) if high > low else np.zeros_like(pixels)
        return (stretched * 255).round().astype(np.uint8)

    def visualize(
        self,
        save_path: str | Path | None = None,
        method: str = "overlay",
        sign: str = "all",
        outlier_threshold: float = 0.1,
        use_original_image_pixels: bool = True,
        side_by_side: bool = False,
    ) -> tuple[Figure, Axes | list[Axes]]:
        """Draw the last attributions over the image; ``(figure, axes)``, the axes a list [original, attributions]
        when ``side_by_side``. Written to ``save_path`` when given; shown inline in notebooks."""
        self._explained()
        if sign == "all" and method in MAGNITUDE_METHODS:
            warnings.warn(
                f"sign='all' is not supported for method={method!r}: use sign='positive', 'negative' or 'absolute'; "
                f"using sign='positive'",
                stacklevel=2,
            )
            sign = "positive"
        try:
            check_options(method, sign, outlier_threshold)
        except UnknownNameError as error:
            raise ImageOptionError(error.what, error.name, error.valid) from None
        title = f"{METHOD_TITLES[method]} IG. Prediction - {self.predicted_class_name}"
        if self.selected_index != self.predicted_index:
            title += f", explaining {self.id2label[self.selected_index]}"
        figure = image_figure(
            self.attributions[0],
            self._original_pixels() if use_original_image_pixels else self._model_pixels(),
            method=method,
            sign=sign,
            outlier_threshold=outlier_threshold,
            side_by_side=side_by_side,
            title=title,
            save_path=save_path,
        )
        if _in_notebook():
            from IPython.display import Image as PNG
            from IPython.display import display

            display(PNG(data=png_bytes(figure), format="png"))
        panels = [axes for axes in figure.axes if axes.get_label() in ("original", "attributions")]
        return figure, panels if side_by_side else panels[0]


def image_id2label(model: PreTrainedModel, custom_labels: list[str] | None) -> dict[int, str]:
    """The model's labels, or ``custom_labels`` numbered from 0, whose count must be that of the model's
    ``label2id`` (its distinct label names), as transformers-interpret checks it: a model whose ``id2label`` repeats
    a name takes fewer custom labels than it has outputs."""
    if custom_labels is None:
        return {int(index): label for index, label in model.config.id2label.items()}
    if len(custom_labels) != len(model.config.label2id):
        raise InputError(
            f"custom_labels has {len(custom_labels)} labels but the model's label2id has {len(model.config.label2id)}; "
            f"give one label per distinct model label"
        )
    return dict(enumerate(custom_labels))
