"""Below the HTTP layer nothing imports a web framework (see DESIGN.md)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BELOW_HTTP = [
    "core_engine.py",
    "config.py",
    "exceptions.py",
    "api_models.py",
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


def test_api_models_import_pydantic_only() -> None:
    third_party = _imports(ROOT / "api_models.py") - {"__future__", "typing"}
    assert third_party == {"pydantic"}
