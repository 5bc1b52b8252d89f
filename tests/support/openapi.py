"""The app's OpenAPI document, pinned in tests/api/openapi.json.

Regenerate the pinned copy after an intended change of the public API with
``uv run --frozen python -m tests.support.openapi``."""

from __future__ import annotations

import json
from pathlib import Path

PINNED = Path(__file__).resolve().parents[1] / "api" / "openapi.json"


def openapi_text(root: Path) -> str:
    """The OpenAPI document of an app built from config.yaml with data folders under ``root``."""
    from config import load_settings
    from main_api import create_app

    paths = {name: str(root / name) for name in ("voices", "outputs", "vc_inputs", "temp")}
    settings = load_settings(
        paths={f"{name}_dir": folder for name, folder in paths.items()},
        piper={"voices_dir": str(root / "piper_voices")},
        ui={"enabled": False},
    )
    return json.dumps(create_app(settings).openapi(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        PINNED.write_text(openapi_text(Path(folder)))
    print(f"wrote {PINNED}")
