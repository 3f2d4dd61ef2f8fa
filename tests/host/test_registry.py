"""The plugin registry: registering, clashing, unknown names and options, broken plugins, ``attrix plugins``."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest
import torch

import attrix
import attrix.cli
import attrix.host.manager
from attrix.host.manager import PluginWarning
from attrix.host.registry import (
    create,  # attrix.host.registry is the function, which shadows the module
)
from attrix.integration.points import InputPoint
from helpers.tiny_models import build

BUILTINS = {
    ("task", "sequence"): "attrix.plugins.sequence",
    ("backend", "layer_ig"): "attrix.backends.layer_ig",
    ("backend", "ig"): "attrix.backends.ig",
    ("backend", "grad_x_input"): "attrix.backends.grad_x_input",
    ("renderer", "json"): "attrix.renderers.json",
    ("metric", "comprehensiveness"): "attrix.metrics.comprehensiveness",
}
ATTRIX_VERSION = importlib.metadata.version("attrix")
COLUMNS = ["kind", "name", "plugin", "distribution", "version"]


class ZeroBackend(attrix.Backend):
    """A test backend: every attribution is zero, scaled by ``scale``."""

    name = "test_zero"

    def __init__(self, *, scale: float = 1.0) -> None:
        self.scale = scale

    def attribute(self, problem):
        point = InputPoint()
        end, start = point.values(problem)
        values = torch.zeros(problem.batch_size, problem.n_targets, *end.shape[1:]) * self.scale
        return attrix.Attributions.measured(values, point, problem, end, start)


class BackendPlugin:
    """A plugin object registering the backend classes it is given."""

    def __init__(self, *backends: type) -> None:
        self.backends = backends

    @attrix.hookimpl
    def register_backends(self, register):
        for backend in self.backends:
            register(backend)


class ExplodingPlugin:
    """A plugin whose hook fails."""

    @attrix.hookimpl
    def register_backends(self, register):
        raise RuntimeError("boom from the exploding test plugin")


def registered(kind: str, name: str) -> bool:
    return name in attrix.get_registry().entries[kind]


@pytest.fixture(scope="module")
def bert():
    return build("bert", num_labels=2, seed=1)


@pytest.fixture
def plugins():
    """``add(obj, name)`` registers a plugin object; teardown unregisters it and checks its names are gone."""
    pm = attrix.plugin_manager()
    added: list[tuple[str, list[str]]] = []

    def add(plugin: object, name: str, backend_names: list[str] = ()) -> object:
        pm.register(plugin, name=name)
        added.append((name, list(backend_names)))
        return plugin

    yield add
    for name, backend_names in added:
        pm.unregister(name=name)
        assert pm.get_plugin(name) is None
        for backend_name in backend_names:
            assert not registered("backend", backend_name), f"{backend_name} still registered after unregistering {name}"


# --- registering a plugin object --------------------------------------------------------------------------


def test_registered_plugin_backend_is_in_the_registry(plugins):
    assert not registered("backend", "test_zero")
    plugins(BackendPlugin(ZeroBackend), "test-zero-plugin", ["test_zero"])
    entry = attrix.get_registry().get("backend", "test_zero")
    assert entry.obj is ZeroBackend
    assert entry.kind == "backend"
    assert entry.plugin == "test-zero-plugin"
    assert entry.option_names() == ["scale"]
    assert entry.description == "A test backend: every attribution is zero, scaled by ``scale``."
    # the built-ins are still there beside it
    for kind, name in BUILTINS:
        assert registered(kind, name)


def test_registered_plugin_backend_runs_through_the_explainer(plugins, bert):
    model, tokenizer = bert
    plugins(BackendPlugin(ZeroBackend), "test-zero-plugin", ["test_zero"])
    explainer = attrix.Explainer(model, tokenizer, backend="test_zero", scale=2.5)
    assert type(explainer.backend) is ZeroBackend
    assert explainer.backend.scale == 2.5
    explanation = explainer("i love this movie")
    assert explanation.method == "test_zero"
    assert explanation.settings["scale"] == 2.5
    (target,) = explanation.targets
    assert target.token_scores == [0.0] * len(explanation.tokens)
    # zero attributions: the delta is exactly -(f(x) - f(baseline))
    assert target.delta == pytest.approx(-(target.score - target.baseline_score), abs=1e-6)
    with torch.no_grad():
        probabilities = torch.softmax(model(**tokenizer("i love this movie", return_tensors="pt")).logits, -1)[0]
    assert target.score == pytest.approx(float(probabilities.max()), abs=1e-6)


def test_unregistering_removes_the_names():
    pm = attrix.plugin_manager()
    pm.register(BackendPlugin(ZeroBackend), name="short-lived")
    try:
        assert attrix.get_registry().get("backend", "test_zero").plugin == "short-lived"
    finally:
        pm.unregister(name="short-lived")
    assert pm.get_plugin("short-lived") is None
    with pytest.raises(attrix.UnknownNameError, match="test_zero"):
        attrix.get_registry().get("backend", "test_zero")


def test_directly_registered_plugin_is_listed_without_a_distribution(plugins, capsys):
    plugins(BackendPlugin(ZeroBackend), "test-zero-plugin", ["test_zero"])
    assert attrix.cli.main(["plugins"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert ["backend", "test_zero", "test-zero-plugin", "-", "-"] in rows


# --- clashes ----------------------------------------------------------------------------------------------


def test_clash_with_a_builtin_names_both_plugins(plugins):
    class FakeLayerIG(ZeroBackend):
        name = "layer_ig"

    plugins(BackendPlugin(FakeLayerIG), "impostor-plugin")
    with pytest.raises(attrix.PluginClashError) as raised:
        attrix.get_registry()
    message = str(raised.value)
    assert "'layer_ig'" in message
    assert "'attrix.backends.layer_ig'" in message
    assert f"attrix {ATTRIX_VERSION}" in message
    assert "'impostor-plugin'" in message


def test_clash_between_two_plugins_names_both(plugins):
    plugins(BackendPlugin(ZeroBackend), "first-plugin")
    plugins(BackendPlugin(ZeroBackend), "second-plugin")
    with pytest.raises(attrix.PluginClashError, match="test_zero") as raised:
        attrix.get_registry()
    assert "'first-plugin'" in str(raised.value)
    assert "'second-plugin'" in str(raised.value)


def test_clash_is_an_attrix_error_that_the_explainer_raises_too(plugins, bert):
    class FakeIG(ZeroBackend):
        name = "ig"

    plugins(BackendPlugin(FakeIG), "impostor-plugin")
    with pytest.raises(attrix.PluginClashError, match="impostor-plugin"):
        attrix.Explainer(*bert, backend="layer_ig")


# --- unknown names and options ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "valid"),
    [("backend", {"layer_ig", "ig", "grad_x_input"}), ("task", {"sequence"}), ("renderer", {"json"})],
)
def test_unknown_name_lists_the_valid_names(kind, valid):
    with pytest.raises(attrix.UnknownNameError) as raised:
        attrix.get_registry().get(kind, "no_such_thing")
    message = str(raised.value)
    assert kind in message
    assert "no_such_thing" in message
    for name in valid:
        assert name in message
    assert valid <= set(raised.value.valid)
    with pytest.raises(attrix.UnknownNameError, match="no_such_thing"):
        create(kind, "no_such_thing")


def test_unknown_name_is_also_a_key_error():
    with pytest.raises(KeyError):
        attrix.get_registry().get("backend", "no_such_thing")


def test_explainer_with_unknown_backend_lists_the_backends(bert):
    with pytest.raises(attrix.UnknownNameError) as raised:
        attrix.Explainer(*bert, backend="integrated_gradients")
    message = str(raised.value)
    assert "integrated_gradients" in message
    for name in ("layer_ig", "ig", "grad_x_input"):
        assert name in message


def test_explainer_with_unknown_task_lists_the_tasks(bert):
    with pytest.raises(attrix.UnknownNameError) as raised:
        attrix.Explainer(*bert, task="classification")
    assert "classification" in str(raised.value)
    assert "sequence" in raised.value.valid


def test_create_with_unknown_option_lists_the_options():
    with pytest.raises(attrix.UnknownNameError) as raised:
        create("backend", "layer_ig", nsteps=3)
    message = str(raised.value)
    assert "nsteps" in message
    assert "layer_ig" in message
    assert set(raised.value.valid) == {"n_steps", "method", "internal_batch_size", "tolerance", "max_steps", "memory_budget", "autocast"}
    for option in ("n_steps", "method", "internal_batch_size", "tolerance", "max_steps", "memory_budget", "autocast"):
        assert option in message


def test_create_with_known_options_passes_them():
    backend = create("backend", "ig", n_steps=3, method="riemann_trapezoid")
    assert backend.settings() == {
        "n_steps": 3, "method": "riemann_trapezoid", "internal_batch_size": None, "tolerance": 0.01, "memory_budget": None,
        "autocast": None,
    }


def test_explainer_with_unknown_option_lists_the_options(bert):
    with pytest.raises(attrix.AttrixError) as raised:
        attrix.Explainer(*bert, backend="layer_ig", nsteps=3)
    message = str(raised.value)
    assert "nsteps" in message
    # the options of the backend and of the task are both valid here
    for option in ("n_steps", "method", "internal_batch_size", "embedding", "baseline", "word_aggregation", "batch_size"):
        assert option in message


def test_explainer_routes_options_to_task_and_backend(bert):
    explainer = attrix.Explainer(*bert, backend="ig", n_steps=4, word_aggregation="mean")
    assert explainer.task.word_aggregation == "mean"
    assert explainer.backend.n_steps == 4
    # a task option is not a backend option
    with pytest.raises(attrix.UnknownNameError, match="word_aggregation"):
        create("backend", "ig", word_aggregation="mean")


# --- broken plugins ---------------------------------------------------------------------------------------


def test_plugin_whose_hook_raises_warns_and_builtins_still_work(plugins, bert):
    plugins(ExplodingPlugin(), "exploding-plugin")
    with pytest.warns(PluginWarning) as warned:
        entries = attrix.get_registry().entries
    messages = [str(w.message) for w in warned if issubclass(w.category, PluginWarning)]
    assert any("'exploding-plugin'" in m and "boom from the exploding test plugin" in m for m in messages), messages
    assert any("register_backends" in m for m in messages)
    for kind, name in BUILTINS:
        assert name in entries[kind]
    with warnings.catch_warnings(record=True) as again:
        warnings.simplefilter("always")
        explanation = attrix.Explainer(*bert, backend="grad_x_input")("i love this movie")
    assert not [w for w in again if issubclass(w.category, PluginWarning)]  # warned once, not on every lookup
    assert explanation.method == "grad_x_input"
    assert len(explanation.targets[0].token_scores) == len(explanation.tokens)


def write_distribution(root: Path, dist: str, version: str, module: str, source: str, entry_name: str) -> None:
    """A fake installed distribution under ``root``: a module and a dist-info with an ``attrix`` entry point."""
    (root / f"{module}.py").write_text(textwrap.dedent(source))
    info = root / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[attrix]\n{entry_name} = {module}\n")


@pytest.fixture
def fresh_manager(monkeypatch):
    """The cached plugin manager dropped before and after the test, so entry points are read again."""
    attrix.host.manager.plugin_manager.cache_clear()
    yield
    attrix.host.manager.plugin_manager.cache_clear()
    for module in ("broken_plugin_mod", "good_plugin_mod"):
        sys.modules.pop(module, None)


@pytest.mark.parametrize(
    ("raise_line", "error_text"),
    [
        ("raise RuntimeError('broken plugin exploded at import')", "RuntimeError: broken plugin exploded at import"),
        ("import attrix_no_such_dependency_xyz", "ModuleNotFoundError: No module named 'attrix_no_such_dependency_xyz'"),
    ],
)
def test_plugin_that_fails_to_import_warns_and_builtins_still_work(tmp_path, monkeypatch, fresh_manager, raise_line, error_text):
    write_distribution(tmp_path, "broken-plugin", "1.0", "broken_plugin_mod", raise_line, "broken")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.warns(PluginWarning) as warned:
        pm = attrix.host.manager.plugin_manager()
    messages = [str(w.message) for w in warned if issubclass(w.category, PluginWarning)]
    assert len(messages) == 1, messages
    message = messages[0]
    assert "'broken'" in message
    assert "broken_plugin_mod" in message
    assert "broken-plugin 1.0" in message
    assert error_text in message
    assert pm.get_plugin("broken") is None
    entries = attrix.get_registry().entries
    for kind, name in BUILTINS:
        assert name in entries[kind]
        assert entries[kind][name].plugin == BUILTINS[kind, name]


def test_entry_point_plugin_records_its_distribution(tmp_path, monkeypatch, fresh_manager):
    source = """
        import attrix
        from attrix.backends.grad_x_input import GradientXInput

        class Renamed(GradientXInput):
            '''Gradient times input under another name.'''
            name = "test_entry_point_backend"

        @attrix.hookimpl
        def register_backends(register):
            register(Renamed)
    """
    write_distribution(tmp_path, "good-plugin", "2.5.1", "good_plugin_mod", source, "good")
    monkeypatch.syspath_prepend(str(tmp_path))
    pm = attrix.host.manager.plugin_manager()
    assert pm.get_plugin("good") is sys.modules["good_plugin_mod"]
    entry = attrix.get_registry().get("backend", "test_entry_point_backend")
    assert (entry.plugin, entry.distribution, entry.version) == ("good", "good-plugin", "2.5.1")
    assert entry.description == "Gradient times input under another name."
    assert attrix.get_registry().get("backend", "layer_ig").distribution == "attrix"


def test_blocked_entry_point_plugin_is_not_loaded(tmp_path, monkeypatch, fresh_manager):
    write_distribution(tmp_path, "broken-plugin", "1.0", "broken_plugin_mod", "raise RuntimeError('must not run')", "broken")
    monkeypatch.syspath_prepend(str(tmp_path))
    pm = attrix.host.manager.PluginManager()
    pm.set_blocked("broken")
    attrix.host.manager._load_entry_points(pm)  # no warning: the blocked plugin is never imported
    assert "broken_plugin_mod" not in sys.modules
    assert pm.get_plugin("broken") is None


# --- attrix plugins ---------------------------------------------------------------------------------------


def check_builtin_listing(entries: list[dict]) -> None:
    by_key = {(entry["kind"], entry["name"]): entry for entry in entries}
    for (kind, name), module in BUILTINS.items():
        entry = by_key[kind, name]
        assert entry["plugin"] == module
        assert entry["distribution"] == "attrix"
        assert entry["version"] == ATTRIX_VERSION
        assert isinstance(entry["description"], str) and entry["description"]
    assert by_key["backend", "layer_ig"]["options"] == ["n_steps", "method", "internal_batch_size", "tolerance", "max_steps", "memory_budget", "autocast"]
    assert by_key["backend", "grad_x_input"]["options"] == []
    assert set(by_key["task", "sequence"]["options"]) == {"embedding", "baseline", "word_aggregation", "long_inputs", "stride", "window_length"}
    assert by_key["renderer", "json"]["options"] == ["indent"]
    assert by_key["metric", "deletion_auc"]["options"] == ["steps"]
    assert [(field["name"], field["type"], field["required"]) for field in by_key["task", "qa"]["inputs"]] == [
        ("question", "a string", True), ("context", "a string", True)
    ]
    assert "inputs" not in by_key["backend", "ig"] and "inputs" not in by_key["renderer", "json"]
    kinds = [entry["kind"] for entry in entries]
    assert kinds == sorted(kinds, key=["task", "backend", "renderer", "metric", "step_score"].index), "grouped by kind"


def test_plugins_json(capsys):
    assert attrix.cli.main(["plugins", "--json"]) == 0
    entries = json.loads(capsys.readouterr().out)
    check_builtin_listing(entries)


def test_plugins_table(capsys):
    assert attrix.cli.main(["plugins", "--json"]) == 0
    entries = json.loads(capsys.readouterr().out)
    assert attrix.cli.main(["plugins"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == COLUMNS
    assert len(lines) == 1 + len(entries)
    rows = [line.split() for line in lines[1:]]
    for (kind, name), module in BUILTINS.items():
        assert [kind, name, module, "attrix", ATTRIX_VERSION] in rows
    # columns line up: every cell of a column starts where its header does
    starts = [lines[0].index(column) for column in COLUMNS]
    for line in lines[1:]:
        for start in starts[1:]:
            assert line[start - 1] == " " and line[start] != " "


@pytest.mark.slow
def test_plugins_json_as_a_command(tmp_path):
    script = Path(sys.executable).parent / "attrix"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "attrix.cli"]
    result = subprocess.run([*command, "plugins", "--json"], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    check_builtin_listing(json.loads(result.stdout))


class HalfwayPlugin:
    """Registers one backend, then fails: neither stays registered."""

    @attrix.hookimpl
    def register_backends(self, register):
        register(type("HalfwayBackend", (attrix.Backend,), {"name": "halfway", "attribute": lambda self, problem: None}))
        raise RuntimeError("failed after registering")


class NotABackendPlugin:
    """Registers something that is not a backend class."""

    @attrix.hookimpl
    def register_backends(self, register):
        register(int, name="integer")


@pytest.mark.parametrize("plugin, name, message", [
    (HalfwayPlugin(), "halfway", "failed after registering"),
    (NotABackendPlugin(), "integer", "must be a subclass of attrix.Backend"),
])
def test_a_failing_registration_leaves_nothing_behind(plugins, plugin, name, message):
    plugins(plugin, f"{name}-plugin")
    with pytest.warns(PluginWarning, match=message):
        entries = attrix.get_registry().entries
    assert name not in entries["backend"]
    assert "layer_ig" in entries["backend"]


# --- a renderer plugin ------------------------------------------------------------------------------------


class WordsCsvRenderer(attrix.Renderer):
    """A test renderer: one ``word,score`` line per word of each explanation's first target."""

    name = "test_words_csv"
    suffix = ".csv"

    def __init__(self, *, header: bool = True) -> None:
        self.header = header

    def render(self, explanations):
        lines = ["word,score"] if self.header else []
        lines += [f"{word},{score:.6f}" for e in explanations for word, score in e.word_attributions()]
        return "\n".join(lines) + "\n"


