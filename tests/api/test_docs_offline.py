"""/docs and /redoc come with everything they load: no CDN, so they work on a machine without network."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient


@pytest.mark.parametrize(("page", "assets"), [("/docs", 2), ("/redoc", 1)])
def test_api_docs_load_their_scripts_from_the_server(
    piper_client: TestClient, page: str, assets: int
) -> None:
    html = piper_client.get(page)
    assert html.status_code == 200 and "text/html" in html.headers["content-type"]
    sources = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', html.text)
    assert len(sources) == assets, sources
    for source in sources:
        assert source.startswith("/"), f"{page} loads {source} from elsewhere"
        asset = piper_client.get(source)
        assert asset.status_code == 200 and len(asset.content) > 100_000
    assert "cdn." not in html.text and "fonts.googleapis" not in html.text
    assert piper_client.get("/openapi.json").json()["info"]["title"] == "Chatterbox TTS Extended Plus"


def test_every_reference_in_the_openapi_document_resolves(piper_client: TestClient) -> None:
    """Embedded model schemas used to carry local ``$defs`` that ReDoc refused ("Invalid reference token")."""
    document = piper_client.get("/openapi.json").json()
    text = json.dumps(document)
    assert "$defs" not in text
    components = document["components"]["schemas"]
    refs = set(re.findall(r'"\$ref": "([^"]+)"', text))
    assert refs and all(ref.startswith("#/components/schemas/") for ref in refs), refs
    assert {ref.rsplit("/", 1)[1] for ref in refs} <= set(components)
    assert "ChunkInfo" in components  # hoisted from the speech response's embedded schema


def test_every_operation_documents_the_errors_it_answers(piper_client: TestClient) -> None:
    """Validation errors are a 400 here, never FastAPI's 422: the document says so for every route."""
    paths = piper_client.get("/openapi.json").json()["paths"]
    operations = [op for item in paths.values() for method, op in item.items() if method != "parameters"]
    assert len(operations) > 40
    for operation in operations:
        responses = operation["responses"]
        assert "422" not in responses, operation["summary"]
        assert {"400", "404", "500", "503"} <= set(responses), operation["summary"]
        assert responses["400"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorResponse")
    bad = piper_client.post("/api/v1/tts", json={"text": 5})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "text"
