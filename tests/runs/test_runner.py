"""Dataset runs: result rows, error rows, warnings, the manifest, the summary, reports, Parquet output and the progress bar."""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.resources
import io
import json
import os
import pty
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from rich.console import Console

import attrix
from attrix.cli import main
from attrix.experiments.schema import (
    Component,
    EngineSpec,
    Experiment,
    InputsSpec,
    ModelSpec,
    OutputSpec,
)
from attrix.runs.extras import MissingExtraError
from attrix.runs.manifest import RunDirectoryError
from attrix.runs.progress import progress_bar
from attrix.runs.runner import run_experiment
from attrix.runs.setup import explainer_for
from helpers.html_dom import parse
from helpers.tiny_models import save

N_STEPS = 8
TOO_LONG = "the food was awful " * 20
"""80 words: more than the tiny models' 64 positions."""


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return save("bert", tmp_path_factory.mktemp("model") / "bert", seed=21)


def experiment(model: Path | str, directory: Path, items=None, **fields) -> Experiment:
    """A run of the tiny model over ``items`` into ``directory``, with few steps."""
    fields.setdefault("inputs", InputsSpec(items=tuple(items or ())))
    fields.setdefault("backend", Component("layer_ig", {"n_steps": N_STEPS}))
    fields.setdefault("output", OutputSpec(str(directory)))
    return Experiment(model=ModelSpec(path=str(model)), batch_size=3, **fields)


def result_rows(directory: Path) -> list[dict]:
    return [json.loads(line) for line in (directory / "results.jsonl").read_text().splitlines()]


def test_bad_rows_become_error_rows_and_the_rest_of_their_batch_is_explained(model_dir, tmp_path):
    good = ["i love this movie", "the food was awful", "a good plot", "bad acting"]
    items = [good[0], "", good[1], 42, good[2], None, good[3]]
    result = run_experiment(experiment(model_dir, tmp_path / "run", items), show_progress=False)
    rows = {row["id"]: row for row in result_rows(tmp_path / "run")}
    assert sorted(rows) == list(range(len(items)))
    assert rows[1] == {"id": 1, "error": "text is empty; give a string with at least one word", "input": ""}
    assert rows[3] == {"id": 3, "error": "text must be a string, got int 42", "input": 42}
    assert rows[5] == {"id": 5, "error": "text must be a string, got NoneType None", "input": None}
    direct = attrix.Explainer(str(model_dir), n_steps=N_STEPS)(good)
    for number, expected in zip((0, 2, 4, 6), direct):
        explanation = attrix.Explanation.from_dict(rows[number]["explanation"])
        assert explanation.inputs == expected.inputs and explanation.words == expected.words
        assert explanation.target().token_scores == pytest.approx(expected.target().token_scores, abs=1e-6)
    assert result.counts == {"rows": 7, "explained": 4, "errors": 3, "warnings": 0}
    assert result.reports == [] and not (tmp_path / "run" / "summary.html").exists()  # no html renderer configured


def test_a_too_long_row_is_explained_truncated_with_a_warning_on_its_row(model_dir, tmp_path):
    items = ["i love this movie", TOO_LONG, "the food was awful"]
    run_experiment(experiment(model_dir, tmp_path / "run", items), show_progress=False)
    rows = {row["id"]: row for row in result_rows(tmp_path / "run")}
    assert rows[1]["warnings"] == ["input 0 has 82 tokens but the model accepts at most 64; it was truncated to its first 64 tokens"]
    assert len(rows[1]["explanation"]["tokens"]) == 64
    assert "warnings" not in rows[0] and "warnings" not in rows[2]
    for row in rows.values():
        target = row["explanation"]["targets"][0]
        assert sum(target["token_scores"]) - (target["score"] - target["baseline_score"]) == pytest.approx(target["delta"], abs=1e-6)


