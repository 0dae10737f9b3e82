"""No new app-to-app import cycle.

The apps stand in layers (the order below, the same as .importlinter). An import from a
lower app to a higher one is a back edge: it closes cycles. The back edges that exist today
are listed, each with why and who removes it; the test fails when the app graph has a cycle
once these are taken out (a new cycle), and when a listed back edge no longer exists (the
list only shrinks). Imports inside functions count: they are dependencies all the same.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from functools import cache

from tests.architecture.scan import app_of, imports_of, python_modules

# Lowest first.
LAYERS = [
    {"accounts"},
    {"records"},
    {"access"},
    {"notifications"},
    {"clinical", "consents", "delegations", "assistance"},
    {"intake", "summaries"},
]

# (importer app, imported app): why the lower app still imports the higher one.
KNOWN_BACK_EDGES: dict[tuple[str, str], str] = {
    # accounts' sign-up form creates the person's record; adapter/credentials notify by hand.
    ("accounts", "records"): "apps/accounts/forms.py: record creation belongs to a records service called by the view",
    ("accounts", "notifications"): "adapter.py, credentials.py: a listener on account events",
    # records' web layer (views, API, timeline, dependents) and selectors call the policy;
    # documents.py still holds the intake pipeline.
    ("records", "access"): "records' views/API/selectors sit above the policy: move the pages up",
    ("records", "clinical"): "document_api/document_views show facts; documents.py parses: to intake",
    ("records", "consents"): "documents.py sets 'confidential from parents': a consents service called above",
    ("records", "delegations"): "api.py/views.py list delegated records; seed_demo",
    ("records", "assistance"): "seed_demo creates mandates: the demo seed belongs above all apps",
    ("records", "notifications"): "dependents.py and documents.py notify by hand: listeners",
    ("records", "intake"): "documents.py (pipeline) and document_views.py (served_filename) use inspection",
    # access decides with other apps' models by name instead of asking their bases.
    ("access", "assistance"): "policy.py/visibility.py read mandates",
    ("access", "delegations"): "policy.py/visibility.py read delegations",
    ("access", "consents"): "professional.py/sentences.py read settings",
}


@cache
def app_graph() -> dict[tuple[str, str], list[str]]:
    """(importer app, imported app) -> where: every app-to-app import under apps/."""
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in python_modules("apps"):
        for found in imports_of(path):
            importer, imported = app_of(found.importer), app_of(found.imported)
            if importer and imported and importer != imported:
                edges[(importer, imported)].append(f"{found.path}:{found.line}")
    return edges


def rank(app: str) -> int:
    return next((level for level, apps in enumerate(LAYERS) if app in apps), len(LAYERS))


def a_cycle(edges: set[tuple[str, str]]) -> list[str] | None:
    """One cycle of this directed graph, as a list of apps, or None."""
    targets: dict[str, set[str]] = defaultdict(set)
    for importer, imported in edges:
        targets[importer].add(imported)
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(app: str) -> list[str] | None:
        state[app] = 1
        path.append(app)
        for nxt in sorted(targets[app]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[app] = 2
        return None

    for app in sorted(targets):
        if app not in state and (cycle := visit(app)):
            return cycle
    return None


def test_every_app_has_a_layer():
    apps = {app for edge in app_graph() for app in edge}
    assert not {app for app in apps if rank(app) == len(LAYERS)}, "put the new app in LAYERS (and .importlinter)"


def test_no_app_import_cycle_besides_the_known_back_edges():
    edges = app_graph()
    cycle = a_cycle(set(edges) - set(KNOWN_BACK_EDGES))
    assert cycle is None, (
        "New app import cycle "
        + " -> ".join(cycle)
        + ":\n"
        + "\n".join(f"  {a} -> {b}: {', '.join(sorted(set(edges[(a, b)])))}" for a, b in itertools.pairwise(cycle))
    )


def test_no_new_import_from_a_lower_app_to_a_higher_one():
    edges = app_graph()
    upward = {edge: where for edge, where in edges.items() if rank(edge[0]) < rank(edge[1])}
    new = {edge: where for edge, where in upward.items() if edge not in KNOWN_BACK_EDGES}
    assert not new, "\n".join(f"{a} -> {b}: {', '.join(sorted(set(where)))}" for (a, b), where in new.items())


def test_known_back_edges_list_only_shrinks():
    gone = [edge for edge in KNOWN_BACK_EDGES if edge not in app_graph()]
    assert not gone, f"These back edges are gone: remove them from KNOWN_BACK_EDGES: {gone}"


def test_a_cycle_is_found():
    assert a_cycle({("a", "b"), ("b", "c"), ("c", "a")}) == ["a", "b", "c", "a"]
    assert a_cycle({("a", "b"), ("b", "c")}) is None