class RendererPlugin:
    @attrix.hookimpl
    def register_renderers(self, register):
        register(WordsCsvRenderer)


def test_a_plugin_renderer_is_registered_checked_and_writes_reports_beside_the_builtins(plugins, bert, tmp_path):
    from attrix.runs.reports import write_reports

    assert not registered("renderer", "test_words_csv")
    plugins(RendererPlugin(), "test-csv-plugin")
    entry = attrix.get_registry().get("renderer", "test_words_csv")
    assert (entry.obj, entry.plugin, entry.option_names()) == (WordsCsvRenderer, "test-csv-plugin", ["header"])
    with pytest.raises(attrix.InputTypeError, match="option 'header' of renderer 'test_words_csv' must be true or false"):
        attrix.create("renderer", "test_words_csv", header="no")
    model, tokenizer = bert
    explanation = attrix.Explainer(model, tokenizer)("i love this movie")
    csv_path, json_path = write_reports([explanation], [("test_words_csv", {"header": False}), "json"], tmp_path)
    assert (csv_path.name, json_path.name) == ("explanations.csv", "explanations.json")
    rows = [line.split(",") for line in csv_path.read_text().splitlines()]
    assert [word for word, _ in rows] == [word.text for word in explanation.words]
    assert [float(score) for _, score in rows] == pytest.approx(explanation.target().word_scores, abs=1e-6)


