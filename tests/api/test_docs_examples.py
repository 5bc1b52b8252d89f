"""The endpoint docs are true: their field tables match the models, and their examples run.

Blocks fenced as ```bash example or ```python example run against a real `python main_api.py`
(default config, no weights: Piper serves). Blocks marked `example chatterbox` need Chatterbox and
run (marked slow) against a server on the random-weight test checkpoint: noise, not speech, but
the requests, responses and files are the real ones.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import soundfile as sf
from pydantic import BaseModel

from api_models import ConcatRequest, OpenAISpeechRequest, TTSRequest, VCRequest
from tests.support.live_server import ROOT, live_server
from utils.audio import decode

DOCS = ROOT / "docs" / "api" / "endpoints"
DOC_BASE = "http://127.0.0.1:7860"
AUDIO = {".wav", ".mp3", ".flac", ".opus", ".aac", ".ogg"}
INPUTS = ("me.wav", "line.wav", "narrator.wav")
EXAMPLE_DOCS = (
    "tts.md",
    "voice-conversion.md",
    "concatenation.md",
    "file-operations.md",
    "openai-compatibility.md",
    "voice-management.md",
    "emotions.md",
)
_BLOCK = re.compile(r"^```(bash|python) example( chatterbox)?\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _examples(chatterbox: bool) -> list[Any]:
    found = []
    for doc in EXAMPLE_DOCS:
        for n, match in enumerate(_BLOCK.finditer((DOCS / doc).read_text())):
            if bool(match.group(2)) == chatterbox:
                found.append(pytest.param(match.group(1), match.group(3), id=f"{doc}-{n}-{match.group(1)}"))
    return found


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory, speech_wav: Path) -> Path:
    """Files the examples name: me.wav, line.wav, narrator.wav (real speech)."""
    folder = tmp_path_factory.mktemp("inputs")
    samples, rate = sf.read(str(speech_wav), dtype="float32")
    for name in INPUTS:
        shutil.copy(speech_wav, folder / name)
    sf.write(str(folder / "narrator.wav"), samples[::-1], rate)  # a voice that differs from the line
    return folder


def _data(root: Path, inputs: Path) -> Path:
    for name in ("voices", "vc_inputs"):
        (root / name).mkdir(parents=True)
    shutil.copy(inputs / "narrator.wav", root / "voices" / "narrator.wav")
    shutil.copy(inputs / "line.wav", root / "vc_inputs" / "line.wav")
    return root


@pytest.fixture(scope="module")
def piper_server(tmp_path_factory: pytest.TempPathFactory, inputs: Path) -> Iterator[str]:
    with live_server(_data(tmp_path_factory.mktemp("piper-server"), inputs)) as base:
        yield base


@pytest.fixture(scope="module")
def chatterbox_server(
    tmp_path_factory: pytest.TempPathFactory, inputs: Path, speech_wav: Path
) -> Iterator[str]:
    from tests.support.random_checkpoint import cached_random_checkpoint

    checkpoint = cached_random_checkpoint(speech_wav)
    env = {
        "CHATTERBOX_MODELS__CHECKPOINT_DIR": str(checkpoint),
        "CHATTERBOX_MODELS__DEVICE": "cpu",
        "CHATTERBOX_MODELS__MAX_NEW_TOKENS": "25",  # random weights never stop on their own
        "CHATTERBOX_VALIDATION__BYPASS": "true",  # Whisper would reject noise
    }
    data = _data(tmp_path_factory.mktemp("chatterbox-server"), inputs)
    with live_server(data, small_t3=True, timeout=600, **env) as base:
        yield base


def _run(language: str, code: str, base: str, workdir: Path, inputs: Path) -> None:
    for name in INPUTS:
        shutil.copy(inputs / name, workdir / name)
    code = code.replace(DOC_BASE, base)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    if language == "bash":
        argv = ["bash", "-euo", "pipefail", "-c", code]
    else:
        (workdir / "example.py").write_text(code)
        argv = [sys.executable, "example.py"]
    done = subprocess.run(argv, cwd=workdir, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{code}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    for path in workdir.iterdir():
        if path.suffix in AUDIO and path.name not in INPUTS:
            assert decode(path).duration > 0.1, path.name  # every file an example wrote is audio


@pytest.mark.parametrize(("language", "code"), _examples(chatterbox=False))
def test_example_runs_against_the_real_server(
    piper_server: str, inputs: Path, tmp_path: Path, language: str, code: str
) -> None:
    _run(language, code, piper_server, tmp_path, inputs)


@pytest.mark.slow
@pytest.mark.parametrize(("language", "code"), _examples(chatterbox=True))
def test_chatterbox_example_runs_on_the_random_checkpoint(
    chatterbox_server: str, inputs: Path, tmp_path: Path, language: str, code: str
) -> None:
    _run(language, code, chatterbox_server, tmp_path, inputs)


def test_every_doc_has_runnable_examples_in_both_languages() -> None:
    blocks = [(p.values[0], "chatterbox") for p in _examples(True)] + [
        (p.values[0], "") for p in _examples(False)
    ]
    assert {language for language, _ in blocks} == {"bash", "python"}
    for doc in EXAMPLE_DOCS:
        text = (DOCS / doc).read_text()
        assert "```bash example" in text and "```python example" in text, doc


def _table(doc: str) -> dict[str, list[str]]:
    """The rows of the doc's `## Fields` table: field name -> [type, default, range, meaning]."""
    section = (DOCS / doc).read_text().split("## Fields", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        if match := re.match(r"\| `(\w+)` \|(.*)\|$", line):
            rows[match.group(1)] = [cell.strip() for cell in match.group(2).split("|")]
    return rows


def _bounds(schema: dict[str, Any]) -> tuple[float | None, float | None]:
    options = [schema, *schema.get("anyOf", [])]
    low = next((o["minimum"] for o in options if "minimum" in o), None)
    high = next((o["maximum"] for o in options if "maximum" in o), None)
    return low, high


@pytest.mark.parametrize(
    ("doc", "model"),
    [
        ("tts.md", TTSRequest),
        ("voice-conversion.md", VCRequest),
        ("concatenation.md", ConcatRequest),
        ("openai-compatibility.md", OpenAISpeechRequest),
    ],
)
def test_the_field_table_matches_the_model(doc: str, model: type[BaseModel]) -> None:
    rows = _table(doc)
    assert set(rows) == set(model.model_fields), "fields documented but absent, or present but undocumented"
    properties = model.model_json_schema(by_alias=False)["properties"]
    for name, field in model.model_fields.items():
        _, default, bounds, *_ = rows[name]
        low, high = _bounds(properties[name])
        if low is None:
            assert bounds == "", f"{name}: the model has no range, the doc says {bounds!r}"
        else:
            documented = [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?", bounds)]
            assert documented == [low, high], f"{name}: range {low}-{high}, the doc says {bounds!r}"
        if field.is_required():
            assert default == "required", f"{name} is required"
            continue
        value = field.get_default(call_default_factory=True)
        if value is not None and default.startswith("`"):
            assert json.loads(default.strip("`")) == value, (
                f"{name}: default {value!r}, the doc says {default}"
            )
        elif value is not None:
            assert default.startswith("`"), f"{name}: default {value!r} should be written as a literal"
