"""Bad-input sweep of dataset runs: a locked directory, corrupt results or manifest, a full disk, Ctrl-C, bad output paths."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from attrix.cli import main
from attrix.errors import InputError
from attrix.experiments.schema import Component, Experiment, InputsSpec, ModelSpec, OutputSpec
from attrix.runs import lock as lock_module
from attrix.runs import outputs
from attrix.runs.lock import LOCK, RunLockedError, run_lock
from attrix.runs.manifest import RunDirectoryError
from attrix.runs.reports import write_reports
from attrix.runs.runner import RunFailedError, RunInterruptedError, run_experiment
from helpers.tiny_models import save

TEXTS = ["i love this movie", "the food was awful", "a good plot", "bad acting", "great acting", "boring plot", "i love it"]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return save("bert", tmp_path_factory.mktemp("model") / "bert", seed=41)


def small_run(model_dir: Path, directory: Path, items=TEXTS, **fields) -> Experiment:
    fields.setdefault("output", OutputSpec(str(directory)))
    return Experiment(
        model=ModelSpec(path=str(model_dir)),
        backend=Component("layer_ig", {"n_steps": 2}),
        inputs=InputsSpec(items=tuple(items)),
        batch_size=2,
        **fields,
    )


def write_config(tmp_path: Path, model_dir: Path, directory: Path, items=TEXTS) -> Path:
    config = tmp_path / "run.yaml"
    config.write_text(
        f"model: {model_dir}\nbackend: {{name: layer_ig, options: {{n_steps: 2}}}}\n"
        f"inputs: {json.dumps(items)}\nbatch_size: 2\noutput: {{directory: {directory}}}\n"
    )
    return config


# 1. the output directory lock

def test_a_second_run_on_a_locked_directory_is_refused_naming_the_first(model_dir, tmp_path):
    directory = tmp_path / "run"
    directory.mkdir()
    with run_lock(directory):
        holder = (directory / LOCK).read_text()
        assert holder.startswith("pid ") and "started" in holder
        with pytest.raises(RunLockedError, match=r"another attrix run \(pid \d+, started .*\) is writing into"):
            run_experiment(small_run(model_dir, directory), show_progress=False)
    assert not (directory / "results.jsonl").exists()
    # released once the first is done: the same directory runs
    result = run_experiment(small_run(model_dir, directory), show_progress=False)
    assert result.counts["rows"] == len(TEXTS)
    assert not (directory / LOCK).exists()


def test_the_lock_is_released_when_the_run_fails(tmp_path):
    directory = tmp_path / "run"
    directory.mkdir()
    with pytest.raises(ZeroDivisionError), run_lock(directory):
        raise ZeroDivisionError
    with run_lock(directory):
        pass


@pytest.mark.slow
def test_the_lock_is_held_against_another_process(tmp_path):
    import subprocess
    import sys

    directory = tmp_path / "run"
    directory.mkdir()
    code = (
        "import sys; from pathlib import Path; from attrix.runs.lock import run_lock\n"
        "try:\n    with run_lock(Path(sys.argv[1])): print('locked')\nexcept Exception as e: print(e)\n"
    )
    with run_lock(directory):
        output = subprocess.run([sys.executable, "-c", code, str(directory)], capture_output=True, text=True, check=True).stdout
    assert output.startswith(f"another attrix run (pid {os.getpid()}, started ")


def test_without_fcntl_the_lock_does_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(lock_module, "fcntl", None)
    with run_lock(tmp_path), run_lock(tmp_path):
        pass


# 2. corrupt results.jsonl or manifest.json on --resume

def test_resume_names_a_garbage_line_in_results(model_dir, tmp_path, capsys):
    directory = tmp_path / "run"
    config = write_config(tmp_path, model_dir, directory)
    assert main(["run", str(config), "--no-progress"]) == 0
    lines = (directory / "results.jsonl").read_text().splitlines(keepends=True)
    lines.insert(2, "this is not json\n")
    (directory / "results.jsonl").write_text("".join(lines))
    assert main(["run", str(config), "--resume", "--no-progress"]) == 1
    error = capsys.readouterr().err
    assert "results.jsonl' line 3 is not JSON" in error and "delete that line" in error
    assert "Traceback" not in error and len(error.strip().splitlines()) == 1


def test_resume_names_a_line_that_is_json_but_not_a_row(model_dir, tmp_path):
    directory = tmp_path / "run"
    run_experiment(small_run(model_dir, directory), show_progress=False)
    with (directory / "results.jsonl").open("a") as file:
        file.write("[1, 2]\n")
    with pytest.raises(RunDirectoryError, match=rf"line {len(TEXTS) + 1} is not a result row"):
        run_experiment(small_run(model_dir, directory), resume=True, show_progress=False)


@pytest.mark.parametrize("content, problem", [("{\n  \"config\": {,\n", "is not valid JSON at line 2"), ("[]", "is not a run manifest")])
def test_resume_names_a_corrupt_manifest(model_dir, tmp_path, capsys, content, problem):
    directory = tmp_path / "run"
    config = write_config(tmp_path, model_dir, directory)
    assert main(["run", str(config), "--no-progress"]) == 0
    (directory / "manifest.json").write_text(content)
    assert main(["run", str(config), "--resume", "--no-progress"]) == 1
    error = capsys.readouterr().err
    assert "manifest.json'" in error and problem in error and "Traceback" not in error


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_resume_names_a_corrupt_parquet_part(model_dir, tmp_path, capsys, damage):
    directory = tmp_path / "run"
    run_experiment(small_run(model_dir, directory, output=OutputSpec(str(directory), format="parquet")), show_progress=False)
    parts = sorted((directory / "results.parquet").glob("part-*.parquet"))
    content = parts[0].read_bytes()
    parts[0].write_bytes(b"not parquet at all" if damage == "garbage" else content[: len(content) // 2])
    with pytest.raises(RunDirectoryError, match=rf"{parts[0].name}' is not a part of result rows .*delete it to redo its rows"):
        run_experiment(
            small_run(model_dir, directory, output=OutputSpec(str(directory), format="parquet")), resume=True, show_progress=False
        )


# 3. a full disk while writing results

def test_a_full_disk_is_one_line_saying_the_written_rows_are_intact_and_how_to_resume(model_dir, tmp_path, monkeypatch, capsys):
    directory = tmp_path / "run"
    real_write = outputs.JsonlResults.write
    calls = []

    def write(self, batches):
        calls.append(1)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(self, batches)

    monkeypatch.setattr(outputs.JsonlResults, "write", write)
    items = TEXTS * 6  # 42 rows: more than one window of batches
    config = tmp_path / "run.yaml"
    config.write_text(
        f"model: {model_dir}\nbackend: {{name: layer_ig, options: {{n_steps: 2}}}}\n"
        f"inputs: {json.dumps(items)}\nbatch_size: 2\noutput: {{directory: {directory}}}\n"
    )
    assert main(["run", str(config), "--no-progress"]) == 1
    error = capsys.readouterr().err.strip()
    written = len((directory / "results.jsonl").read_text().splitlines())
    assert 0 < written < len(items)
    assert error.count("\n") == 0 and "No space left on device" in error
    assert f"the {written} rows already written are intact" in error and "--resume" in error
    monkeypatch.setattr(outputs.JsonlResults, "write", real_write)
    assert main(["run", str(config), "--resume", "--no-progress"]) == 0
    assert len((directory / "results.jsonl").read_text().splitlines()) == len(items)


# 4. Ctrl-C

def test_ctrl_c_is_one_line_with_the_rows_written_and_exit_130(model_dir, tmp_path, monkeypatch, capsys):
    directory = tmp_path / "run"
    real_write = outputs.JsonlResults.write

    def write(self, batches):
        for batch in batches:
            real_write(self, [batch])
            raise KeyboardInterrupt

    monkeypatch.setattr(outputs.JsonlResults, "write", write)
    assert main(["run", str(write_config(tmp_path, model_dir, directory)), "--no-progress"]) == 130
    assert capsys.readouterr().err.strip() == "interrupted after 2 rows; continue with --resume"
    assert not (directory / LOCK).exists()
    with pytest.raises(RunInterruptedError):
        run_experiment(small_run(model_dir, tmp_path / "other"), show_progress=False)


# 5. output paths that cannot be written

def test_an_output_directory_that_is_a_file_is_an_input_error(model_dir, tmp_path):
    path = tmp_path / "taken"
    path.write_text("x")
    with pytest.raises(InputError, match="is a file, not a directory"):
        run_experiment(small_run(model_dir, path), show_progress=False)
    with pytest.raises(InputError, match="cannot create the output directory .*Not a directory"):
        run_experiment(small_run(model_dir, path / "below"), show_progress=False)


def test_an_unwritable_output_directory_is_an_input_error(model_dir, tmp_path, monkeypatch):
    monkeypatch.setattr("attrix.runs.runner.os.access", lambda path, mode: False)
    with pytest.raises(InputError, match="cannot write into the output directory .*permission denied"):
        run_experiment(small_run(model_dir, tmp_path / "run"), show_progress=False)


def test_reports_into_a_read_only_directory_are_an_input_error(tmp_path, monkeypatch):
    from attrix.contracts.explanation import Explanation  # noqa: F401
    from attrix.host.registry import create

    renderer_class = type(create("renderer", "html"))

    def refuse(self, explanations, path):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(renderer_class, "write", refuse)
    with pytest.raises(InputError, match=r"cannot write the report .*explanations.html.*Permission denied"):
        write_reports([], ["html"], tmp_path)


# 6. a run whose every row fails for the same reason

def test_a_run_whose_every_row_fails_the_same_way_exits_1_saying_so(model_dir, tmp_path, capsys):
    directory = tmp_path / "run"
    config = write_config(tmp_path, model_dir, directory, items=["", "", ""])
    assert main(["run", str(config), "--no-progress"]) == 1
    error = capsys.readouterr().err
    assert error.startswith("error: every one of the 3 rows failed with the same error: ") and len(error.strip().splitlines()) == 1
    assert (directory / "manifest.json").exists() and (directory / "summary.json").exists()


def test_a_run_with_some_bad_rows_still_succeeds(model_dir, tmp_path):
    result = run_experiment(small_run(model_dir, tmp_path / "run", items=["", "i love it"]), show_progress=False)
    assert result.counts["errors"] == 1
    with pytest.raises(RunFailedError):
        run_experiment(small_run(model_dir, tmp_path / "bad", items=["", ""]), show_progress=False)
