"""The dependency rules of docs/DESIGN.md, checked on the source: no import cycles among
the project's modules, and the arrows pointing one way."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = (
    "accounts",
    "admin_panel",
    "audit",
    "billing",
    "catalogue",
    "config",
    "conversations",
    "core",
    "django_duckdb",
    "gateway",
    "generation",
    "openrouter",
    "teams",
    "twofactor",
    "operations",
    "usage",
    "videos",
)
APPS = {
    "accounts",
    "admin_panel",
    "audit",
    "billing",
    "catalogue",
    "conversations",
    "core",
    "gateway",
    "generation",
    "teams",
    "twofactor",
    "operations",
    "usage",
    "videos",
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                found[_module_name(path)] = path
    return found


def _imports(path: Path, module: str, known: set[str]) -> set[str]:
    """Project modules that ``module`` imports anywhere in its file (functions included)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    targets = set()
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(filter(None, [*anchor, base]))
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            # The longest known module the name refers to ("a.b.c" -> "a.b" if that is a module).
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name != module:
                targets.add(name)
    return targets


def _runtime_nodes(tree: ast.AST):
    """Every node but those under ``if TYPE_CHECKING:`` (annotations only, never run)."""
    pending = [tree]
    while pending:
        node = pending.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                pending.extend(child.orelse)
                continue
            pending.append(child)


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(path, name, known) for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            # A package's __init__ importing its own submodules is not a cycle of behaviour.
            if target.startswith(node + "."):
                continue
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
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

    for node in graph:
        if node not in index:
            visit(node)
    return found


def _top(name: str) -> str:
    return name.split(".")[0]


def test_no_import_cycles_among_project_modules():
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def _checked(graph: dict[str, set[str]], *packages: str) -> dict[str, set[str]]:
    """The modules of ``packages`` with their imports; never empty, or a rule about them
    would hold for want of anything to check."""
    found = {name: targets for name, targets in graph.items() if _top(name) in packages}
    assert {_top(name) for name in found} == set(packages), f"no modules found for {packages}"
    assert any(found.values()), f"no imports found in {packages}"
    return found


def test_openrouter_and_django_duckdb_import_no_app():
    for name, targets in _checked(_graph(), "openrouter", "django_duckdb").items():
        assert not {_top(t) for t in targets} & (APPS | {"config"}), name


def test_config_imports_app_code_only_in_urls():
    for name, targets in _checked(_graph(), "config").items():
        if name != "config.urls":
            assert not {_top(t) for t in targets} & APPS, (name, targets)


def test_core_and_catalogue_do_not_depend_on_the_apps_above_them():
    above = {"accounts", "admin_panel", "conversations", "gateway", "generation", "usage", "videos"}
    for name, targets in _checked(_graph(), "core", "catalogue").items():
        assert not {_top(t) for t in targets} & above, (name, targets)
        if _top(name) == "core":
            assert "catalogue" not in {_top(t) for t in targets}, (name, targets)


def test_admin_panel_uses_no_view_api_or_form_module_of_accounts():
    internal = {"accounts.api", "accounts.views", "accounts.forms", "accounts.urls"}
    for name, targets in _checked(_graph(), "admin_panel").items():
        assert not targets & internal, (name, targets & internal)


def test_the_hooks_any_module_may_call_import_no_app():
    """operations.context, .metrics and .logs are called from core/ and the services of
    every app (one-line hooks), so they stand below all of them."""
    graph = _graph()
    for name in ("operations.context", "operations.metrics", "operations.logs"):
        assert not {_top(t) for t in graph[name]} & (APPS | {"config"}) - {"operations"}, name
        assert graph[name] <= {"operations", "operations.context"}, (name, graph[name])


def test_audit_records_without_knowing_the_apps_that_call_it():
    above = {"accounts", "billing", "catalogue", "conversations", "gateway", "generation", "usage", "videos"}
    for name, targets in _checked(_graph(), "audit").items():
        if name.startswith(("audit.services", "audit.models", "audit.selectors")):
            assert not {_top(t) for t in targets} & above, (name, targets)


def _private_names_of(package: str, path: Path) -> set[str]:
    """``_name``s a file takes from ``package``: imported from it, or reached through a
    module of it (``services._open``)."""
    tree = ast.parse(path.read_text(), str(path))
    modules = set()
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == package:
            for alias in node.names:
                if alias.name.startswith("_"):
                    found.add(f"{node.module}.{alias.name}")
                modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == package:
                    modules.add(alias.asname or alias.name.split(".")[0])
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            if isinstance(node.value, ast.Name) and node.value.id in modules:
                found.add(f"{node.value.id}.{node.attr}")
    return found


def test_conversations_and_the_gateway_use_only_public_names_of_generation():
    """They call the one text pipeline; its plumbing stays behind its public names."""
    checked = 0
    for package in ("conversations", "gateway"):
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            checked += 1
            assert _private_names_of("generation", path) == set(), path
    assert checked > 10


def test_the_private_name_finder_finds_them(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        "from generation import services as gen\nfrom generation.api import _x, y\ngen._open(1)\ny._z\nother._w\n"
    )
    assert _private_names_of("generation", module) == {"generation.api._x", "gen._open", "y._z"}


def test_server_sent_events_are_framed_in_core_sse_only():
    """Studio's events and OpenAI's chunks alike (the provider's side, openrouter/, aside)."""
    framing = []
    for path in ROOT.glob("*/**/*.py"):
        top = path.relative_to(ROOT).parts[0]
        if top in {".venv", "var", "tests", "bench", "openrouter"} or path == ROOT / "core" / "sse.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if node.value.startswith(("data: ", "event: ")):
                    framing.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert framing == []
