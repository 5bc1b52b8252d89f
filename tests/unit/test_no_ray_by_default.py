"""The single-process server never imports Ray (an optional extra, used only by serving/)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import sys
from fastapi.testclient import TestClient
from tests.conftest import settings_for, PIPER_ONLY, wait_until_ready
from main_api import create_app
from pathlib import Path
with TestClient(create_app(settings_for(Path(sys.argv[1]), engines=PIPER_ONLY))) as client:
    wait_until_ready(client)
    assert client.post("/api/v1/tts", json={"text": "Hello."}).status_code == 200
print(sorted(name for name in sys.modules if name == "ray" or name.startswith("ray.")))
"""


def test_starting_and_serving_the_default_app_does_not_load_ray(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"
