"""Streaming Chatterbox side by side with chatterbox-streaming (PyPI), on the same random weights.

chatterbox-streaming (https://pypi.org/project/chatterbox-streaming/) is a fork of chatterbox-tts whose
``generate_stream`` vocodes every ``chunk_size`` speech tokens while T3 decodes. This bench puts it
(``uv pip install --target``, no dependencies) in a temporary folder, never in the server's environment,
and runs it in a subprocess with that folder first on ``sys.path`` (it is a package named
``chatterbox``, as upstream's is) over this environment's torch and transformers.

Both read one random-weight checkpoint built here (full size unless ``--layers``; the fork loads
``.pt`` state dicts, so the same tensors are saved once more that way), the same voice (conditioned
before timing, both ways) and one sentence. The fork's Llama runs with eager attention, as it did
under the transformers 4.x it was written for (its alignment analyzer reads attention weights,
which transformers 5.x returns only from eager attention), and its S3Gen gets only speech tokens
below 6561 (random weights emit others; upstream 0.1.7 and our server drop them too). Random weights never stop, so each side decodes
``--tokens`` speech tokens (4 s of speech at 100). Per side, best of ``--repeat``:

- **first audio**: ours, the first audio bytes of ``POST /api/v1/tts`` with ``stream: true`` (our
  loop, the first window of 12 tokens); the fork, ``latency_to_first_chunk`` of ``generate_stream``
  (its first ``chunk_size`` tokens vocoded);
- **all audio**: the time until the ``--tokens`` tokens' audio is out (ours: the stream's end; the
  fork: its chunk holding the last of them), and speech tokens per second over that time;
- where the first audio's time went, in the run with the soonest first audio: **until S3Gen** (from
  the request to S3Gen's first call: conditioning, prefill, T3's steps), **1st S3Gen** (that call),
  and the count and total time of S3Gen **calls** in the run.

    uv run --frozen python bench/peer_stream_bench.py [--layers 30] [--tokens 100] [--repeat 2]

Not a test: timings depend on the machine (read the ratios of one run; the load is printed).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import chatterbox_settings, s3gen_calls, served, served_checkpoint, time_stream
from core_engine import CoreEngine
from engines.compute import on_torch_thread
from tests.support.random_checkpoint import small_t3
from tests.support.speech import speech_wav_path

ROOT = Path(__file__).resolve().parents[1]
PEER = "chatterbox-streaming==0.1.2"
SENTENCE = "The river ran quietly past the old mill at the edge of the village."

# Run in the subprocess: the fork's generate_stream, timed. argv: checkpoint, voice, tokens, chunk, repeat, layers.
PEER_RUN = r"""
import json, sys, time
import torch
from tests.support.random_checkpoint import llama_config
from chatterbox.tts import ChatterboxTTS
folder, voice, tokens, chunk, repeat, layers = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:7])
torch.set_num_threads(int(sys.argv[7]))
# Its alignment analyzer hooks layer 9's attention weights: transformers 4.x fell back to eager
# attention for them by itself; 5.x (this environment) returns none unless asked for eager.
with llama_config("Llama_520M", num_hidden_layers=layers, attn_implementation="eager"):
    model = ChatterboxTTS.from_local(folder, "cpu")
model.prepare_conditionals(voice)
# Random weights emit speech tokens past S3Gen's 6561 codes, which the fork would vocode (and fail on):
# drop them before S3Gen, as upstream 0.1.7's generate() does and our server does.
vocode, calls = model.s3gen.inference, []
def timed(speech_tokens, **kw):
    began = time.perf_counter()
    try:
        return vocode(speech_tokens=speech_tokens[speech_tokens < 6561], **kw)
    finally:
        calls.append((began, time.perf_counter()))
model.s3gen.inference = timed
results = []
for run in range(repeat + 1):  # the first run warms up
    torch.manual_seed(3)
    calls.clear()
    started, first, got = time.perf_counter(), None, 0
    for audio, metrics in model.generate_stream(SENTENCE, chunk_size=chunk):
        first = first or time.perf_counter() - started
        got += chunk
        if got >= tokens:
            break
    if run:
        results.append({"first": first, "total": time.perf_counter() - started, "tokens": got,
                        "calls": [(a - started, b - started) for a, b in calls]})
print("RESULT " + json.dumps(results))
"""


def peer_site(folder: Path) -> Path:
    """The fork's files put in ``folder`` (``uv pip install --target``, no dependencies): not in the venv."""
    subprocess.run(["uv", "pip", "install", "-q", "--no-deps", "--target", str(folder), PEER], check=True)
    return folder


