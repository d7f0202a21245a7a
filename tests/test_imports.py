"""The modules of tutoradmin import each other without a cycle, even from inside a function."""

import ast
from pathlib import Path

import tutoradmin

PACKAGE = "tutoradmin"
ROOT = Path(tutoradmin.__file__).parent


def module_files():
    """{module name: path} for every module of the package, packages named by their __init__."""
    modules = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = (PACKAGE, *path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def imported_modules(name, path, modules):
    """The package's modules that `name` imports, at module level or anywhere inside it."""
    is_package = path.name == "__init__.py"
    here = name if is_package else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.add(_known(alias.name, modules))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here.rsplit(".", node.level - 1)[0] if node.level > 1 else here
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module
            for alias in node.names:
                # `from . import x` imports the module tutoradmin.x when x is one, else a name of the package.
                submodule = f"{target}.{alias.name}"
                found.add(submodule if submodule in modules else _known(target, modules))
    found.discard(None)
    found.discard(name)
    return found


def _known(dotted, modules):
    """The package's module that `import dotted` runs last, or None outside the package."""
    while dotted:
        if dotted in modules:
            return dotted
        dotted = dotted.rpartition(".")[0]
    return None


def import_graph():
    modules = module_files()
    return {name: imported_modules(name, path, modules) for name, path in modules.items()}


def cycles(graph):
    """The strongly connected components of more than one module (Tarjan), each as one cycle through it."""
    index, low, stack, on_stack, components = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_cycle_through(graph, component) for component in components]


def _cycle_through(graph, component):
    """A shortest import path from the component's first module back to itself, for the failure message."""
    start = min(component)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for nxt in sorted(graph[node] & component):
            if nxt == start:
                return paths[node] + [start]
            if nxt not in paths:
                paths[nxt] = paths[node] + [nxt]
                queue.append(nxt)
    raise AssertionError(f"no cycle through {component}")


def test_no_module_of_tutoradmin_imports_one_that_imports_it_back():
    found = cycles(import_graph())
    assert not found, "Import cycles:\n" + "\n".join(" → ".join(cycle) for cycle in found)


def test_the_cycle_finder_reports_a_cycle_once_and_ignores_what_only_leads_to_it():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c", "a"]]


def test_the_graph_resolves_relative_imports_to_the_modules_of_the_package():
    graph = import_graph()
    assert "tutoradmin.extensions" in graph["tutoradmin.appointments"]
    assert "tutoradmin.models" in graph["tutoradmin.appointments"]
    assert "tutoradmin.models.dates" in graph["tutoradmin.appointments"]
    # Imported inside create_app's helpers, not at module level.
    assert "tutoradmin.views" in graph["tutoradmin"]
