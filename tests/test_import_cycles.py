"""No import cycle among the product's modules, inside a package as well as across floors.

lint-imports (the layers contract in pyproject.toml) forbids upward imports between the
floors but not a circle inside one (app.data ↔ app.view, say). This walks grimp's graph (the
one import-linter builds: function-level imports count too) and fails on any strongly
connected set of modules, naming the circle.
"""

from __future__ import annotations

from collections.abc import Iterator

import grimp

PACKAGES = ("base", "warehouse", "ingest", "models", "demo", "jobs", "app", "genai_lens")


def _imported(graph: grimp.ImportGraph, module: str) -> Iterator[str]:
    return iter(sorted(graph.find_modules_directly_imported_by(module)))


def cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The strongly connected sets of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, _imported(graph, root))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, _imported(graph, child)))
                elif child in on_stack:
                    low[module] = min(low[module], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[module])
            if low[module] == index[module]:
                members = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    members.append(top)
                    if top == module:
                        break
                if len(members) > 1:
                    found.append(sorted(members))
    return found


def test_cycles_finds_a_circle() -> None:
    graph = grimp.build_graph("base")
    graph.add_import(importer="base.errors", imported="base.settings")  # settings imports errors
    # settings also imports the clock, which imports errors: the circle may take that way round
    assert any({"base.errors", "base.settings"} <= set(found) for found in cycles(graph))


def test_no_module_imports_itself_round_a_circle() -> None:
    graph = grimp.build_graph(*PACKAGES)
    assert cycles(graph) == []