def test_the_manifest_records_config_versions_model_hash_seed_device_times_and_counts(model_dir, tmp_path):
    run = experiment(model_dir, tmp_path / "run", ["i love this movie", ""], seed=7)
    run_experiment(run, show_progress=False)
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["config"] == json.loads(json.dumps(run.to_dict()))
    assert manifest["versions"] == {name: importlib.metadata.version(name) for name in ("attrix", "torch", "transformers", "captum")}
    digest = hashlib.sha256()
    for file in sorted(model_dir.rglob("*")):
        if file.is_file():
            digest.update(str(file.relative_to(model_dir)).encode() + b"\0" + file.read_bytes())
    assert manifest["model"] == {"path": str(model_dir), "sha256": digest.hexdigest()}
    assert manifest["seed"] == 7 and manifest["device"] == "cpu"
    (session,) = manifest["sessions"]
    assert manifest["started"] == session["started"] <= session["finished"] == manifest["finished"]
    assert manifest["wall_seconds"] == session["wall_seconds"] > 0
    assert manifest["rows"] == {"rows": 2, "explained": 1, "errors": 1, "warnings": 0}


@pytest.mark.parametrize("compile_model", [False, True])
def test_model_compile_in_a_config_reaches_the_explainer(model_dir, tmp_path, compile_model):
    config = replace(experiment(model_dir, tmp_path), model=ModelSpec(path=str(model_dir), compile=compile_model))
    explainer = explainer_for(config, str(model_dir))
    assert (explainer.model._compiled_call_impl is not None) is compile_model


def test_a_run_refuses_a_directory_that_is_not_empty(model_dir, tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "notes.txt").write_text("mine")
    with pytest.raises(RunDirectoryError, match="the output directory .* is not empty; continue its run with --resume, or choose another"):
        run_experiment(experiment(model_dir, tmp_path / "run", ["fine"]), show_progress=False)


def test_parquet_results_hold_the_same_rows_with_a_row_group_per_batch(model_dir, tmp_path, padded_batches):
    import pyarrow.dataset

    items = ["i love this movie", "", "the food was awful", "a good plot", "bad acting", "great", "what a boring film"]
    run_experiment(experiment(model_dir, tmp_path / "jsonl", items), show_progress=False)
    run_experiment(experiment(model_dir, tmp_path / "parquet", items, output=OutputSpec(str(tmp_path / "parquet"), "parquet")), show_progress=False)
    table = pyarrow.dataset.dataset(tmp_path / "parquet" / "results.parquet", format="parquet").to_table()
    assert table.column_names == ["id", "explanation", "error", "input", "warnings"]
    by_id = {record["id"]: record for record in table.to_pylist()}
    for row in result_rows(tmp_path / "jsonl"):
        record = by_id[row["id"]]
        assert record["error"] == row.get("error")
        assert (record["explanation"] and json.loads(record["explanation"])) == row.get("explanation")
    (part,) = (tmp_path / "parquet" / "results.parquet").glob("part-*.parquet")
    assert pyarrow.parquet.ParquetFile(part).num_row_groups == 3  # the error row, then 6 texts in batches of 3


def test_summary_words_lead_their_labels_with_the_embedded_model(default_model_dir_fixture, tmp_path):
    subjects = ["movie", "film", "book", "meal", "show", "song"]
    items = [f"I love this {s}, it is wonderful" for s in subjects] + [f"The {s} was awful and terrible" for s in subjects]
    run = experiment("default", tmp_path / "run", items, renderers=(Component("html"),))
    result = run_experiment(run, show_progress=False)
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["counts"] == {"rows": 12, "explained": 12, "errors": 0, "warnings": 0}
    labels = summary["top_words_per_label"]
    assert labels["POSITIVE"]["rows"] == labels["NEGATIVE"]["rows"] == 6
    assert {entry["word"] for entry in labels["POSITIVE"]["top_words"][:2]} == {"love", "wonderful"}
    assert {entry["word"] for entry in labels["NEGATIVE"]["top_words"][:2]} == {"awful", "terrible"}
    assert all(entry["rows"] >= summary["min_rows_per_word"] for label in labels.values() for entry in label["top_words"])
    assert summary["timings"]["wall_seconds"] > 0
    assert result.reports == [tmp_path / "run" / "report.html", tmp_path / "run" / "summary.html"]
    page = result.reports[0].read_text()
    assert all(f'id="explanation-{n}"' in page for n in range(12)) and "I love this song, it is wonderful" in page
    summary_page = parse(result.reports[1].read_text())
    assert [link.attrs["href"] for link in summary_page.find_all("a")] == ["report.html"]
    assert len(summary_page.find_all("section")) == len(labels)
    for section, (label, entry) in zip(summary_page.find_all("section"), labels.items()):
        assert section.find("h2").text == f"toward {label}"
        shown = [(word.strip(), float(mean), int(rows)) for word, mean, rows in section.find("table", "top-words").rows()[1:]]
        assert shown == [(e["word"], pytest.approx(e["mean_attribution"], rel=1e-3), e["rows"]) for e in entry["top_words"]]


