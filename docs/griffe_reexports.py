"""A griffe extension for the API reference: each object documented once, in the module that defines it.

A subpackage such as ``attrix.backends`` re-exports its modules' classes (``from attrix.backends.ig import ...``);
as the reference shows every submodule of a package, those re-exports would show each class twice. This drops
them from subpackages (the top-level ``attrix`` keeps its public names, which the reference's index links to).
"""

from __future__ import annotations

from typing import Any

import griffe


class SubpackageReexports(griffe.Extension):
    """Removes, from every subpackage, the aliases of objects defined in its own submodules."""

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        self._drop(pkg, top=True)

    def _drop(self, module: griffe.Module, top: bool = False) -> None:
        for name, member in list(module.members.items()):
            if member.is_alias:
                if not top and module.is_init_module and member.target_path.startswith(f"{module.path}."):
                    module.del_member(name)
            elif member.is_module:
                self._drop(member)
