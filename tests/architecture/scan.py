"""Reading the source tree for the architecture tests: plain `ast`, nothing imported or run.

Every import counts, wherever it is written: at the top of a module, inside a function
(a "lazy" import is still a dependency) or a method. Only imports under
`if TYPE_CHECKING:` are left out: they exist for the type checker, never at run time.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("apps", "healthspace")


def python_modules(*packages: str) -> list[Path]:
    """Every module of these packages, migrations left out (they freeze history, not design)."""
    found = []
    for package in packages or PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.relative_to(ROOT).parts:
                found.append(path)
    return found


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.as_posix()


def dotted(path: Path) -> str:
    parts = list((path.relative_to(ROOT) if path.is_relative_to(ROOT) else Path(path.name)).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """All nodes of the tree, except the bodies of `if TYPE_CHECKING:` blocks."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


@dataclass(frozen=True)
class Import:
    importer: str  # dotted module name
    imported: str  # dotted module name, or module.name for `from module import name`
    path: str
    line: int


def imports_of(path: Path) -> list[Import]:
    """Absolute and relative imports of one module, resolved to dotted names."""
    module = dotted(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in runtime_nodes(parse(path)):
        if isinstance(node, ast.Import):
            found += [Import(module, alias.name, relative(path), node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                source = ".".join([*base, node.module] if node.module else base)
            else:
                source = node.module or ""
            found += [Import(module, f"{source}.{alias.name}", relative(path), node.lineno) for alias in node.names]
    return found


def app_of(module: str) -> str | None:
    """`apps.records.selectors` -> `records`; None outside apps/."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "apps" else None
