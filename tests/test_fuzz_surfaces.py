"""Property-based tests (Hypothesis) of every surface: each text task's inputs (truncated or in windows), the
command line's exit statuses, experiment configs as YAML, and the rows of a JSONL data file.

The properties: an explanation whose scores add up within its delta, or an ``AttrixError``, never another
exception; the command line exits 0, 1 or 2 and never prints a traceback; a YAML tag that would build a Python
object is refused, never run. Profiles as in tests/test_fuzz.py (``ATTRIX_FUZZ=long`` for many more examples).
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import math
import tempfile
import warnings
from pathlib import Path

import pytest
import yaml
from hypothesis import event, example, given
from hypothesis import strategies as st

import attrix
from attrix.cli import main
from attrix.errors import AttrixError
from helpers.fuzzing import PROFILE, json_values, texts
from helpers.tiny_models import build, save
from helpers.tiny_nli import build_nli

TASKS = ("sequence", "pairwise", "multilabel", "zero_shot", "qa", "token")


@functools.cache
def explainer_for(task: str, long_inputs: str) -> attrix.Explainer:
    """A tiny model explaining ``task`` with few steps (shared across examples, never mutated)."""
    if task == "zero_shot":
        model, tokenizer = build_nli("bert", seed=1)
    else:
        head = {"qa": "qa", "token": "token"}.get(task, "sequence")
        model, tokenizer = build("bert", head=head, num_labels=2 if task == "qa" else 3, seed=1)
    return attrix.Explainer(model, tokenizer, task=task, n_steps=4, long_inputs=long_inputs)


@st.composite
def task_inputs(draw) -> tuple[str, object]:
    """A task and an input of the shape it takes, made of hostile texts."""
    task = draw(st.sampled_from(TASKS))
    if task in ("pairwise", "qa"):
        return task, (draw(texts), draw(texts))
    if task == "zero_shot":
        return task, {"text": draw(texts), "candidate_labels": draw(st.lists(texts, min_size=0, max_size=3))}
    return task, draw(texts)


LONG = "the food was good and anna went to berlin . " * 12


@pytest.mark.slow
@PROFILE
@given(case=task_inputs(), long_inputs=st.sampled_from(["truncate", "windows"]))
@example(case=("qa", ("where ?", LONG)), long_inputs="windows")
@example(case=("token", LONG + " 😀\u200d"), long_inputs="windows")
@example(case=("zero_shot", {"text": LONG, "candidate_labels": ["food", "food"]}), long_inputs="windows")
@example(case=("pairwise", ("[SEP]", LONG)), long_inputs="windows")
@example(case=("zero_shot", {"text": "😀", "candidate_labels": ["\ud800"]}), long_inputs="truncate")  # found by make fuzz
def test_every_text_task_gives_complete_explanations_or_an_attrix_error(case, long_inputs):
    task, item = case
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # truncation warns
            explanation = explainer_for(task, long_inputs)(item)
    except AttrixError as error:
        event(f"{task}: refused ({type(error).__name__})")
        return
    event(f"{task}: explained")
    for target in explanation.targets:
        assert len(target.token_scores) == len(explanation.tokens)
        assert all(math.isfinite(score) for score in target.token_scores)
        assert target.total == pytest.approx(target.score - target.baseline_score + target.delta, abs=1e-4)
    assert attrix.Explanation.from_json(explanation.to_json()) == explanation


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    return save("bert", tmp_path_factory.mktemp("fuzz-model") / "bert", seed=4)


def run_cli(arguments: list[str]) -> tuple[int, str]:
    """``attrix ARGUMENTS`` in this process: its exit status (argparse's usage errors included) and what it printed on stderr."""
    stderr, stdout = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(stdout), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            status = main(arguments)
        except SystemExit as exit:
            status = exit.code
    return status, stderr.getvalue()


FLAGS = st.one_of(
    st.tuples(st.just("--target"), st.one_of(texts, st.sampled_from(["LABEL_0", "2", "-1", "99"]))),
    st.tuples(st.just("--n-steps"), st.one_of(st.integers(-3, 6).map(str), texts)),
    st.tuples(st.just("--long-inputs"), st.one_of(st.sampled_from(["truncate", "windows"]), texts)),
    st.tuples(st.just("--stride"), st.one_of(st.integers(-2, 80).map(str), texts)),
    st.tuples(st.just("--window-length"), st.one_of(st.integers(-2, 80).map(str), texts)),
    st.tuples(st.just("--backend"), st.one_of(st.sampled_from(["layer_ig", "ig", "grad_x_input"]), texts)),
    st.tuples(st.just("--task"), st.one_of(st.sampled_from(["auto", "sequence", "token", "qa"]), texts)),
    st.tuples(st.just("--view"), st.one_of(st.just("tokens"), texts)),
    st.tuples(st.just("--input"), texts),
    st.just(("--json",)),
)


@PROFILE
@given(text=texts, flags=st.lists(FLAGS, max_size=4))
@example(text="i love it", flags=[("--stride", "8")])
@example(text="i love it " * 30, flags=[("--long-inputs", "windows"), ("--window-length", "16")])
@example(text="\x1b]0;pwned\x07", flags=[("--long-inputs", "windows"), ("--stride", "70")])
@example(text="--json", flags=[])
def test_the_command_line_exits_0_1_or_2_without_a_traceback(model_dir, text, flags):
    arguments = ["explain", "--model", str(model_dir), *[part for flag in flags for part in flag], "--", text]
    status, stderr = run_cli(arguments)
    event(f"exit {status}")
    assert status in (0, 1, 2), stderr
    assert "Traceback" not in stderr
    if status:
        assert stderr.strip(), "a refusal says why"


def base_config(model_dir: Path) -> dict:
    return {
        "model": {"path": str(model_dir), "dtype": "float32", "compile": False},
        "task": {"name": "sequence", "options": {"baseline": "pad"}},
        "backend": {"name": "layer_ig", "options": {"n_steps": 8}},
        "inputs": ["i love this movie"],
        "targets": "predicted",
        "batch_size": 2,
        "output": {"directory": "out"},
        "renderers": ["json"],
        "metrics": ["completeness", {"name": "comprehensiveness", "options": {"fractions": [0.1, 0.5]}}],
    }


@st.composite
def config_texts(draw, model_dir: Path) -> str:
    """A YAML document: the valid config with keys dropped or replaced by any value, or YAML with Python tags."""
    config = base_config(model_dir)
    for _ in range(draw(st.integers(0, 3))):
        place = config
        key = draw(st.sampled_from(sorted(place)))
        while isinstance(place[key], dict) and place[key] and draw(st.booleans()):
            place = place[key]
            key = draw(st.sampled_from(sorted(place)))
        action = draw(st.sampled_from(["drop", "replace", "add"]))
        if action == "drop":
            del place[key]
        elif action == "replace":
            place[key] = draw(json_values)
        else:
            place[draw(st.text(max_size=8))] = draw(json_values)
    document = yaml.safe_dump(config, allow_unicode=True)
    tag = draw(st.sampled_from(["", "!!python/object/apply:os.system ['touch {marker}']", "!!python/name:os.system", "*undefined", "&a [*a]"]))
    if tag:
        document += f"seed: {tag}\n"
    return document


@PROFILE
@given(data=st.data())
@example(data=None)
def test_any_config_yaml_validates_or_is_refused_and_tags_never_run(model_dir, data):
    with tempfile.TemporaryDirectory() as directory:
        marker = Path(directory) / "pwned"
        document = "seed: !!python/object/apply:os.system ['touch {marker}']\n" if data is None else data.draw(config_texts(model_dir))
        path = Path(directory) / "config.yaml"
        path.write_text(document.replace("{marker}", str(marker)), encoding="utf-8")
        status, stderr = run_cli(["validate", str(path)])
        event(f"exit {status}")
        assert status in (0, 1, 2), stderr
        assert "Traceback" not in stderr
        assert not marker.exists(), "a YAML tag ran a command"


def run_config(directory: Path, config: dict) -> int:
    """``attrix run`` of ``config`` written into ``directory``: its exit status, 0 or 1, never a traceback."""
    path = directory / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    status, stderr = run_cli(["run", str(path)])
    event(f"exit {status}")
    assert status in (0, 1), stderr
    assert "Traceback" not in stderr
    return status


LINES = st.one_of(
    json_values.map(json.dumps),
    st.dictionaries(st.sampled_from(["text", "id", "label", ""]), json_values, max_size=3).map(json.dumps),
    st.builds(lambda text: json.dumps({"text": text}), texts),
    st.text(max_size=12),
    st.binary(max_size=8).map(lambda raw: raw.decode("latin-1")),
)


@PROFILE
@given(lines=st.lists(LINES, min_size=1, max_size=5), raw=st.one_of(st.just(b""), st.binary(max_size=4)))
@example(lines=['{"text": "fine"}'], raw=b"\xff\xfe")
@example(lines=['{"text": "a \\ud800 b"}', "not json", "[1, 2]", '{"text": null}'], raw=b"")
def test_any_jsonl_rows_become_one_result_row_each(model_dir, lines, raw):
    with tempfile.TemporaryDirectory() as directory:
        data = Path(directory) / "rows.jsonl"
        data.write_bytes("\n".join(lines).encode("utf-8", "surrogatepass") + b"\n" + raw + b"\n")
        config = {**base_config(model_dir), "inputs": {"path": str(data)}, "output": {"directory": str(Path(directory) / "out")}}
        status = run_config(Path(directory), config)
        results = Path(directory) / "out" / "results.jsonl"
        if status == 0:
            lines = results.read_text(encoding="utf-8").split("\n")  # not splitlines: U+0085 and U+2028 may stand in a row
            rows = [json.loads(line) for line in lines if line]
            assert sorted(row["id"] for row in rows) == list(range(len(rows)))
            assert all(("explanation" in row) != ("error" in row) for row in rows)


@PROFILE
@given(rationales=st.lists(json_values, min_size=1, max_size=4))
@example(rationales=[[0, 2], [True, False, True, False], "[1]", [7], [-1], [0.5], None, "not json"])
def test_any_rationale_column_gives_each_row_its_plausibility_or_its_error(model_dir, rationales):
    """Whatever a row's rationale column holds, the run writes one row for it: measured by token_f1 when the value is
    a rationale of its words, an error row saying what is allowed otherwise."""
    with tempfile.TemporaryDirectory() as directory:
        data = Path(directory) / "rows.jsonl"
        data.write_text("".join(json.dumps({"text": "a good film", "why": value}) + "\n" for value in rationales))
        config = {
            **base_config(model_dir),
            "inputs": {"path": str(data), "rationale_field": "why"},
            "metrics": ["token_f1"],
            "output": {"directory": str(Path(directory) / "out")},
        }
        status = run_config(Path(directory), config)
        if status == 0:
            lines = (Path(directory) / "out" / "results.jsonl").read_text(encoding="utf-8").splitlines()
            rows = [json.loads(line) for line in lines]
            assert len(rows) == len(rationales)
            for row in rows:
                assert ("explanation" in row) != ("error" in row)
                if "explanation" in row:
                    assert "token_f1" in row["explanation"]["metrics"]
                else:
                    assert "rationale" in row["error"]