def as_pt(checkpoint: Path, folder: Path) -> Path:
    """The same checkpoint as the ``.pt`` state dicts the fork's ``from_local`` reads."""
    from safetensors.torch import load_file

    folder.mkdir()
    for name in ("ve", "t3_cfg", "s3gen"):
        torch.save(load_file(checkpoint / f"{name}.safetensors"), folder / f"{name}.pt")
    for name in ("tokenizer.json", "conds.pt"):
        (folder / name).write_bytes((checkpoint / name).read_bytes())
    return folder


def run_peer(site: Path, checkpoint: Path, voice: Path, args: argparse.Namespace) -> list[dict]:
    code = f"SENTENCE = {SENTENCE!r}\n" + PEER_RUN
    argv = [
        str(checkpoint),
        str(voice),
        str(args.tokens),
        str(args.chunk),
        str(args.repeat),
        str(args.layers),
    ]
    argv.append(str(torch.get_num_threads()))
    env = {**os.environ, "PYTHONPATH": f"{site}{os.pathsep}{ROOT}", "TQDM_DISABLE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", code, *argv], env=env, capture_output=True, text=True, check=False
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode or not lines:
        raise SystemExit(f"chatterbox-streaming failed:\n{done.stderr[-3000:]}")
    return json.loads(lines[-1].removeprefix("RESULT "))  # type: ignore[no-any-return]


def run_ours(data: Path, checkpoint: Path, voice: Path, args: argparse.Namespace) -> list[dict]:
    settings = chatterbox_settings(data / "ours", checkpoint, args.tokens, t3_loop="own")
    Path(settings.paths.voices_dir).mkdir(parents=True, exist_ok=True)
    (Path(settings.paths.voices_dir) / "bench.wav").write_bytes(voice.read_bytes())
    body = {"text": SENTENCE, "voice": "bench", "stream": True, "export_formats": ["wav"], "seed": 3}
    results = []
    core = CoreEngine(settings)
    with served(settings, core, timeout=3600, poll=0.5) as client:
        calls = s3gen_calls(core.engines.engine("chatterbox"))
        for run in range(args.repeat + 1):  # the first run warms up and conditions the voice
            calls.clear()
            started = time.perf_counter()
            first, total, _, _ = time_stream(client, body)
            if run:
                spans = [(a - started, b - started) for a, b in calls]
                results.append({"first": first, "total": total, "tokens": args.tokens, "calls": spans})
    return results


def breakdown(result: dict) -> str:
    """Where a run's time went: until S3Gen's first call, that call, and all S3Gen calls."""
    calls = sorted(result["calls"])
    if not calls:
        return ""
    (start, end), busy = calls[0], sum(b - a for a, b in calls)
    return f"{start:12.2f}s {end - start:9.2f}s {len(calls):6d} {busy:9.1f}s"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--layers", type=int, default=30, help="T3 layers (30: the real size; the fork needs 10+)"
    )
    parser.add_argument("--tokens", type=int, default=100, help="speech tokens decoded per run (25 a second)")
    parser.add_argument("--chunk", type=int, default=25, help="the fork's chunk_size (its default)")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, small_t3(args.layers):
        data = Path(tmp)
        started = time.perf_counter()
        voice = speech_wav_path(data)
        checkpoint = served_checkpoint(data, voice, args.layers)
        pt = on_torch_thread(as_pt, checkpoint, data / "ckpt-pt")
        site = peer_site(data / "peer")
        print(
            f"random checkpoint ({args.layers} T3 layers) and {PEER} ready in {time.perf_counter() - started:.0f} s; "
            f"{os.cpu_count()} CPUs, torch threads {torch.get_num_threads()}; {args.tokens} speech tokens a run\n"
        )
        print(
            f"{'':22} {'first audio':>11} {'all audio':>10} {'tokens/s':>9} {'load':>10}"
            f" {'until S3Gen':>12} {'1st S3Gen':>10} {'calls':>6} {'in S3Gen':>10}"
        )
        rows = {}
        for name, run in (("chatterbox-streaming", lambda: run_peer(site, pt, voice, args)),
                          ("ours", lambda: run_ours(data, checkpoint, voice, args))):  # fmt: skip
            load = os.getloadavg()[0]
            results = run()
            first = min(r["first"] for r in results)
            total = min(r["total"] for r in results)
            rate = max(r["tokens"] / r["total"] for r in results)
            rows[name] = (first, total)
            fastest = min(results, key=lambda r: r["first"])
            print(
                f"{name:22} {first:10.2f}s {total:9.1f}s {rate:9.2f} {load:4.1f}-{os.getloadavg()[0]:<4.1f}"
                f" {breakdown(fastest)}"
            )
    (peer_first, peer_total), (first, total) = rows["chatterbox-streaming"], rows["ours"]
    print(
        f"\nours vs chatterbox-streaming: first audio {peer_first / first:.2f}x sooner, all audio {peer_total / total:.2f}x"
    )


if __name__ == "__main__":
    main()
