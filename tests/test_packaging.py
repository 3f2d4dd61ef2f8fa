"""The installed package: one import name, ``attrix``, and a wheel that works on its own."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

import attrix
import attrix.host.manager

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", ["core", "plugins", "backends", "renderers", "metrics", "configs"])
def test_source_folders_are_not_top_level_packages(name):
    assert importlib.util.find_spec(name) is None


@pytest.mark.parametrize("name", ["core", "plugins", "backends", "renderers", "metrics"])
def test_source_folders_are_not_importable_from_a_fresh_interpreter(name, tmp_path):
    result = subprocess.run([sys.executable, "-c", f"import {name}"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode != 0 and "ModuleNotFoundError" in result.stderr


def test_subpackages_map_to_their_folders():
    import attrix.backends
    import attrix.metrics
    import attrix.plugins
    import attrix.renderers

    assert Path(attrix.plugins.__file__).parent == ROOT / "plugins"
    assert Path(attrix.backends.__file__).parent == ROOT / "backends"
    assert Path(attrix.renderers.__file__).parent == ROOT / "renderers"
    assert Path(attrix.metrics.__file__).parent == ROOT / "metrics"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet", "-w", str(out), str(ROOT)],
        check=True,
    )
    return next(out.glob("attrix-*.whl"))


@pytest.mark.slow
def test_wheel_holds_one_import_package_with_its_data(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names if not name.startswith("attrix-")}
    assert top_level == {"attrix"}
    for expected in ("attrix/__init__.py", "attrix/plugins/sequence.py", "attrix/backends/layer_ig.py",
                     "attrix/renderers/json.py", "attrix/configs/__init__.py", "attrix/api/data/sentiment.jsonl"):
        assert expected in names


@pytest.mark.slow
def test_wheel_holds_every_room_of_core(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    rooms = [init.parent.name for init in (ROOT / "core").glob("*/__init__.py")]
    assert len(rooms) >= 10
    assert {f"attrix/{room}/__init__.py" for room in rooms} <= names


@pytest.mark.slow
def test_wheel_requires_torch_by_a_range_never_an_exact_version(wheel):
    """A library must not force one torch on its users: the exact pin lives in the Makefile's constraints only."""
    with zipfile.ZipFile(wheel) as archive:
        metadata = archive.read(next(name for name in archive.namelist() if name.endswith(".dist-info/METADATA"))).decode()
    requirements = [line.split(":", 1)[1].strip() for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    torch = [Requirement(line) for line in requirements if Requirement(line).name == "torch"]
    assert len(torch) == 1 and not torch[0].marker
    specifiers = list(torch[0].specifier)
    assert specifiers and all(spec.operator not in ("==", "===") for spec in specifiers)
    assert torch[0].specifier.contains("2.13.0") and torch[0].specifier.contains("99.0")


@pytest.mark.slow
def test_installed_wheel_works_on_its_own(wheel, tmp_path):
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(site), str(wheel)], check=True)
    script = "import attrix; print(attrix.__file__); print(sorted(e.name for e in attrix.get_registry().all()))"
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, check=True,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
    )
    file, names = result.stdout.splitlines()
    assert Path(file).is_relative_to(site)
    builtins = sorted(e.name for e in attrix.get_registry().all() if e.plugin in {m.__name__ for m in attrix.host.manager.builtin_plugins()})
    assert {"grad_x_input", "ig", "layer_ig", "sequence", "json"} <= set(builtins)
    assert names == str(builtins)
