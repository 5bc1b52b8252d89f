"""Replay every curl command of Chatterbox TTS Extended Plus's documentation against this server.

    uv run --frozen python bench/plus_curl_replay.py PLUS_CHECKOUT [--ref personal-main] [--list]

``PLUS_CHECKOUT`` is a clone of github.com/llm-tutor/Chatterbox-TTS-Extended-Plus (a work tree, or a
bare git directory read at ``--ref``). Its Markdown files outside ``docs/dev/`` (the developers'
notes) are read; every distinct ``curl`` command in a fenced block (continuation lines and multi-line
quoted bodies joined; pipes, ``||`` and comments after it cut) is run with the real ``curl``, in the
order the documents give, against this server in this process (uvicorn on a loopback port, data
folders in a temporary folder). The engines are the test doubles (a cloning tone engine as
Chatterbox, an echo as Chatterbox VC): this measures the API surface, not the models.

The state the documents assume is provided as a user would have it: every file sent with ``@path``
exists in the working folder, and every audio file named in a command that no command uploads
exists in ``voices/``, ``outputs/`` and ``vc_inputs/`` (a 3-second tone). Templates
(``[METHOD]``, ``$endpoint``) are counted apart; so are the commands the documents show failing on
purpose (their text says "Missing", "Invalid", "should fail", "nonexistent").

Not a test: it needs Plus's documents, which this repository does not carry.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core_engine import CoreEngine
from main_api import create_app
from tests.conftest import settings_for
from tests.support.engines import EchoConversion, ToneEngine
from tests.support.live_server import serve_in_thread
from utils.audio import Clip, encode

BASE = re.compile(r"https?://(localhost|127\.0\.0\.1):7860")
AUDIO_NAME = re.compile(r"[\w./-]+\.(?:wav|mp3|flac)\b")
TEMPLATE = re.compile(r"\[[A-Z]+\]|\$(?!API_BASE)\w+")
MEANT_TO_FAIL = re.compile(r"missing|invalid|should fail|nonexistent", re.IGNORECASE)
# What Plus's documents show but Plus's code (main_api.py, personal-main) never served: the voice
# upload field `audio_file` (Plus: `voice_file`), /api/v1/admin/*, /api/v1/outputs/{name}/metadata,
# and `segments` on /api/v1/concat (Plus: `files`; `segments` is /concat/mixed's).
PLUS_NEVER_HAD = re.compile(
    r"audio_file=@|/api/v1/admin/|/api/v1/outputs/[^ ?']+/metadata|/api/v1/concat '?-H.*\"segments\"", re.S
)
DROPPED_FLAGS = {"-o", "--output", "-D", "--dump-header"}
DROPPED_SWITCHES = {"-O", "-v", "-s", "-f", "--fail", "-i"}


@dataclass(frozen=True)
class Command:
    source: str
    text: str  # the curl command alone
    raw: str  # as written, with its comment (which says when an example is meant to fail)

    @property
    def meant_to_fail(self) -> bool:
        return bool(MEANT_TO_FAIL.search(self.raw))

    @property
    def plus_never_had(self) -> bool:
        return bool(PLUS_NEVER_HAD.search(self.text))

    @property
    def order(self) -> int:
        """Uploads first (the user's library holds what the documents upload), deletions last."""
        if "-X DELETE" in self.text:
            return 2
        return 0 if re.search(r"/api/v1/(voice|vc_input)\b", self.text) and "=@" in self.text else 1


def markdown_files(checkout: Path, ref: str) -> dict[str, str]:
    """Every Markdown file outside docs/dev/, by path (read from git at ``ref`` when there is no work tree)."""
    if (checkout / "README-API.md").is_file():
        paths = sorted(p for p in checkout.rglob("*.md") if ".git" not in p.parts)
        files = {str(p.relative_to(checkout)): p.read_text(errors="replace") for p in paths}
    else:
        git = ["git", "--git-dir", str(checkout)]
        names = subprocess.run([*git, "ls-tree", "-r", "--name-only", ref], capture_output=True, text=True)
        files = {
            name: subprocess.run([*git, "show", f"{ref}:{name}"], capture_output=True, text=True).stdout
            for name in sorted(names.stdout.split())
            if name.endswith(".md")
        }
    return {name: text for name, text in files.items() if not name.startswith("docs/dev/")}


def curl_commands(files: dict[str, str]) -> list[Command]:
    """The distinct curl commands, in document order."""
    seen: dict[str, Command] = {}
    for name, text in files.items():
        for block in re.findall(r"```[^\n]*\n(.*?)```", text, re.S):
            for raw in _commands_in(block):
                command = _cut(raw)
                seen.setdefault(command, Command(name, command, raw))
    return sorted(seen.values(), key=lambda command: command.order)  # stable: document order within


def _commands_in(block: str) -> list[str]:
    found, lines = [], block.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        if not line.startswith("curl "):
            i += 1
            continue
        text = line
        while (text.endswith("\\") or not _balanced(text)) and i + 1 < len(lines):
            i += 1
            text = (text[:-1] if text.endswith("\\") else text + "\n") + lines[i].strip()
        found.append(text)
        i += 1
    return found


def _balanced(text: str) -> bool:
    try:
        shlex.split(text, comments=True)
        return True
    except ValueError:
        return False


def _cut(text: str) -> str:
    """The curl command alone: what follows an unquoted |, ||, && or # goes."""
    lexer = shlex.shlex(text, posix=True, punctuation_chars="|&")
    lexer.whitespace_split, lexer.commenters = True, "#"
    words = []
    for word in lexer:
        if word in ("|", "||", "&&", "&"):
            break
        words.append(word)
    return shlex.join(words)


def seed(commands: list[Command], root: Path, work: Path) -> None:
    """The files the documents take for granted (see the module docstring)."""
    tone = 0.3 * np.sin(2 * np.pi * 180 * np.arange(3 * 24_000) / 24_000)
    clip = Clip(tone.astype(np.float32), 24_000)
    uploads: set[str] = set()
    for command in commands:
        for value in re.findall(r"=@([^\s'\"]+)", command.text):
            target = work / Path(value).name
            target.write_bytes(encode(clip, Path(value).suffix.lstrip(".") or "wav"))
            if not command.plus_never_had:  # a voice only such a command uploads: the user has it
                uploads.add(Path(value).name)
    named = {name for command in commands for name in AUDIO_NAME.findall(command.text)}
    for name in sorted(named):
        clean = name.split("/outputs/")[-1].lstrip("./")
        if Path(clean).name in uploads or clean.startswith(("http", "path/")):
            continue
        for library in ("voices", "outputs", "vc_inputs"):
            path = root / library / clean
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(encode(clip, path.suffix.lstrip(".")))


def run(command: Command, base: str, work: Path) -> tuple[int, str]:
    """The HTTP status curl saw (0: curl could not run it) and the error message, if any."""
    words = shlex.split(BASE.sub(base, command.text.replace("$API_BASE", base)))[1:]
    kept, skip = [], False
    for word in words:
        if skip:
            skip = False
        elif word in DROPPED_FLAGS:
            skip = True
        elif word not in DROPPED_SWITCHES:
            kept.append(re.sub(r"=@.*/", "=@", word))  # every upload lies in the working folder
    argv = ["curl", "-sS", "-o", str(work / "answer.bin"), "-w", "%{http_code}", "--max-time", "120", *kept]
    done = subprocess.run(argv, cwd=work, capture_output=True, text=True)
    status = int(done.stdout.strip()) if done.stdout.strip().isdigit() else 0
    if 200 <= status < 300:
        return status, ""
    try:
        return status, str(json.loads((work / "answer.bin").read_text())["detail"])[:200]
    except (OSError, ValueError, KeyError, TypeError):
        return status, done.stderr.strip()[:200]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("checkout", type=Path)
    parser.add_argument("--ref", default="personal-main")
    parser.add_argument("--list", action="store_true", help="print every command with its status")
    args = parser.parse_args()
    commands = curl_commands(markdown_files(args.checkout, args.ref))
    with tempfile.TemporaryDirectory(prefix="plus-curl-") as temp:
        root, work = Path(temp) / "data", Path(temp) / "work"
        work.mkdir()
        settings = settings_for(
            root,
            engines={"enabled": ["chatterbox", "chatterbox-vc"], "default": "chatterbox", "fallback": None},
        )
        runnable = [c for c in commands if not TEMPLATE.search(c.text.replace("$API_BASE", ""))]
        seed(runnable, root, work)
        engines = {"chatterbox": ToneEngine(clones_voices=True), "chatterbox-vc": EchoConversion()}
        app = create_app(settings, engine=CoreEngine(settings, engines=engines))
        with serve_in_thread(app) as base:
            results = [(command, *run(command, base, work)) for command in runnable]
    report(commands, runnable, results, show=args.list)


def report(
    commands: list[Command], runnable: list[Command], results: list[tuple[Command, int, str]], show: bool
) -> None:
    ok = [c for c, status, _ in results if 200 <= status < 300]
    other = [r for r in results if not 200 <= r[1] < 300]
    meant = [r for r in other if r[0].meant_to_fail]
    never = [r for r in other if r[0].plus_never_had and not r[0].meant_to_fail]
    failed = [r for r in other if not r[0].meant_to_fail and not r[0].plus_never_had]
    if show:
        for command, status, _ in results:
            print(f"{status:>3}  {command.source}: {_short(command.text)}")
    print(f"distinct curl commands: {len(commands)} ({len(commands) - len(runnable)} templates not runnable)")
    print(f"2xx: {len(ok)} of {len(runnable)} runnable ({len(ok)} of {len(commands)} in all)")
    for title, rows in (
        ("not 2xx as the documents intend (an error example)", meant),
        ("not 2xx, naming a route or field Plus itself never served", never),
        ("not 2xx otherwise", failed),
    ):
        print(f"{title}: {len(rows)}")
        for command, status, detail in rows:
            print(f"  {status:>3}  {command.source}: {_short(command.text)}\n         -> {detail}")


def _short(text: str) -> str:
    return re.sub(r"\s+", " ", text)[:150]


if __name__ == "__main__":
    main()
