"""``Explainer(device=, dtype=, revision=, compile=)``: where the model runs, in what precision, which version is
loaded, compiled or not."""

from __future__ import annotations

import pytest
import torch
from torch._dynamo.utils import counters
from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

import attrix
from attrix.contracts.problem import Prediction
from helpers.tiny_models import build, save

TEXT = "i love this movie it is great"


@pytest.fixture(scope="module")
def tiny():
    return build("bert", num_labels=2, seed=7)


def test_dtype_converts_the_model_and_the_explanation_follows(tiny):
    model, tokenizer = build("bert", num_labels=2, seed=7)
    explainer = attrix.Explainer(model, tokenizer, dtype="bfloat16", n_steps=8)
    assert explainer.model.dtype == torch.bfloat16
    explanation = explainer(TEXT)
    full = attrix.Explainer(*tiny, n_steps=8)(TEXT)
    assert explanation.probabilities == pytest.approx(full.probabilities, abs=2e-2)
    assert explanation.target().score == pytest.approx(full.target().score, abs=2e-2)


@pytest.mark.parametrize("dtype", ["float32", torch.float32])
def test_dtype_by_name_or_torch_dtype(dtype):
    model, tokenizer = build("bert", num_labels=2, seed=7)
    assert attrix.Explainer(model.double(), tokenizer, dtype=dtype).model.dtype == torch.float32


def test_device_cpu_and_auto_on_a_machine_without_gpu(tiny):
    assert attrix.Explainer(*tiny, device="cpu").model.device.type == "cpu"
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert attrix.Explainer(*tiny, device="auto").model.device.type == expected


@pytest.mark.parametrize(
    "options, error, message",
    [
        ({"device": "gpu-please"}, attrix.InputError, 'device must be "cpu", "cuda", "cuda:N", "auto" or a torch.device'),
        ({"dtype": "float64"}, attrix.UnknownNameError, "unknown dtype 'float64'; valid: None, bfloat16, float16, float32"),
        ({"dtype": torch.int8}, attrix.UnknownNameError, "unknown dtype 'torch.int8'"),
        ({"revision": "main"}, attrix.InputError, "revision= picks a version of a model given by name"),
        ({"compile": "yes"}, attrix.InputTypeError, "option 'compile' of the Explainer must be"),
    ],
)
def test_bad_placement_is_refused(tiny, options, error, message):
    with pytest.raises(error, match=message):
        attrix.Explainer(*tiny, **options)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error on a machine without a GPU")
def test_a_gpu_asked_for_where_there_is_none_is_refused(tiny):
    with pytest.raises(attrix.InputError, match='asks for a GPU but torch sees none; use device="cpu" or "auto"'):
        attrix.Explainer(*tiny, device="cuda")


@pytest.mark.parametrize("loader", [AutoConfig, AutoTokenizer, AutoModelForSequenceClassification])
def test_revision_reaches_every_loader(tmp_path, monkeypatch, loader):
    save("bert", tmp_path, num_labels=2, seed=7)
    seen: list[object] = []
    original = loader.from_pretrained.__func__

    def recording(cls, name, *args, **kwargs):
        seen.append(kwargs.get("revision"))
        return original(cls, name, *args, **kwargs)

    monkeypatch.setattr(loader, "from_pretrained", classmethod(recording))
    attrix.Explainer(str(tmp_path), revision="v1.0")
    assert seen and set(seen) == {"v1.0"}


def test_a_problem_moves_every_tensor_to_a_device(tiny):
    explainer = attrix.Explainer(*tiny)
    problem = explainer.task.prepare([TEXT], None).problem
    moved = problem.to("meta")
    tensors = [*moved.inputs.values(), *moved.baselines.values(), moved.targets, moved.prediction.outputs, moved.prediction.layer_output]
    assert all(tensor.device.type == "meta" for tensor in tensors)
    assert all(tensor.device.type == "cpu" for tensor in problem.inputs.values())  # the original is left as it was
    assert isinstance(moved.prediction, Prediction)


@pytest.mark.slow
def test_a_compiled_model_gives_the_plain_attributions():
    texts = [TEXT, "a dull and slow film", "great"]
    plain_model, tokenizer = build("bert", num_labels=2, seed=7)
    compiled_model, _ = build("bert", num_labels=2, seed=7)
    plain = attrix.Explainer(plain_model, tokenizer, n_steps=16)(texts)
    graphs_before = counters["stats"]["unique_graphs"]
    compiled = attrix.Explainer(compiled_model, tokenizer, n_steps=16, compile=True)(texts)
    assert counters["stats"]["unique_graphs"] > graphs_before, "nothing was compiled"
    for ours, theirs in zip(compiled, plain):
        assert ours.target().token_scores == pytest.approx(theirs.target().token_scores, abs=1e-5)
        assert ours.target().delta == pytest.approx(theirs.target().delta, abs=1e-5)
