"""Imports flow one way: the contracts in pyproject.toml ([tool.importlinter]) hold, each breaks on a deliberate
violation, and ``import attrix`` loads neither matplotlib nor the image and drop-in modules, nor any plugin.

import-linter reads the package from the file system, and the source tree maps folders onto ``attrix`` (``core/`` is
``attrix``, ``plugins/`` is ``attrix.plugins``, ...), so the package is laid out as it installs, in a temp dir.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
CONTRACTS = [contract["name"] for contract in tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]["contracts"]]


def lay_out(target: Path) -> Path:
    """The ``attrix`` package as it installs, under ``target``: each mapped folder copied to its package's place."""
    mapping = tomllib.loads(PYPROJECT.read_text())["tool"]["setuptools"]["package-dir"]
    for package, folder in sorted(mapping.items()):
        shutil.copytree(ROOT / folder, target.joinpath(*package.split(".")), ignore=shutil.ignore_patterns("__pycache__"))
    return target


def lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    command = [str(LINT_IMPORTS), "--config", str(PYPROJECT), "--no-cache"]
    return subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, timeout=300)


def broken(output: str) -> set[str]:
    """The names of the contracts import-linter reports broken."""
    return {name for name in CONTRACTS if f"{name} BROKEN" in output}


def test_every_contract_is_kept(tmp_path):
    result = lint(lay_out(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken" in result.stdout


VIOLATIONS = {
    "Rooms of core are layered: each imports only the rooms below it": ("attrix/contracts/targets.py", "import attrix.runs.runner"),
    "Plugins, backends, renderers and metrics never import each other": ("attrix/metrics/aopc.py", "import attrix.backends.groups"),
    "Plugin packages import only contracts and public helpers": ("attrix/metrics/sufficiency.py", "import attrix.api.evaluation"),
    "Core reaches a plugin package only through the registry": ("attrix/api/evaluation.py", "import attrix.metrics.aopc"),
}


def test_each_contract_has_a_deliberate_violation():
    assert set(VIOLATIONS) == set(CONTRACTS)


@pytest.mark.slow
@pytest.mark.parametrize("contract", sorted(VIOLATIONS))
def test_a_deliberate_violation_breaks_its_contract(tmp_path, contract):
    tree = lay_out(tmp_path)
    module, line = VIOLATIONS[contract]
    path = tree / module
    path.write_text(path.read_text() + f"\n{line}  # a deliberate violation\n")
    result = lint(tree)
    assert result.returncode != 0
    assert contract in broken(result.stdout), result.stdout


@pytest.mark.slow
def test_importing_attrix_loads_neither_matplotlib_nor_the_image_and_drop_in_modules():
    script = (
        "import sys, attrix\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib' or m.startswith(("
        "'attrix.drawing', 'attrix.compat.', 'attrix.plugins', 'attrix.backends', 'attrix.renderers', 'attrix.metrics'))))\n"
        "attrix.SequenceClassificationExplainer\n"
        "print('attrix.compat.sequence' in sys.modules, 'matplotlib' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT / "tests")
    loaded, after = result.stdout.splitlines()
    assert loaded == "[]"
    assert after == "True False"  # a drop-in class loads its own module on first use, still without matplotlib
