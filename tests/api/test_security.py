"""Access security through the app: API keys on every route (API, /ui, static), Host and Origin checks,
the rate limit, JSON body bounds. Raw-socket checks through a real server are in test_body_limits.py."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from starlette.routing import Mount, Route, WebSocketRoute

from config import ConfigError, Settings, load_settings
from main_api import create_app
from tests.conftest import PIPER_ONLY

ALICE, BOB = "alice-secret-key-1", "bob-secret-key-2"
KEYS = [
    {"name": "alice", "env": "TEST_ALICE_KEY"},
    {"name": "bob", "sha256": hashlib.sha256(BOB.encode()).hexdigest()},
]


@pytest.fixture
def keyed(make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("TEST_ALICE_KEY", ALICE)
    settings = make_settings(
        engines=PIPER_ONLY, ui={"enabled": True}, security={"api_keys": KEYS, "allowed_hosts": ["testserver"]}
    )
    with TestClient(create_app(settings)) as client:
        yield client


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


def every_route(client: TestClient) -> list[tuple[str, str]]:
    """(method, path) of every route: the app's, those mounted under it (/ui, static folders), the schema's."""
    found: set[tuple[str, str]] = set()

    def walk(routes: list, prefix: str) -> None:
        for route in routes:
            if isinstance(route, Mount):
                walk(getattr(route, "routes", []) or [], prefix + route.path)
                found.add(("GET", prefix + route.path + "/"))
            elif isinstance(route, Route):
                for method in route.methods or {"GET"}:
                    found.add((method, prefix + concrete(route.path)))
            elif isinstance(route, WebSocketRoute):
                found.add(("WS", prefix + concrete(route.path)))
            elif hasattr(route, "original_router"):  # FastAPI's lazily included router (Gradio's API)
                walk(route.original_router.routes, prefix + route.include_context.prefix)

    walk(client.app.routes, "")
    for path, operations in client.get("/openapi.json", headers={"X-API-Key": ALICE}).json()["paths"].items():
        found.update((method.upper(), concrete(path)) for method in operations)
    return sorted(found)


def test_every_route_needs_a_key_but_health(keyed: TestClient) -> None:
    routes = every_route(keyed)
    assert len(routes) > 60 and any(path.startswith("/ui/gradio_api/") for _, path in routes)
    assert ("GET", "/outputs/x") in routes and ("POST", "/ui/gradio_api/upload") in routes
    opened = []
    for method, path in routes:
        if method == "WS" or path == "/health":
            continue
        response = keyed.request(method, path)
        if response.status_code != 401:
            opened.append((method, path, response.status_code))
        elif method != "HEAD":
            assert response.json()["error"]["type"] == "authentication_error"
            assert "Bearer" in response.headers["www-authenticate"]
    assert opened == []
    assert keyed.get("/health").status_code in (200, 503)  # 503 while Piper loads
    assert keyed.get("/ui/gradio_api/file=/etc/passwd").status_code == 401


def test_a_key_opens_the_api_as_bearer_or_header(keyed: TestClient) -> None:
    assert keyed.get("/api/v1/voices", headers={"Authorization": f"Bearer {ALICE}"}).status_code == 200
    assert keyed.get("/api/v1/voices", headers={"X-API-Key": BOB}).status_code == 200
    wrong = keyed.get("/api/v1/voices", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and "not valid" in wrong.json()["error"]["message"]
    v1 = keyed.get("/v1/models")
    assert v1.status_code == 401 and v1.json()["error"]["code"] == "invalid_api_key"  # OpenAI's shape


def test_config_never_shows_keys(keyed: TestClient) -> None:
    body = keyed.get("/api/v1/config", headers={"X-API-Key": ALICE}).text
    assert '"api_keys":["alice","bob"]' in body.replace(" ", "")
    assert ALICE not in body and BOB not in body and hashlib.sha256(BOB.encode()).hexdigest() not in body


def test_the_ui_asks_for_a_login_and_the_cookie_opens_it(keyed: TestClient) -> None:
    page = keyed.get("/ui/", headers={"Accept": "text/html"}, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login?next=/ui/")
    assert 'name="key"' in keyed.get(page.headers["location"]).text
    refused = keyed.post("/login", data={"key": "wrong", "next": "/ui/"}, follow_redirects=False)
    assert refused.status_code == 401 and "not valid" in refused.text
    login = keyed.post("/login", data={"key": ALICE, "next": "//evil.example/"}, follow_redirects=False)
    assert login.status_code == 303 and login.headers["location"] == "/ui/"  # no redirect off the server
    assert "httponly" in login.headers["set-cookie"].lower()
    assert keyed.get("/ui/").status_code == 200  # the client kept the cookie
    assert keyed.get("/ui/config").status_code == 200
    keyed.get("/logout", follow_redirects=False)
    assert keyed.get("/ui/config").status_code == 401


def test_metrics_can_be_left_open(make_settings: Callable[..., Settings]) -> None:
    security = {"api_keys": KEYS[1:], "public_metrics": True}
    with TestClient(create_app(make_settings(engines=PIPER_ONLY, security=security))) as client:
        assert client.get("/metrics").status_code == 200
        assert client.get("/api/v1/voices").status_code == 401


def test_a_key_read_from_an_unset_variable_stops_the_start(make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(ConfigError, match="NO_SUCH_KEY_VAR"):
        create_app(make_settings(security={"api_keys": [{"name": "x", "env": "NO_SUCH_KEY_VAR"}]}))
    with pytest.raises(ConfigError, match="exactly one of sha256 or env"):
        load_settings(security={"api_keys": [{"name": "x"}]})
    with pytest.raises(ConfigError, match="cors_origins"):
        load_settings(security={"cors_origins": ["evil.example/path"]})


@pytest.fixture
def open_client(make_settings: Callable[..., Settings]) -> Iterator[TestClient]:
    security = {"allowed_hosts": ["testserver"], "max_json_kb": 4}
    with TestClient(create_app(make_settings(engines=PIPER_ONLY, security=security))) as client:
        yield client


def test_without_keys_the_api_is_open_to_non_browser_clients(open_client: TestClient) -> None:
    assert open_client.get("/api/v1/voices").status_code == 200
    assert (
        open_client.delete("/api/v1/outputs/none.wav").json()["error"]["param"] == "confirm"
    )  # the route answered
    assert (
        "access-control-allow-origin"
        not in open_client.get("/health", headers={"Origin": "https://x.y"}).headers
    )


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "http://127.0.0.1:9999"},  # another port is another origin
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
    ],
)
def test_cross_site_state_changes_are_refused(open_client: TestClient, headers: dict[str, str]) -> None:
    deleted = open_client.delete("/api/v1/voices/narrator.wav", headers=headers)
    assert deleted.status_code == 403 and deleted.json()["error"]["code"] == "cross_site_request"
    posted = open_client.post(
        "/api/v1/tts", content='{"text": "hi"}', headers={**headers, "Content-Type": "text/plain"}
    )
    assert posted.status_code == 403 and "Cross-site request refused" in posted.json()["error"]["message"]
    assert open_client.get("/api/v1/voices", headers=headers).status_code == 200  # reading is not changing


def test_same_origin_and_listed_origins_pass(make_settings: Callable[..., Settings]) -> None:
    security = {"allowed_hosts": ["testserver"], "cors_origins": ["https://app.example.com"]}
    with TestClient(create_app(make_settings(engines=PIPER_ONLY, security=security))) as client:
        own = {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}
        assert client.delete("/api/v1/outputs/none.wav", headers=own).json()["error"]["param"] == "confirm"
        listed = client.delete("/api/v1/outputs/none.wav", headers={"Origin": "https://app.example.com"})
        assert listed.json()["error"]["param"] == "confirm"
        assert listed.headers["access-control-allow-origin"] == "https://app.example.com"
        preflight = client.options(
            "/api/v1/tts",
            headers={"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"},
        )
        assert preflight.status_code == 200


def test_unknown_host_names_are_refused(open_client: TestClient) -> None:
    rebound = open_client.get("/api/v1/voices", headers={"Host": "evil.example"})
    assert rebound.status_code == 400 and "security.allowed_hosts" in rebound.json()["error"]["message"]
    for host in ("localhost:7860", "127.0.0.1:7860", "[::1]:7860", "192.168.1.20"):
        assert open_client.get("/api/v1/voices", headers={"Host": host}).status_code == 200, host


def test_json_bodies_over_the_limit_are_refused(open_client: TestClient) -> None:
    big = '{"text": "' + "a" * 5000 + '"}'
    declared = open_client.post("/api/v1/tts/jobs", content=big, headers={"Content-Type": "application/json"})
    assert declared.status_code == 413 and "security.max_json_kb" in declared.json()["error"]["message"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while read
        yield big.encode()

    chunked = open_client.post(
        "/api/v1/tts/jobs", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert chunked.status_code == 413 and chunked.json()["error"]["code"] == "body_too_large"


def test_the_rate_limit_answers_429_with_retry_after(make_settings: Callable[..., Settings]) -> None:
    security = {"allowed_hosts": ["testserver"], "rate_limit_per_minute": 6, "rate_limit_burst": 3}
    with TestClient(create_app(make_settings(engines=PIPER_ONLY, security=security))) as client:
        statuses = [client.get("/api/v1/voices").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        limited = client.get("/api/v1/voices")
        assert limited.status_code == 429 and 1 <= int(limited.headers["retry-after"]) <= 10
        assert limited.json()["error"]["type"] == "rate_limit_error"
        assert client.get("/health").status_code != 429  # never limited
