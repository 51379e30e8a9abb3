"""The package's module graph: no import cycles, no borrowed private names."""

import ast
from pathlib import Path

import django_duckdb

PACKAGE = Path(django_duckdb.__file__).parent


def _imports(path):
    """(module imported, names taken) for every import in the file, at any
    depth (a function-level import counts like one at the top)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:
                base = node.module
            elif node.level == 0 and (node.module or "").startswith("django_duckdb."):
                base = node.module.split(".", 1)[1]
            elif node.level == 0 and node.module == "django_duckdb":
                base = None
            else:
                continue
            names = [alias.name for alias in node.names]
            if base is None:
                # "from . import dbapi, registry"
                found.extend((name, []) for name in names)
            else:
                found.append((base.split(".")[0], names))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("django_duckdb."):
                    found.append((alias.name.split(".")[1], []))
    return found


def module_graph():
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    graph = {}
    for module in sorted(modules):
        graph[module] = {
            target for target, _ in _imports(PACKAGE / f"{module}.py") if target in modules and target != module
        }
    return graph


def find_cycles(graph):
    """Every cycle, as a list of modules, found by depth-first search."""
    cycles, state = [], {}

    def visit(node, stack):
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                cycles.append(stack[stack.index(target) :] + [target])
            elif target not in state:
                visit(target, stack)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
    return cycles


def test_no_import_cycles():
    assert find_cycles(module_graph()) == []


def test_no_private_names_imported_between_modules():
    borrowed = [
        (path.stem, target, name)
        for path in sorted(PACKAGE.glob("*.py"))
        for target, names in _imports(path)
        for name in names
        if name.startswith("_")
    ]
    assert borrowed == []


def test_errors_module_imports_nothing_from_the_project():
    tree = ast.parse((PACKAGE / "errors.py").read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            imported.add("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
    assert all(name.split(".")[0] in ("django", "duckdb") for name in imported), imported
