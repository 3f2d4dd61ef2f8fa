"""``engine: ray`` on a local Ray instance of 2 CPUs gives the rows the local engine gives."""

from __future__ import annotations

import dataclasses
import json

import pytest

from attrix.errors import UnknownNameError
from attrix.experiments.schema import (
    Component,
    EngineSpec,
    Experiment,
    InputsSpec,
    ModelSpec,
    OutputSpec,
)
from attrix.runs.runner import run_experiment
from helpers.tiny_models import save

ray = pytest.importorskip("ray")

TEXTS = (
    "i love this movie", "the food was awful", "a good plot", "", "what a boring film , really",
    "great acting", "i hate it", "the story was sad but the music was nice", "bad", "amazing", 3, "it is not a very good film",
)


pytestmark = [pytest.mark.ray, pytest.mark.slow]


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def local_and_ray(local: Experiment, tmp_path) -> tuple[dict, dict, object]:
    """``local`` run here and on Ray (into tmp_path/local and tmp_path/ray): each run's rows by id, and Ray's result."""
    on_ray = dataclasses.replace(local, output=OutputSpec(str(tmp_path / "ray")), engine=EngineSpec("ray", {"num_cpus": 0.5}))
    run_experiment(local, show_progress=False)
    result = run_experiment(on_ray, show_progress=False)
    rows = {}
    for name in ("local", "ray"):
        lines = (tmp_path / name / "results.jsonl").read_text().splitlines()
        rows[name] = {row["id"]: row for row in map(json.loads, lines)}
        assert len(rows[name]) == len(lines), "an id was written twice"
    assert rows["ray"].keys() == rows["local"].keys()
    return rows["local"], rows["ray"], result


def test_ray_rows_equal_the_local_rows(local_ray, tmp_path):
    model = save("bert", tmp_path / "model", seed=41)
    local = Experiment(
        model=ModelSpec(path=str(model)),
        backend=Component("layer_ig", {"n_steps": 8}),
        inputs=InputsSpec(items=TEXTS),
        batch_size=3,
        output=OutputSpec(str(tmp_path / "local")),
    )
    local_rows, ray_rows, result = local_and_ray(local, tmp_path)
    assert len(ray_rows) == len(TEXTS)
    for row_id, expected in local_rows.items():
        row = ray_rows[row_id]
        assert row.get("error") == expected.get("error") and row.keys() == expected.keys()
        if "explanation" in expected:
            got, want = row["explanation"]["targets"][0], expected["explanation"]["targets"][0]
            assert row["explanation"]["tokens"] == expected["explanation"]["tokens"] and got["label"] == want["label"]
            assert got["token_scores"] == pytest.approx(want["token_scores"], abs=1e-6)
            assert (got["score"], got["baseline_score"]) == pytest.approx((want["score"], want["baseline_score"]), abs=1e-6)
    assert result.counts == {"rows": 12, "explained": 10, "errors": 2, "warnings": 0}
    manifest = json.loads((tmp_path / "ray" / "manifest.json").read_text())
    assert manifest["sessions"][0]["engine"] == "ray" and manifest["device"] == "cpu"


def test_an_unknown_ray_option_lists_the_valid_ones(local_ray, tmp_path):
    model = save("bert", tmp_path / "model", seed=41)
    run = Experiment(model=ModelSpec(path=str(model)), inputs=InputsSpec(items=("fine",)), output=OutputSpec(str(tmp_path / "out")), engine=EngineSpec("ray", {"workers": 4}))
    with pytest.raises(UnknownNameError, match="unknown option 'workers' for engine 'ray'; valid: actors, address, num_cpus, num_gpus, runtime_env"):
        run_experiment(run, show_progress=False)


def test_ray_generation_rows_equal_the_local_rows(local_ray, tmp_path):
    """A generation config (prompts, a forced continuation with a contrast) on Ray: the same continuations and
    step × token attributions as in this process, and the summary's prompt words for the generated text."""
    from helpers.tiny_lms import save_lm

    model = save_lm("gpt2", tmp_path / "lm", seed=3)
    prompts = (
        "the movie was",
        {"prompt": "i think this film is", "target_text": " good", "contrast_text": " bad"},
        "",
        "a story about a cat and a",
    )
    local = Experiment(
        model=ModelSpec(path=str(model)),
        task=Component("generation", {"max_new_tokens": 3}),
        backend=Component("layer_ig", {"n_steps": 8}),
        inputs=InputsSpec(items=prompts),
        batch_size=2,
        output=OutputSpec(str(tmp_path / "local")),
    )
    local_rows, ray_rows, result = local_and_ray(local, tmp_path)
    assert len(ray_rows) == len(prompts)
    for row_id, expected in local_rows.items():
        row = ray_rows[row_id]
        assert row.get("error") == expected.get("error")
        if "explanation" not in expected:
            continue
        got, want = row["explanation"], expected["explanation"]
        assert got["generation"]["text"] == want["generation"]["text"] and got["tokens"] == want["tokens"]
        for ours, theirs in zip(got["targets"], want["targets"]):
            assert ours["token_scores"] == pytest.approx(theirs["token_scores"], abs=1e-6)
    assert result.counts["explained"] == 3 and result.counts["errors"] == 1
    summary = json.loads((tmp_path / "ray" / "summary.json").read_text())
    assert list(summary["top_words_per_label"]) == ["(generated text)"]
