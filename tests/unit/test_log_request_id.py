"""Log records carry the request id while a request is served, and still take one from ``extra``.

Ray Serve logs each request it served with ``extra={"request_id": ...}`` once it has ended; a record
that already had the attribute made that call raise, and Serve counted every request through the
ingress as failed (docs/scaling.md).
"""

from __future__ import annotations

import json
import logging

import pytest

from monitoring.logs import configure_logging, install_request_id, request_id_var


def test_a_record_outside_a_request_takes_the_request_id_from_extra(caplog: pytest.LogCaptureFixture) -> None:
    install_request_id()
    with caplog.at_level(logging.INFO, logger="ray.serve"):
        logging.getLogger("ray.serve").info("POST /api/v1/tts 200 1.0ms", extra={"request_id": "serve-1"})
    [record] = [r for r in caplog.records if r.name == "ray.serve"]
    assert record.request_id == "serve-1"


def test_a_record_made_while_a_request_is_served_carries_its_id(caplog: pytest.LogCaptureFixture) -> None:
    install_request_id()
    token = request_id_var.set("req-7")
    try:
        with caplog.at_level(logging.INFO, logger="speech"):
            logging.getLogger("speech").info("saved")
    finally:
        request_id_var.reset(token)
    [record] = [r for r in caplog.records if r.name == "speech"]
    assert record.request_id == "req-7"


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_log_lines_outside_a_request_show_no_request_id(fmt: str) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging("INFO", fmt)
        record = logging.getLogger("speech").makeRecord(
            "speech", logging.INFO, __file__, 1, "ready", (), None
        )
        line = root.handlers[0].format(record)
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    if fmt == "json":
        assert json.loads(line)["request_id"] is None and json.loads(line)["message"] == "ready"
    else:
        assert "[None] ready" in line
