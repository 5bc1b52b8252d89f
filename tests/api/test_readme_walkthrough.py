"""The README's "Using it" walkthrough, command by command, against a real server on a fresh machine.

The server runs with the default config and no weights, offline (Chatterbox cannot load, Piper
serves), in empty folders: what the README tells a new user to type must work as written, in order.
The commands are read from the README itself, so the test fails when the README drifts.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.live_server import ROOT, live_server
from utils.audio import decode

README = ROOT / "README.md"
AUDIO = {".wav", ".mp3", ".flac", ".opus", ".aac", ".ogg"}
_BLOCK = re.compile(r"^```bash\n(.*?)^```", re.MULTILINE | re.DOTALL)


def walkthrough() -> list[list[str]]:
    """The commands of each bash block under "## Using it" (continued lines joined, comments dropped)."""
    section = README.read_text().split("\n## Using it\n", 1)[1].split("\n## ", 1)[0]
    blocks = []
    for block in _BLOCK.findall(section):
        commands, current = [], ""
        for line in block.splitlines():
            if not current and (not line.strip() or line.lstrip().startswith("#")):
                continue
            current += line.rstrip("\\").rstrip() + " " if line.endswith("\\") else line
            if not line.endswith("\\"):
                commands.append(current.strip())
                current = ""
        blocks.append(commands)
    return blocks


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with live_server(tmp_path_factory.mktemp("readme-server")) as base:
        yield base.removeprefix("http://")


def _run(command: str, host: str, workdir: Path) -> subprocess.CompletedProcess[str]:
    command = command.replace("localhost:7860", host)
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", command], cwd=workdir, capture_output=True, text=True, timeout=300
    )


def test_the_readme_walkthrough_runs_as_written(server: str, tmp_path: Path) -> None:
    offline, chatterbox = walkthrough()
    assert len(offline) >= 10 and all(c.startswith("curl --fail-with-body") for c in offline + chatterbox)
    for command in offline:
        done = _run(command, server, tmp_path)
        assert done.returncode == 0, f"{command}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    written = [path for path in tmp_path.iterdir() if path.suffix in AUDIO]
    assert {p.name for p in written} >= {"hello.wav", "line.wav", "chapter.mp3", "live.mp3", "hello.mp3"}
    for path in written:
        assert decode(path).duration > 0.5, path.name  # every file the walkthrough wrote is audio
    # Without weights, what needs Chatterbox is refused with a 503 that says so, and why.
    for command in chatterbox:
        done = _run(command, server, tmp_path)
        assert done.returncode == 22 and "503" in done.stderr, f"{command}\n{done.stderr}"
        target = re.search(r"-o (\S+)", command)
        body = json.loads((tmp_path / target.group(1)).read_text() if target else done.stdout)
        message = body["error"]["message"]
        assert "chatterbox" in message and ("checkpoint_dir" in message or "Chatterbox weights" in message), (
            message
        )
