"""The documentation site: it builds with ``mkdocs build --strict``, and it keeps up with the code.

A hook added to ``attrix.contracts.hookspecs`` must be documented in docs/plugins.md with its exact signature and
docstring, and exercised by a test; a room added to ``core/`` must be on the architecture page and have an API
reference page; every public name of ``attrix`` must be in the reference's index.
"""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import attrix
from attrix.contracts import hookspecs as hookspecs_module

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
CORE = ROOT / "core"
PLUGIN_PACKAGES = ("plugins", "backends", "renderers", "metrics")
"""The packages of plugins that live beside ``core/``, each with a reference page of its own."""

def hookspecs() -> dict[str, object]:
    """Every function of ``attrix.contracts.hookspecs`` marked as a hook specification, by name."""
    marker = f"{hookspecs_module.hookspec.project_name}_spec"
    return {
        name: function
        for name, function in vars(hookspecs_module).items()
        if inspect.isfunction(function) and hasattr(function, marker)
    }


class _AsWritten(str):
    """An annotation kept as source text (``from __future__ import annotations``), shown without quotes."""

    def __repr__(self) -> str:
        return str(self)


def written_signature(name: str, function: object) -> str:
    """``def name(params) -> return:`` as the hook is written in its module."""
    signature = inspect.signature(function)

    def as_written(annotation: object) -> object:
        return _AsWritten(annotation) if isinstance(annotation, str) else annotation

    signature = signature.replace(
        parameters=[parameter.replace(annotation=as_written(parameter.annotation)) for parameter in signature.parameters.values()],
        return_annotation=as_written(signature.return_annotation),
    )
    return f"def {name}{signature}:"


def rooms() -> list[str]:
    """The rooms of core: its subpackages (folders with an ``__init__.py``)."""
    return sorted(path.parent.name for path in CORE.glob("*/__init__.py"))


def reference_pages() -> dict[str, Path]:
    """Each module documented by a ``::: module`` directive under docs/reference, and the page it is on."""
    pages = {}
    for page in sorted((DOCS / "reference").glob("*.md")):
        for module in re.findall(r"^::: *([\w.]+)", page.read_text(encoding="utf-8"), flags=re.MULTILINE):
            pages[module] = page
    return pages


def nav_pages(nav: object) -> list[str]:
    """Every page named in mkdocs.yml's ``nav``."""
    if isinstance(nav, str):
        return [nav]
    if isinstance(nav, dict):
        return [page for value in nav.values() for page in nav_pages(value)]
    if isinstance(nav, list):
        return [page for item in nav for page in nav_pages(item)]
    return []


def test_there_are_hookspecs_to_check():
    assert {"register_tasks", "register_backends", "register_renderers"} <= set(hookspecs())


@pytest.mark.parametrize("name", sorted(hookspecs()))
def test_hook_is_documented_with_its_signature_and_docstring(name):
    function = hookspecs()[name]
    plugins_page = (DOCS / "plugins.md").read_text(encoding="utf-8")
    signature = written_signature(name, function)
    assert signature in plugins_page, f"docs/plugins.md does not show the hook as it is declared: {signature}"
    docstring = " ".join((inspect.getdoc(function) or "").split())
    assert docstring, f"the hookspec {name} has no docstring"
    assert docstring in " ".join(plugins_page.split()), f"docs/plugins.md does not give the docstring of {name}"


@pytest.mark.parametrize("name", sorted(hookspecs()))
def test_hook_is_exercised_by_a_test(name):
    implementation = re.compile(rf"hookimpl\b[^\n]*\n\s*def {re.escape(name)}\(")
    tests = [path for path in (ROOT / "tests").rglob("*.py") if path.name.startswith("test_") or path.name == "conftest.py"]
    exercising = [path for path in tests if path.name != "test_docs.py" and implementation.search(path.read_text(encoding="utf-8"))]
    assert exercising, f"no test under tests/ defines a hookimpl {name}(...): write one that registers a plugin through it"


def test_every_room_is_on_the_architecture_page():
    architecture = (DOCS / "architecture.md").read_text(encoding="utf-8")
    assert rooms(), "core/ has no rooms?"
    missing = [room for room in rooms() if f"`attrix.{room}`" not in architecture]
    assert not missing, f"docs/architecture.md does not describe the rooms {missing}"


def test_every_room_module_and_plugin_package_has_a_reference_page():
    documented = reference_pages()
    modules = [f"attrix.{room}" for room in rooms()]
    modules += [f"attrix.{path.stem}" for path in CORE.glob("*.py") if path.name != "__init__.py"]
    modules += [f"attrix.{package}" for package in PLUGIN_PACKAGES]
    missing = [module for module in sorted(modules) if module not in documented]
    assert not missing, f"no page under docs/reference has '::: MODULE' for {missing}"


def test_every_public_name_is_in_the_reference_index():
    index = (DOCS / "reference" / "index.md").read_text(encoding="utf-8")
    missing = [name for name in attrix.__all__ if f"`{name}`" not in index]
    assert not missing, f"docs/reference/index.md does not list the public names {missing}"


def test_every_page_is_in_the_nav():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    in_nav = set(nav_pages(config["nav"]))
    pages = {path.relative_to(DOCS).as_posix() for path in DOCS.rglob("*.md")}
    assert not pages - in_nav, f"pages missing from mkdocs.yml's nav: {sorted(pages - in_nav)}"
    assert not in_nav - pages, f"mkdocs.yml's nav names pages that do not exist: {sorted(in_nav - pages)}"


@pytest.mark.slow
def test_site_builds_strictly(tmp_path):
    site = tmp_path / "site"
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=300, check=False,
    )
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stdout}\n{result.stderr}"
    for page in ("index.html", "architecture/index.html", "plugins/index.html", "reference/index.html"):
        assert (site / page).is_file(), f"the site has no {page}"
    for module, page in reference_pages().items():
        built = site / "reference" / ("index.html" if page.stem == "index" else f"{page.stem}/index.html")
        assert built.is_file(), f"the site has no page for {page.relative_to(ROOT)}"
        assert f'id="{module}"' in built.read_text(encoding="utf-8"), f"{built.relative_to(site)} does not document {module}"
    for package in PLUGIN_PACKAGES:  # found beside core/ through docs/package_layout.py
        built = (site / "reference" / package / "index.html").read_text(encoding="utf-8")
        assert re.search(rf'id="attrix\.{package}\.\w+"', built), f"the reference of attrix.{package} documents none of its members"
