"""``bench/plus_curl_replay.py`` on a small stand-in for Plus's documents: it stays runnable and counts right."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

README = """# API

```bash
curl -X POST "http://localhost:7860/api/v1/tts" \\
  -H "Content-Type: application/json" \\
  -d '{
    "text": "Hello there.",
    "reference_audio_filename": "seeded_voice.wav",
    "export_formats": ["wav"]
  }' \\
  --output speech.wav
curl -s http://localhost:7860/api/v1/health | jq '.status'
curl -X DELETE "http://localhost:7860/api/v1/voice/my_voice.wav?confirm=true"
curl -X POST http://localhost:7860/api/v1/voice -F "voice_file=@/path/to/my_voice.wav" -F "name=Mine"
curl -X POST http://localhost:7860/api/v1/tts -H "Content-Type: application/json" -d '{"text": ""}' # should fail
curl -X [METHOD] http://localhost:7860/api/v1/[path]
curl http://localhost:7860/api/v1/health
```
"""


@pytest.mark.skipif(not Path("/usr/bin/curl").exists(), reason="needs the curl program")
def test_replay_joins_multiline_commands_seeds_files_and_orders_uploads_first(tmp_path: Path) -> None:
    (tmp_path / "README-API.md").write_text(README)
    (tmp_path / "docs" / "dev").mkdir(parents=True)
    (tmp_path / "docs" / "dev" / "notes.md").write_text("```\ncurl http://localhost:7860/not-counted\n```\n")
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "plus_curl_replay.py"), str(tmp_path), "--list"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    # 7 distinct (the repeated health check once; docs/dev left out), 1 template
    assert "distinct curl commands: 7 (1 templates not runnable)" in out, out
    # the upload runs before the delete that needs it; the multi-line TTS finds its seeded voice
    assert "2xx: 5 of 6 runnable" in out, out
    assert "not 2xx as the documents intend (an error example): 1" in out, out
    assert out.index("/api/v1/voice -F") < out.index("-X DELETE"), out
