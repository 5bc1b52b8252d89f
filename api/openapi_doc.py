"""The OpenAPI document as viewers, schema checkers and generated clients expect it.

Every operation documents the errors it can answer, in the one error shape (``ErrorResponse``), and
not FastAPI's default 422, which this server never sends (validation errors are a 400 naming the field).

Some responses and request bodies embed a model's own JSON schema (a route that answers audio or
JSON, a body taken as JSON or as a form). Pydantic puts such a schema's nested models under a local
``$defs`` with ``#/$defs/...`` references, which OpenAPI tools do not resolve (ReDoc stops with
"Invalid reference token: $defs"). They are hoisted into ``components/schemas`` here, once.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI

from api_models import ErrorResponse

_LOCAL = "#/$defs/"
_COMPONENT = "#/components/schemas/"
_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}
# What any route may answer besides its success; each is an ErrorResponse whose `param` names the field.
ERROR_STATUSES = {
    "400": "Invalid request: `error.param` names the field and `error.message` says what is wrong.",
    "401": "A key is needed (API keys are configured): `Authorization: Bearer <key>` or `X-API-Key`.",
    "403": "Refused: a cross-site request that would change something (browser safety).",
    "404": "Not found: the voice, file, job or engine named does not exist.",
    "409": "Conflict: the name is taken (send `overwrite`), or it names several files.",
    "408": "The request body arrived too slowly (see `security.body_timeout_seconds`).",
    "413": "Too large: an upload or body over its limit (the message names the setting).",
    "429": "Too many requests from this key or address: see `Retry-After`.",
    "500": "Internal error: a bug; the message carries the request id to quote.",
    "503": "Unavailable: the engine is loading or down, or its queue is full (see `Retry-After`).",
    "507": "Insufficient storage: the server's disk is full; nothing was saved.",
}


# The groups of /docs and /redoc, in the order a new user meets them.
TAGS = [
    {
        "name": "speech",
        "description": "Text to speech (`/api/v1/tts`, long-text jobs) and voice conversion (`/api/v1/vc`).",
    },
    {
        "name": "openai",
        "description": "OpenAI's `/v1/audio/speech` for any OpenAI client (`base_url` `http://<host>:7860/v1`).",
    },
    {
        "name": "voices",
        "description": "The voice library in `voices/`: upload with a quality report, folders, tags, backup.",
    },
    {
        "name": "emotions",
        "description": "Emotion profiles: a character's voice in one mood, usable as a voice everywhere.",
    },
    {"name": "concatenation", "description": "Join outputs, uploads and silences into one file."},
    {"name": "outputs", "description": "Saved results in `outputs/`: listing, metadata, download, delete."},
    {"name": "vc inputs", "description": "Clips in `vc_inputs/` to convert: upload, list, delete."},
    {"name": "models", "description": "Engines: state, capabilities, load and unload, memory."},
    {"name": "monitoring", "description": "Health, metrics and cleanup of old files."},
    {"name": "system", "description": "The effective configuration and server facts."},
    {
        "name": "compat: travisvn",
        "description": "travisvn's chatterbox-tts-api routes, so its clients work unchanged (see docs/clients.md).",
    },
    {
        "name": "compat: devnen",
        "description": "devnen's Chatterbox-TTS-Server routes, so its clients work unchanged (see docs/clients.md).",
    },
]


def install_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` return the document with nested ``$defs`` hoisted into components."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = unique_summaries(document_errors(hoist_defs(build())))
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
    return document  # document_errors sorts the components once everything is in


def document_errors(document: dict[str, Any]) -> dict[str, Any]:
    """Declare every error status on every operation; drop the 422 the server never answers."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    error = ErrorResponse.model_json_schema(ref_template=_COMPONENT + "{model}")
    for name, definition in error.pop("$defs", {}).items():
        schemas.setdefault(name, definition)
    schemas.setdefault("ErrorResponse", error)
    body = {"application/json": {"schema": {"$ref": _COMPONENT + "ErrorResponse"}}}
    for item in document.get("paths", {}).values():
        for method, operation in item.items():
            if method not in _METHODS:
                continue
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            for status, description in ERROR_STATUSES.items():
                responses.setdefault(status, {"description": description, "content": body})
    referenced = json.dumps(document.get("paths", {}))
    for unused in ("HTTPValidationError", "ValidationError"):
        if f'"{_COMPONENT}{unused}"' not in referenced:
            schemas.pop(unused, None)
    document["components"]["schemas"] = dict(sorted(schemas.items()))
    return document


def unique_summaries(document: dict[str, Any]) -> dict[str, Any]:
    """Give operations that share a summary (``Create Speech`` twice) their path, so each reads apart."""
    operations = [
        (path, operation)
        for path, item in document.get("paths", {}).items()
        for method, operation in item.items()
        if method in _METHODS
    ]
    counts: dict[str, int] = {}
    for _, operation in operations:
        counts[operation.get("summary", "")] = counts.get(operation.get("summary", ""), 0) + 1
    for path, operation in operations:
        if counts.get(operation.get("summary", ""), 0) > 1:
            operation["summary"] = f"{operation['summary']} ({path})"
    return document
