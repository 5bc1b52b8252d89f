"""Below the HTTP layer nothing imports a web framework (see DESIGN.md)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BELOW_HTTP = [
    "core_engine.py",
    "config.py",
    "settings",
    "exceptions.py",
    "parameters.py",
    "api_models.py",
    "api/schemas",
    "engines",
    "utils",
    "management",
    "monitoring",
    "core",
    "recognition",
]
WEB = {"fastapi", "starlette", "gradio"}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_nothing_below_the_http_layer_imports_a_web_framework() -> None:
    files = [
        p
        for entry in BELOW_HTTP
        for p in ([ROOT / entry] if entry.endswith(".py") else (ROOT / entry).rglob("*.py"))
    ]
    assert len(files) > 10
    offenders = {str(p.relative_to(ROOT)): sorted(_imports(p) & WEB) for p in files if _imports(p) & WEB}
    assert offenders == {}


def test_the_ui_calls_the_engine_not_the_http_layer() -> None:
    """ui/ and api/ are siblings over the CoreEngine: neither imports the other's framework code."""
    ui = {str(p.relative_to(ROOT)): _imports(p) & {"api"} for p in (ROOT / "ui").rglob("*.py")}
    api = {str(p.relative_to(ROOT)): _imports(p) & {"ui", "gradio"} for p in (ROOT / "api").rglob("*.py")}
    assert len(ui) > 3
    assert {name: found for name, found in {**ui, **api}.items() if found} == {}


def _modules(path: Path) -> set[str]:
    """The full names of the modules a file imports (``from a.b import c`` gives ``a.b``)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_api_models_import_pydantic_only() -> None:
    """api_models.py re-exports api/schemas/, whose modules import pydantic and each other only."""
    assert all(name.startswith("api.schemas.") for name in _modules(ROOT / "api_models.py") - {"__future__"})
    schemas = list((ROOT / "api" / "schemas").glob("*.py"))
    assert len(schemas) > 5
    used = set().union(*(_modules(path) for path in schemas)) - {"__future__", "typing"}
    assert {name for name in used if not name.startswith("api.schemas.")} == {"pydantic", "parameters"}
    assert _modules(ROOT / "parameters.py") - {"__future__", "typing"} == {"pydantic"}


def test_server_code_imports_only_runtime_dependencies() -> None:
    """A package the server imports must be installed by `scripts/serve` (no dev group), or be an
    optional extra of pyproject.toml (imported only when configured: psycopg for index.url)."""
    import re
    import sys
    import tomllib
    from importlib.metadata import packages_distributions

    runtime = {
        re.split(r"[=<>; ]", line)[0].lower().replace("_", "-")
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line and not line.startswith((" ", "#"))
    }
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"].get("optional-dependencies", {})
    runtime |= {re.split(r"[\[=<>; ]", spec)[0].lower() for specs in extras.values() for spec in specs}
    local = {p.stem for p in ROOT.glob("*.py")} | {
        p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()
    }
    distributions = packages_distributions()
    code = [
        p for p in ROOT.rglob("*.py") if not p.relative_to(ROOT).parts[0].startswith((".", "tests", "bench"))
    ]
    missing = {}
    for path in code:
        for name in _imports(path) - local - set(sys.stdlib_module_names) - {"__future__"}:
            dists = {d.lower().replace("_", "-") for d in distributions.get(name, [name])}
            if not dists & runtime:
                missing[f"{path.relative_to(ROOT)}: {name}"] = sorted(dists)
    assert missing == {}


def _product_modules() -> dict[str, Path]:
    """Every product module by its dotted name (tests, bench and the virtual environment left out)."""
    files = [
        p for p in ROOT.rglob("*.py") if not p.relative_to(ROOT).parts[0].startswith((".", "tests", "bench"))
    ]
    modules = {}
    for path in files:
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def test_no_route_imports_another_route() -> None:
    """Shared route parameters live in api/params.py and shared shaping in api/views.py, not in a router."""
    routes = [p for p in (ROOT / "api" / "routes").glob("*.py") if p.name != "__init__.py"]
    assert len(routes) > 10
    found = {p.name: sorted(n for n in _modules(p) if n.startswith("api.routes")) for p in routes}
    assert {name: used for name, used in found.items() if used} == {}


def test_schemas_have_one_import_path() -> None:
    """Outside api/schemas/, a request or response shape is imported from api_models only."""
    modules = _product_modules()
    found = {
        name: sorted(n for n in _modules(path) if n.startswith("api.schemas"))
        for name, path in modules.items()
        if not name.startswith("api.schemas") and name != "api_models"
    }
    assert {name: used for name, used in found.items() if used} == {}


def _top_level_imports(path: Path, known: set[str]) -> set[str]:
    """The product modules a module imports when it is loaded (not inside functions or TYPE_CHECKING)."""
    names: set[str] = set()
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in names if name in known}


def test_no_import_cycle_at_load_time() -> None:
    """Modules import each other in one direction when loaded (a function-level import is not counted)."""
    modules = _product_modules()
    graph = {
        name: {n for n in _top_level_imports(path, set(modules)) if not (name + ".").startswith(n + ".")}
        for name, path in modules.items()
    }  # a package's own modules may read the package they belong to
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []


def test_services_do_not_import_the_composition_root() -> None:
    """core_engine.py builds the services in core/; none of them reaches back to it, not even for types."""
    services = list((ROOT / "core").glob("*.py"))
    assert len(services) > 8
    found = {p.name: "core_engine" in _modules(p) for p in services}
    assert [name for name, imports in found.items() if imports] == []


def test_routes_and_the_ui_do_not_reach_past_the_core_engine_to_the_engine_manager() -> None:
    """``engine.engines`` / ``core.engines`` (the EngineManager and the engine instances) stay behind
    the CoreEngine and its services; routes and the UI ask them (``engine.memory()``, ``core.speech``)."""
    found: dict[str, list[int]] = {}
    for path in [*(ROOT / "api").rglob("*.py"), *(ROOT / "ui").rglob("*.py"), ROOT / "main_api.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Attribute)
                and node.attr == "engines"
                and isinstance(node.value, ast.Name)
                and node.value.id in {"engine", "core"}
            ):
                found.setdefault(str(path.relative_to(ROOT)), []).append(node.lineno)
    assert found == {}
