"""The public API does not change by accident: the OpenAPI document equals the pinned copy."""

from __future__ import annotations

from pathlib import Path

from tests.support.openapi import PINNED, openapi_text


def test_the_openapi_document_equals_the_pinned_copy(tmp_path: Path) -> None:
    document = openapi_text(tmp_path)
    assert '"/api/v1/tts"' in document and '"/v1/audio/speech"' in document
    assert document == PINNED.read_text(), (
        "the OpenAPI document changed; if intended, run `uv run --frozen python -m tests.support.openapi`"
    )
