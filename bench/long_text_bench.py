"""A long text through the server: wall time with our loop (batched) vs upstream's, sentence by sentence.

A random-weight Chatterbox checkpoint (full size unless ``--layers``; built in a temporary folder,
never kept) is served once per side under uvicorn on a loopback port, one server after the other,
each in a process of its own (the bench re-runs itself with ``--side``), so that none inherits
another's memory, threads or caches (run in one process, the second server took 20 % longer):

- **ours**: ``models.t3_loop: own``: the text's sentences (chunks) are decoded together in the T3
  batch (``models.t3_batch_size``), and up to four at a time (``models.vocode_group_chars``) vocoded
  by S3Gen in one pass, which reads the voice's prompt once for them;
- **ours, chunk by chunk** (``own-chunks``): the same with ``vocode_group_chars: 0``, each sentence
  vocoded on its own as it ends (what the batched T3 alone gives);
- **upstream**: ``models.t3_loop: upstream``: each sentence through upstream's ``T3.inference`` and
  S3Gen, one after another, as upstream's ``ChatterboxTTS.generate()`` does when called once per
  sentence;
- with ``--bf16``, three more sides: **ours, S3Gen in bf16** (``own-s3bf16``: ``models.s3gen_dtype:
  bfloat16``, S3Gen's estimator under autocast; fp32 tokens, so its length is compared); **ours, T3 in
  bf16** (``own-bf16``: ``models.dtype: bfloat16`` and ``models.cpu_packed_weights``; other tokens than
  fp32's, so its length is not compared); and **both** (``own-all-bf16``).

The same N-sentence text, voice and seed go to ``POST /api/v1/tts`` (not streamed, wav), after one
warm-up request each. Random weights never emit the stop token, so each sentence decodes
``--tokens`` speech tokens (``models.max_new_tokens``) on every side, and the fp32 sides' files must
have the same length (checked). Printed: the wall time of each, the ratios to upstream (goal for ours
>= 3x), and how much of each went to S3Gen (timed around the engine's vocoding calls). With
``--rounds`` the sides take turns, so that the machine's drift falls on all of them.

    uv run --frozen python bench/long_text_bench.py [--sentences 10] [--tokens 40] [--layers 30] [--rounds 1] [--bf16] [--smoke]

Not a test: timings depend on the machine (read the ratio of one run; the load is printed).
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

from bench.common import SENTENCES, chatterbox_settings, s3gen_calls, served, served_checkpoint
from core_engine import CoreEngine
from tests.support.random_checkpoint import small_t3
from tests.support.speech import speech_wav_path


def run(
    data: Path, checkpoint: Path, loop: str, text: str, args: argparse.Namespace
) -> tuple[float, float, float]:
    """One server as side ``loop``: seconds for the text, seconds in S3Gen, audio seconds."""
    settings = chatterbox_settings(
        data / loop, checkpoint, args.tokens, t3_batch_size=args.batch, **SIDES[loop]
    )
    core = CoreEngine(settings)
    with served(settings, core, timeout=7200, poll=0.5) as client:
        warm = {"text": SENTENCES[0], "export_formats": ["wav"], "seed": 1, "response_mode": "json"}
        client.post("/api/v1/tts", json=warm).raise_for_status()  # first use: conditioning, warm-up
        vocodings = s3gen_calls(core.engines.engine("chatterbox"))
        started = time.perf_counter()
        body = {"text": text, "export_formats": ["wav"], "seed": 3, "response_mode": "json"}
        response = client.post("/api/v1/tts", json=body)
        seconds = time.perf_counter() - started
        response.raise_for_status()
    return seconds, sum(end - start for start, end in vocodings), float(response.json()["duration_seconds"])


SIDES: dict[str, dict[str, object]] = {
    "upstream": {"t3_loop": "upstream"},
    "own": {"t3_loop": "own"},
    "own-chunks": {"t3_loop": "own", "vocode_group_chars": 0},
    # --bf16: S3Gen's estimator under bf16 autocast (fp32 tokens); T3 in bfloat16 on packed weights (other
    # tokens than fp32's: not length-checked); both
    "own-s3bf16": {"t3_loop": "own", "s3gen_dtype": "bfloat16"},
    "own-bf16": {"t3_loop": "own", "dtype": "bfloat16", "cpu_packed_weights": True},
    "own-all-bf16": {
        "t3_loop": "own",
        "dtype": "bfloat16",
        "cpu_packed_weights": True,
        "s3gen_dtype": "bfloat16",
    },
}
BF16 = [name for name, settings in SIDES.items() if "bfloat16" in settings.values()]  # what --bf16 adds
# T3 in bf16: other tokens than fp32's, so their length is not compared
T3_BF16 = [name for name, settings in SIDES.items() if settings.get("dtype") == "bfloat16"]


def side(
    loop: str, data: Path, checkpoint: Path, text: str, args: argparse.Namespace
) -> tuple[float, float, float]:
    """``run`` in a process of its own: this script again with ``--side``; its result line back."""
    command = [sys.executable, __file__, "--side", loop, "--data", str(data), "--checkpoint", str(checkpoint)]
    command += ["--sentences", str(args.sentences), "--tokens", str(args.tokens)]
    command += ["--layers", str(args.layers), "--batch", str(args.batch)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the {loop} side failed:\n{done.stderr[-3000:]}")
    seconds, s3gen, audio = json.loads(done.stdout.strip().splitlines()[-1])
    return float(seconds), float(s3gen), float(audio)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sentences", type=int, default=10)
    parser.add_argument("--tokens", type=int, default=40, help="speech tokens per sentence (25 a second)")
    parser.add_argument("--layers", type=int, default=30, help="T3 layers (30: the real size)")
    parser.add_argument("--batch", type=int, default=8, help="models.t3_batch_size for ours")
    parser.add_argument("--smoke", action="store_true", help="2 layers, 3 sentences, 6 tokens: a minute")
    parser.add_argument("--rounds", type=int, default=1, help="every side once a round, in turn (drift)")
    parser.add_argument(
        "--bf16", action="store_true", help="three more sides: S3Gen, T3 (packed), both in bf16"
    )
    parser.add_argument("--side", choices=list(SIDES), help=argparse.SUPPRESS)  # one server, inside
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--checkpoint", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.smoke:
        args.layers, args.sentences, args.tokens = 2, 3, 6
    text = " ".join(SENTENCES[i % len(SENTENCES)] for i in range(args.sentences))
    if args.side:
        with small_t3(args.layers):
            print(json.dumps(run(args.data, args.checkpoint, args.side, text, args)))
        return

    with tempfile.TemporaryDirectory() as tmp, small_t3(args.layers):
        data = Path(tmp)
        started = time.perf_counter()
        voice = speech_wav_path(data)
        checkpoint = served_checkpoint(data, voice, args.layers)
        print(
            f"random checkpoint ({args.layers} T3 layers) built in {time.perf_counter() - started:.0f} s; "
            f"{os.cpu_count()} CPUs, torch threads {torch.get_num_threads()}"
        )
        print(
            f"{args.sentences} sentences ({len(text)} characters), {args.tokens} speech tokens each "
            f"({args.sentences * args.tokens / 25:.1f} s of speech), T3 batch {args.batch} for ours; "
            "each server in a process of its own\n"
        )
        print(f"{'side':12} {'round':>5} {'wall s':>8} {'in S3Gen':>9} {'audio s':>8} {'load':>10}")
        sides = [name for name in SIDES if args.bf16 or name not in BF16]
        walls: dict[str, list[float]] = {name: [] for name in sides}
        audios: dict[str, float] = {}
        for round_ in range(1, args.rounds + 1):
            for name in sides:
                load = os.getloadavg()[0]
                seconds, s3gen, audio = side(name, data, checkpoint, text, args)
                walls[name].append(seconds)
                if name not in T3_BF16:
                    audios[name] = audio
                print(
                    f"{name:12} {round_:5} {seconds:8.1f} {s3gen / seconds:8.0%} {audio:8.2f} "
                    f"{load:4.1f}-{os.getloadavg()[0]:<4.1f}",
                    flush=True,
                )
    up = sum(walls["upstream"])
    print()
    for name in sides[1:]:
        goal = " (goal >= 3x)" if name == "own" else ""
        each = " ".join(f"{u / o:.2f}" for u, o in zip(walls["upstream"], walls[name], strict=True))
        print(f"{name} vs upstream, wall time: {up / sum(walls[name]):.2f}x{goal} (each round: {each})")
    # S3Gen drops up to 2 mel frames (40 ms) a call when the voice's reference has more frames than
    # twice its tokens; the sides make from 1 to one call a sentence.
    if max(audios.values()) - min(audios.values()) > 0.05 + 0.04 * args.sentences:
        raise SystemExit(f"the files differ in length: {audios}")


if __name__ == "__main__":
    main()
