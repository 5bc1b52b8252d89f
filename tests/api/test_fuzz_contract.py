"""The API contract under fuzzing: Schemathesis sends generated requests to every operation of the live
OpenAPI document and checks that no answer is a 5xx and every answer matches what the document says
(status code, content type, body schema). Bounded and seeded: the same examples on every run."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode, checks

from config import load_settings
from core_engine import CoreEngine
from main_api import create_app
from tests.support.engines import EchoConversion, ToneEngine
from tests.support.live_server import serve_in_thread

# Examples per operation (positive and negative); FUZZ_EXAMPLES=200 for a longer hunt.
EXAMPLES_PER_OPERATION = int(os.environ.get("FUZZ_EXAMPLES", "25"))
CALLS: list[int] = []  # every status answered, to show the run reached the happy paths too


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[schemathesis.BaseSchema]:
    root = tmp_path_factory.mktemp("fuzz")
    app_settings = load_settings(
        paths={name: str(root / name) for name in ("voices_dir", "outputs_dir", "vc_inputs_dir", "temp_dir")},
        piper={"voices_dir": str(root / "piper_voices")},
        engines={"enabled": ["piper", "chatterbox-vc"], "default": "piper", "fallback": None},
        ui={"enabled": False},
        downloads={"timeout_seconds": 2},
    )
    # A tone stands in for Piper: fuzzing is about the contract, and each request stays cheap.
    doubles = {"piper": ToneEngine(clones_voices=True), "chatterbox-vc": EchoConversion()}
    engine = CoreEngine(app_settings, engines=doubles)
    with serve_in_thread(create_app(app_settings, engine=engine)) as base:
        yield schemathesis.openapi.from_url(f"{base}/openapi.json")


@schemathesis.check
def no_server_error_but_a_documented_503(ctx: Any, response: Any, case: schemathesis.Case) -> None:
    """A 5xx is a bug, except 503 (an engine loading or down, a full queue): documented, retryable."""
    CALLS.append(response.status_code)
    if response.status_code >= 500 and response.status_code != 503:
        raise AssertionError(f"{case.operation.label} answered {response.status_code}: {response.text[:800]}")


CHECKS = [
    no_server_error_but_a_documented_503,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


def fuzz(operation: Any) -> str | None:
    """Seeded, bounded examples for one operation; the first broken contract, described, or None."""

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(case=st.one_of(operation.as_strategy(mode) for mode in GenerationMode))
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(checks=CHECKS, timeout=60)

    try:
        run()
    except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - any failure of the example is reported
        return f"{operation.label}: {type(exc).__name__}: {str(exc)[:1500]}"
    return None


def test_every_operation_keeps_its_contract(api_schema: schemathesis.BaseSchema) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 40
    broken = []
    for operation in operations:
        if failure := fuzz(operation):
            broken.append(failure)
    assert not broken, "\n\n".join(broken)
    assert len(CALLS) > 10 * len(operations) and CALLS.count(200) > len(operations), sorted(set(CALLS))


def test_chained_calls_keep_the_contract(api_schema: schemathesis.BaseSchema) -> None:
    """Stateful: Schemathesis chains the operations it can link from the document (create an emotion
    profile, then read, change and delete it; submit a job, then read, follow and cancel it) with the
    ids real answers returned, and checks every answer of every step."""
    machine = api_schema.as_state_machine()
    links = [
        name
        for name in dir(machine)
        if "__" in name and name.split("_")[0] in {"GET", "POST", "PUT", "DELETE"}
    ]
    assert any("emotions" in link for link in links) and any("jobs" in link for link in links), links
    before = len(CALLS)

    class Contract(machine):  # type: ignore[misc, valid-type]
        def validate_response(self, response: Any, case: schemathesis.Case, **kwargs: Any) -> None:
            case.validate_response(response, checks=CHECKS)

    Contract.run(
        settings=settings(
            max_examples=int(os.environ.get("FUZZ_STATEFUL_EXAMPLES", "40")),
            stateful_step_count=6,
            derandomize=True,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
    )
    assert len(CALLS) - before > 30  # the chains ran