def test_a_new_file_in_a_builtin_package_is_a_builtin_with_nothing_else_to_change(tmp_path, monkeypatch, fresh_manager):
    package = tmp_path / "more_builtins"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "helpers_only.py").write_text("SHARED = 1\n")
    (package / "zero_backend.py").write_text(
        "import attrix\n"
        "class Zero(attrix.Backend):\n"
        "    name = 'zero_from_a_file'\n"
        "    def attribute(self, problem):\n"
        "        raise NotImplementedError\n"
        "@attrix.hookimpl\n"
        "def register_backends(register):\n"
        "    register(Zero)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(attrix.host.manager, "BUILTIN_PACKAGES", (*attrix.host.manager.BUILTIN_PACKAGES, "more_builtins"))
    try:
        names = [module.__name__ for module in attrix.host.manager.builtin_plugins()]
        assert "more_builtins.zero_backend" in names and "more_builtins.helpers_only" not in names
        entry = attrix.get_registry().get("backend", "zero_from_a_file")
        assert (entry.plugin, entry.distribution) == ("more_builtins.zero_backend", "attrix")
        assert {"layer_ig", "ig", "grad_x_input"} <= set(attrix.get_registry().entries["backend"])
    finally:
        for module in ("more_builtins", "more_builtins.zero_backend", "more_builtins.helpers_only"):
            sys.modules.pop(module, None)
