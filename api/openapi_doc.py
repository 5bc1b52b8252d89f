"""The OpenAPI document as viewers and generated clients expect it.

Some responses and request bodies embed a model's own JSON schema (a route that answers audio or
JSON, a body taken as JSON or as a form). Pydantic puts such a schema's nested models under a local
``$defs`` with ``#/$defs/...`` references, which OpenAPI tools do not resolve (ReDoc stops with
"Invalid reference token: $defs"). They are hoisted into ``components/schemas`` here, once.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

_LOCAL = "#/$defs/"
_COMPONENT = "#/components/schemas/"


def install_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` return the document with nested ``$defs`` hoisted into components."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = hoist_defs(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def hoist_defs(document: dict[str, Any]) -> dict[str, Any]:
    """Move every nested ``$defs`` into ``components/schemas`` and point its references there."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})

    def visit(node: Any) -> Any:
        if isinstance(node, dict):
            for name, schema in node.pop("$defs", {}).items():
                schemas.setdefault(name, visit(schema))
            for key, value in node.items():
                if key == "$ref" and isinstance(value, str) and value.startswith(_LOCAL):
                    node[key] = _COMPONENT + value[len(_LOCAL) :]
                else:
                    visit(value)
        elif isinstance(node, list):
            for item in node:
                visit(item)
        return node

    for key in [k for k in document if k != "components"]:
        visit(document[key])
    for schema in list(schemas.values()):  # entries hoisted above were visited on the way in
        visit(schema)
    document["components"]["schemas"] = dict(sorted(schemas.items()))
    return document
