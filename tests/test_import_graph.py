"""No import circle among kit's modules: the graph of every import (lazy ones inside functions included) has no
cycle, so each module can be read, tested and moved knowing only what is below it."""

from __future__ import annotations

from pathlib import Path

from test_seam import KIT, _module_name, imported_modules

VENDORED = KIT / "mechanisms" / "inference_server" / "kaggle_evaluation"  # Kaggle's protocol package, kept whole


def import_graph() -> dict[str, set[str]]:
    """module -> the kit modules it imports. A submodule's import of one of its own parent packages is left out:
    Python runs the parent first whatever the submodule writes, so that edge is no choice of the author's."""
    paths = {_module_name(p): p for p in KIT.rglob("*.py") if VENDORED not in p.parents}
    graph = {}
    for name, path in paths.items():
        targets = set()
        for module in imported_modules(path):
            while module and module not in paths:  # `from kit.x import name` names module kit.x
                module = module.rpartition(".")[0]
            if module and module != name and not name.startswith(module + "."):
                targets.add(module)
        graph[name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_a_circle_and_nothing_else():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_kit_has_no_import_circle():
    graph = import_graph()
    assert len(graph) > 100  # the scan found the tree
    assert cycles(graph) == []


def test_the_graph_sees_lazy_imports():
    lazy = Path(KIT / "chain" / "build.py")
    assert "kit.chain.experiments" in import_graph()[_module_name(lazy)]  # imported inside a function there
