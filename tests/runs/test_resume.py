"""Resuming runs: after a SIGKILL, after a torn last line or a half-written Parquet part, and refusing what cannot be resumed."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from attrix.experiments.config import load_experiment
from attrix.experiments.schema import (
    Component,
    Experiment,
    InputsSpec,
    ModelSpec,
    OutputSpec,
)
from attrix.runs.manifest import RunDirectoryError
from attrix.runs.runner import run_experiment
from helpers.tiny_models import save

WORDS = ["i", "love", "this", "movie", "the", "food", "was", "awful", "a", "good", "plot", "boring", "great", "acting"]


def texts(count: int) -> list[str]:
    """``count`` texts of 2 to 13 words, deterministic."""
    return [" ".join(WORDS[(n * 7 + k) % len(WORDS)] for k in range(2 + n % 12)) for n in range(count)]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return save("bert", tmp_path_factory.mktemp("model") / "bert", seed=31)


def rows_by_id(directory: Path, rows=None) -> dict:
    """The result rows of a JSONL run by id, asserting that no id is written twice."""
    rows = rows if rows is not None else [json.loads(line) for line in (directory / "results.jsonl").read_text().splitlines()]
    ids = [row["id"] for row in rows]
    assert len(ids) == len(set(ids)), "an id was written twice"
    return {row["id"]: row for row in rows}


def assert_same_rows(resumed: dict, uninterrupted: dict) -> None:
    """The same ids, the same errors, the same explanations (scores equal up to float noise of other batch paddings)."""
    assert sorted(resumed) == sorted(uninterrupted)
    for row_id, expected in uninterrupted.items():
        row = resumed[row_id]
        assert row.keys() == expected.keys() and row.get("error") == expected.get("error")
        if "explanation" in expected:
            got, want = row["explanation"], expected["explanation"]
            assert (got["inputs"], got["tokens"], got["words"], got["predicted_label"]) == (want["inputs"], want["tokens"], want["words"], want["predicted_label"])
            for mine, theirs in zip(got["targets"], want["targets"]):
                assert mine["label"] == theirs["label"]
                assert mine["token_scores"] == pytest.approx(theirs["token_scores"], abs=1e-6)
                assert mine["score"] == pytest.approx(theirs["score"], abs=1e-6)


@pytest.mark.slow
def test_a_run_killed_with_sigkill_resumes_to_the_rows_of_an_uninterrupted_run(model_dir, tmp_path):
    data = tmp_path / "data.jsonl"
    records = [{"text": text} for text in texts(60)]
    records[10]["text"], records[41]["text"] = "", 7
    data.write_text("".join(json.dumps(record) + "\n" for record in records))
    config = tmp_path / "run.yaml"
    config.write_text(f"model: {model_dir}\nbackend: {{name: layer_ig, options: {{n_steps: 64}}}}\ninputs: {data}\nbatch_size: 4\n")
    attrix = [str(Path(sys.executable).with_name("attrix")), "run", str(config), "--no-progress"]
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}

    killed_dir = tmp_path / "killed"
    process = subprocess.Popen([*attrix, "--set", f"output.directory={killed_dir}"], env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    results = killed_dir / "results.jsonl"
    deadline = time.monotonic() + 240
    while not (results.exists() and results.read_bytes().count(b"\n") >= 8):
        assert process.poll() is None, f"the run ended before it could be killed: {process.stderr.read().decode()}"
        assert time.monotonic() < deadline, "the run wrote no rows in time"
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    written = results.read_bytes().count(b"\n")
    assert 8 <= written < 60, "the kill should land mid-run"
    manifest = json.loads((killed_dir / "manifest.json").read_text())
    assert manifest["sessions"][0]["finished"] is None and "rows" not in manifest

    resumed = subprocess.run([*attrix, "--set", f"output.directory={killed_dir}", "--resume"], env=environment, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert "60 rows" in resumed.stdout and "58 explained, 2 errors" in resumed.stdout
    full_dir = tmp_path / "full"
    run_experiment(load_experiment(config, [f"output.directory={full_dir}"]), show_progress=False)

    assert_same_rows(rows_by_id(killed_dir), rows_by_id(full_dir))
    sessions = json.loads((killed_dir / "manifest.json").read_text())["sessions"]
    assert len(sessions) == 2 and sessions[1]["finished"] is not None


def small_run(model_dir: Path, directory: Path, output_format: str = "jsonl") -> Experiment:
    return Experiment(
        model=ModelSpec(path=str(model_dir)),
        backend=Component("layer_ig", {"n_steps": 4}),
        inputs=InputsSpec(items=tuple(texts(14)) + ("",)),
        batch_size=2,
        output=OutputSpec(str(directory), output_format),
    )


def test_resume_drops_a_torn_last_line_and_redoes_only_the_missing_rows(model_dir, tmp_path):
    run = small_run(model_dir, tmp_path / "run")
    run_experiment(run, show_progress=False)
    complete = rows_by_id(tmp_path / "run")
    results = tmp_path / "run" / "results.jsonl"
    lines = results.read_text().splitlines(keepends=True)
    kept, torn = lines[:9], lines[9]
    results.write_text("".join(kept) + torn[: len(torn) // 2])
    untouched = {json.loads(line)["id"]: line for line in kept}

    run_experiment(run, resume=True, show_progress=False)
    resumed_lines = results.read_text().splitlines(keepends=True)
    assert resumed_lines[:9] == kept, "the rows already written stay as they were"
    assert_same_rows(rows_by_id(tmp_path / "run"), complete)
    assert len(resumed_lines) == 15 and len(untouched) == 9


def test_parquet_resume_skips_complete_parts_and_drops_a_half_written_one(model_dir, tmp_path):
    import pyarrow.dataset

    run = small_run(model_dir, tmp_path / "run", "parquet")
    run_experiment(run, show_progress=False)
    parts_dir = tmp_path / "run" / "results.parquet"
    read = lambda: pyarrow.dataset.dataset(parts_dir, format="parquet").to_table().to_pylist()
    complete = {row["id"]: row for row in read()}
    parts = sorted(parts_dir.glob("part-*.parquet"))
    assert len(parts) == 2  # windows of 4 batches of 2: 8 rows, then 7
    first_part_bytes = parts[0].read_bytes()
    shutil.move(parts[1], parts_dir / (parts[1].name + ".tmp"))  # as a kill before the rename leaves it

    run_experiment(run, resume=True, show_progress=False)
    assert parts[0].read_bytes() == first_part_bytes and not list(parts_dir.glob("*.tmp"))
    resumed = read()
    assert sorted(row["id"] for row in resumed) == sorted(complete)
    for row in resumed:
        assert row["error"] == complete[row["id"]]["error"]
        if row["explanation"]:
            assert json.loads(row["explanation"])["tokens"] == json.loads(complete[row["id"]]["explanation"])["tokens"]


def test_resume_refuses_another_config_or_changed_model_files_and_needs_a_manifest(model_dir, tmp_path):
    with pytest.raises(RunDirectoryError, match="nothing to resume in .*: it has no manifest.json; run without --resume"):
        run_experiment(small_run(model_dir, tmp_path / "empty"), resume=True, show_progress=False)
    model_copy = tmp_path / "model"
    shutil.copytree(model_dir, model_copy)
    run = small_run(model_copy, tmp_path / "run")
    run_experiment(run, show_progress=False)
    other = dataclasses.replace(run, backend=Component("layer_ig", {"n_steps": 16}))
    with pytest.raises(RunDirectoryError, match=r"differs from its manifest at backend.options.n_steps \(was 4, now 16\)"):
        run_experiment(other, resume=True, show_progress=False)
    shutil.copytree(tmp_path / "run", tmp_path / "moved")
    run_experiment(dataclasses.replace(run, output=OutputSpec(str(tmp_path / "moved"))), resume=True, show_progress=False)
    config = model_copy / "config.json"
    config.write_text(config.read_text().replace("{", '{"note": 1, ', 1))
    with pytest.raises(RunDirectoryError, match=r"differs from its manifest at model files of .* \(sha256 differs\)"):
        run_experiment(run, resume=True, show_progress=False)