def test_progress_is_hidden_without_a_terminal_and_shows_rate_and_eta_on_one(model_dir, tmp_path, capsys):
    config = tmp_path / "run.yaml"
    config.write_text(
        f"model: {model_dir}\nbackend: {{name: layer_ig, options: {{n_steps: 4}}}}\n"
        f"inputs: [i love this movie, the food was awful]\noutput: {{directory: {tmp_path / 'out'}}}\n"
    )
    assert main(["run", str(config)]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and f"2 rows in {tmp_path / 'out'}: 2 explained, 0 errors, 0 with warnings" in captured.out
    screen = io.StringIO()
    with progress_bar(10, 2, console=Console(file=screen, force_terminal=True, width=120)) as advance:
        advance(3)
    assert "5/10" in screen.getvalue() and "rows/s" in screen.getvalue() and "ETA" in screen.getvalue()
    hidden = io.StringIO()
    with progress_bar(10, console=Console(file=hidden, force_terminal=True), show=False) as advance:
        advance(3)
    assert hidden.getvalue() == ""


def test_the_ray_engine_without_ray_names_the_extra(model_dir, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)
    run = experiment(model_dir, tmp_path / "run", ["fine"], engine=EngineSpec("ray"))
    with pytest.raises(MissingExtraError, match=r"engine: ray needs ray, which is not installed: pip install 'attrix\[ray\]'"):
        run_experiment(run, show_progress=False)


def test_the_shipped_sequence_config_writes_200_rows_a_manifest_a_summary_and_a_report_under_a_progress_bar(default_model_dir_fixture, tmp_path):
    config = importlib.resources.files("attrix.configs") / "sequence.yaml"
    out = tmp_path / "run"
    command = [str(Path(sys.executable).with_name("attrix")), "run", str(config), "--set", f"output.directory={out}", "--set", "backend.options.n_steps=2"]
    screen, terminal = pty.openpty()
    environment = {**os.environ, "TERM": "xterm", "COLUMNS": "120", "ATTRIX_CACHE_DIR": os.environ["ATTRIX_CACHE_DIR"]}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=terminal, env=environment, text=True)
    os.close(terminal)
    drawn = []
    reader = threading.Thread(target=lambda: drawn.extend(iter(lambda: _read(screen), b"")))
    reader.start()
    printed = process.stdout.read()
    assert process.wait() == 0
    reader.join()
    bar = b"".join(drawn).decode(errors="replace")
    assert "200/200" in bar and "rows/s" in bar and "ETA" in bar
    assert f"200 rows in {out}: 200 explained, 0 errors" in printed
    rows = result_rows(out)
    assert len(rows) == len({row["id"] for row in rows}) == 200 and all("explanation" in row for row in rows)
    assert json.loads((out / "manifest.json").read_text())["rows"]["explained"] == 200
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["top_words_per_label"]) == {"NEGATIVE", "POSITIVE"}
    assert all(summary["top_words_per_label"][label]["top_words"] for label in ("NEGATIVE", "POSITIVE"))
    page = (out / "report.html").read_text()
    assert "<title>Review sentiment</title>" in page and all(f'id="explanation-{n}"' in page for n in range(200))
    assert parse((out / "summary.html").read_text()).find("h1").text == "Review sentiment: run summary"
    assert f"wrote {out / 'summary.html'}" in printed


def _read(descriptor: int) -> bytes:
    """What the terminal shows next; nothing once the program has closed it."""
    try:
        return os.read(descriptor, 65536)
    except OSError:
        return b""
