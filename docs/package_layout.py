"""An MkDocs hook: lay out the ``attrix`` package as it is installed, so that mkdocstrings (griffe) can read it.

attrix is one import package spread over several folders (``[tool.setuptools] package-dir`` in pyproject.toml:
``core/`` is ``attrix``, ``plugins/`` is ``attrix.plugins``, ``backends/`` is ``attrix.backends``, ...). griffe
reads source files statically and finds packages by folder name, so it can follow neither that mapping nor the
editable install's import finder. Before each ``mkdocs build`` / ``serve``, this hook builds ``build/docs-src/attrix``
from the mapping — links to the files of ``core/`` plus a link per mapped subpackage (copies where links cannot be
made) — and mkdocs.yml points mkdocstrings' ``paths`` there. Nothing is imported, so the docs build needs neither
torch nor an install of attrix.
"""

from __future__ import annotations

import shutil
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parent.parent
LAYOUT = ROOT / "build" / "docs-src"
"""Where the package is laid out; mkdocs.yml's ``paths`` for mkdocstrings names it."""


def package_dirs(root: Path = ROOT) -> dict[str, Path]:
    """Each package's folder by its import name, from ``root/pyproject.toml``, parents before their subpackages."""
    with (root / "pyproject.toml").open("rb") as file:
        mapping = tomllib.load(file)["tool"]["setuptools"]["package-dir"]
    return {name: root / folder for name, folder in sorted(mapping.items(), key=lambda item: item[0].count("."))}


def link(target: Path, place: Path) -> None:
    """``place`` pointing to ``target``: a symbolic link, or a copy where links cannot be made."""
    try:
        place.symlink_to(target, target_is_directory=target.is_dir())
    except OSError:
        if target.is_dir():
            shutil.copytree(target, place, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(target, place)


def lay_out(root: Path = ROOT, layout: Path = LAYOUT) -> Path:
    """Lay out every mapped package under ``layout`` as an install would; the folder to give griffe."""
    if layout.exists():
        shutil.rmtree(layout)
    for name, folder in package_dirs(root).items():
        place = layout.joinpath(*name.split("."))
        if place.is_dir() and not place.is_symlink():  # a copied folder of the parent that the mapping overrides
            shutil.rmtree(place)
        elif place.is_symlink() or place.exists():  # a link to a folder or file of the parent that it overrides
            place.unlink()
        if "." not in name:  # a top-level package: a real folder, so that its mapped subpackages can go inside
            place.mkdir(parents=True)
            for entry in sorted(folder.iterdir()):
                if entry.name != "__pycache__":
                    link(entry, place / entry.name)
        else:
            link(folder, place)
    return layout


def on_startup(command: str, dirty: bool) -> None:
    """MkDocs calls this once, before it reads any page: lay the package out for mkdocstrings."""
    lay_out()
