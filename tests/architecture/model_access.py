"""Who touches the protected models: `Document`, `ClinicalFact` and the journal's models.

A module touches a model when it imports it (at run time: `if TYPE_CHECKING:` imports are
types, not access), names it through its models module (`models.Document`), reaches its
manager (`Document.objects`, `_default_manager`, `_base_manager`), asks Django's registry
for it (`apps.get_model("records", "Document")`, `"records.Document"`), or walks a reverse
relation to it as a queryset (`record.documents.filter(...)`, `document.facts.all()`).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from tests.architecture.scan import ROOT, dotted, parse, relative, runtime_nodes

# The models whose every listing must pass through a selector (or the intake pipeline, or
# the journal's own modules), and the module that defines each.
SCOPED_MODELS = {
    "Document": "apps.records.models",
    "ClinicalFact": "apps.clinical.models",
    "AccessEvent": "apps.access.models",
}

MANAGERS = {"objects", "_default_manager", "_base_manager"}
# Reverse relations whose manager is an unscoped listing of a protected model.
REVERSE_MANAGERS = {"documents": "Document", "facts": "ClinicalFact"}
QUERYSET_METHODS = {
    "all", "filter", "exclude", "get", "count", "exists", "order_by", "values", "values_list",
    "select_related", "prefetch_related", "annotate", "aggregate", "first", "last", "create",
    "update", "delete", "iterator", "only", "defer", "in_bulk", "latest", "earliest", "get_or_create",
    "update_or_create", "bulk_create", "distinct", "none",
}  # fmt: skip


def journal_models() -> set[str]:
    """Every `Journal*` model of apps/access/models.py, new ones included, besides `AccessEvent`."""
    tree = parse(ROOT / "apps/access/models.py")
    names = {"AccessEvent"}
    for node in tree.body:
        model = isinstance(node, ast.ClassDef) and any(ast.unparse(b).endswith("Model") for b in node.bases)
        if model and node.name.startswith("Journal"):
            names.add(node.name)
    return names


def protected_models() -> dict[str, str]:
    """Model name -> its models module."""
    found = dict(SCOPED_MODELS)
    found.update({name: "apps.access.models" for name in journal_models()})
    return found


@dataclass(frozen=True)
class Touch:
    path: str
    line: int
    model: str
    how: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line} {self.how} {self.model}"


def _source_of(node: ast.ImportFrom, path: Path) -> str:
    if not node.level:
        return node.module or ""
    module = dotted(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    base = package.split(".")
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _model_from_string(args: list[ast.expr], models: dict[str, str]) -> str | None:
    """The protected model that `get_model("records", "Document")` / `get_model("records.Document")` names."""
    strings = [arg.value for arg in args if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]
    if len(strings) == 1 and "." in strings[0]:
        strings = strings[0].split(".", 1)
    if len(strings) != 2:
        return None
    label, name = strings
    for model, module in models.items():
        if module == f"apps.{label}.models" and name.lower() == model.lower():
            return model
    return None


def touches(path: Path) -> list[Touch]:
    models = protected_models()
    modules = set(models.values())
    where = relative(path)
    model_aliases: dict[str, str] = {}  # local name -> model
    module_aliases: dict[str, str] = {}  # local name (or dotted path) -> models module
    found: list[Touch] = []
    nodes = list(runtime_nodes(parse(path)))
    for node in nodes:
        if isinstance(node, ast.ImportFrom):
            source = _source_of(node, path)
            for alias in node.names:
                if source in modules and models.get(alias.name) == source:
                    model_aliases[alias.asname or alias.name] = alias.name
                    found.append(Touch(where, node.lineno, alias.name, "imports"))
                elif f"{source}.{alias.name}" in modules:
                    module_aliases[alias.asname or alias.name] = f"{source}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in modules:
                    module_aliases[alias.asname or alias.name] = alias.name
    for node in nodes:
        if isinstance(node, ast.Attribute):
            owner = ast.unparse(node.value)
            if module_aliases.get(owner) and models.get(node.attr) == module_aliases[owner]:
                found.append(Touch(where, node.lineno, node.attr, "names"))
            elif isinstance(node.value, ast.Name) and node.value.id in model_aliases and node.attr in MANAGERS:
                found.append(Touch(where, node.lineno, model_aliases[node.value.id], f"queries .{node.attr} of"))
            elif (
                isinstance(node.value, ast.Attribute)
                and node.value.attr in REVERSE_MANAGERS
                and node.attr in QUERYSET_METHODS
            ):
                model = REVERSE_MANAGERS[node.value.attr]
                found.append(Touch(where, node.lineno, model, f"queries .{node.value.attr}.{node.attr}() of"))
        elif isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name == "get_model" and (model := _model_from_string(node.args, models)):
                found.append(Touch(where, node.lineno, model, "get_model"))
    return sorted(found, key=lambda touch: (touch.line, touch.model, touch.how))


def allowed(path: str, model: str, allow: dict[str, tuple[set[str], str]]) -> bool:
    """`allow` maps a module path, or a package path ending in "/", to the models it may touch."""
    for place, (names, _why) in allow.items():
        if (path == place or (place.endswith("/") and path.startswith(place))) and model in names:
            return True
    return False


def is_journal(model: str) -> bool:
    return model == "AccessEvent" or re.match(r"Journal", model) is not None
