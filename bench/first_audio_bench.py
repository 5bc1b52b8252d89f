"""Chatterbox's first audio and S3Gen's speed on one device, measured from the parts the server runs.

Builds a random-weight T3 (full size unless ``--layers``) and a random-weight S3Gen (its one, fixed
size) in memory, makes a voice from 10 s of noise (``S3Gen.embed_ref``), then in one run:

* ``S3Gen``: vocoding N speech tokens at batch 1 (flow matching + HiFi-GAN, as
  ``engines/chatterbox.py`` and ``engines/s3gen_stream.py`` call it), best of ``--repeat``, for the
  first window (``FIRST_WINDOW`` tokens), a later window (``CONTEXT + WINDOW``) and a sentence
  (``--tokens``); ``RTF``: seconds per second of audio (25 tokens a second);
* ``first audio``: one request through our loop (``engines.t3_scheduler``, batch 1): prefill, the
  first window's tokens decoded, then that window vocoded: what the server does before it sends the
  first audio of a streamed request (text normalising, conditioning from the cache and the HTTP
  layer excluded), best of ``--repeat``.

With ``--s3gen-dtype bfloat16`` (or ``float16``) S3Gen's estimator runs under autocast as
``models.s3gen_dtype`` makes it (``engines/s3gen_setup.py``): S3Gen is timed at float32 first, then
lowered, with the largest difference between the two waveforms of the first window; the rest of the
run (graphs, first audio) uses the lowered S3Gen.

    bench/gpu_bench.sh                                   # runs it on a GPU after the T3 matrix
    uv run --frozen python bench/first_audio_bench.py --smoke
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("TQDM_DISABLE", "1")

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from batch_bench import SAMPLING, sync

from bench.random_t3 import build_t3, request
from engines.s3gen_stream import CONTEXT, FIRST_WINDOW, WINDOW
from engines.t3_loop import Decoder
from engines.t3_scheduler import T3Scheduler
from engines.t3_sequences import DTYPES, chatterbox_sequence, generator

TOKENS_PER_SECOND = 25


def build_s3gen(device: str) -> tuple[torch.nn.Module, dict]:
    """A random-weight S3Gen and a voice made from 10 s of noise (fp32, as the server runs it)."""
    from chatterbox.models.s3gen import S3GEN_SR, S3Gen

    torch.manual_seed(0)
    s3gen = S3Gen().eval().to(device)
    noise = 0.1 * torch.randn(10 * S3GEN_SR, generator=torch.Generator().manual_seed(3))
    with torch.inference_mode():
        ref = s3gen.embed_ref(noise, S3GEN_SR, device=device)
    return s3gen, ref


def timed(device: str, repeat: int, work) -> float:  # type: ignore[no-untyped-def]
    """Best of ``repeat`` runs of ``work()``, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        sync(device)
        started = time.perf_counter()
        work()
        sync(device)
        best = min(best, time.perf_counter() - started)
    return best


def vocode(s3gen: torch.nn.Module, ref: dict, tokens: int) -> None:
    speech = torch.randint(0, 6561, (1, tokens), generator=torch.Generator().manual_seed(tokens))
    with torch.inference_mode():
        s3gen.inference(speech_tokens=speech.to(s3gen.device), ref_dict=ref)


def first_audio(scheduler: T3Scheduler, s3gen: torch.nn.Module, ref: dict) -> None:
    """Prefill + FIRST_WINDOW tokens through the model's scheduler, then that window vocoded."""
    t3 = scheduler.decoder.t3
    with torch.inference_mode():
        sequence = chatterbox_sequence(t3, *request(t3, 0), SAMPLING, generator(t3.device, 7), FIRST_WINDOW)
    tokens = scheduler.submit(sequence).wait().tokens
    with torch.inference_mode():
        speech = torch.tensor([tokens], device=s3gen.device).clamp(0, 6560)
        s3gen.inference(speech_tokens=speech, ref_dict=ref)


def s3gen_rows(
    device: str, repeat: int, s3gen: torch.nn.Module, ref: dict, lengths: list[int]
) -> list[float]:
    """Seconds to vocode each length (best of ``repeat``), printed as a table."""
    print(f"{'S3Gen tokens':>12} {'audio s':>8} {'vocode ms':>10} {'RTF':>7}")
    times = []
    for tokens in lengths:
        seconds = timed(device, repeat, lambda n=tokens: vocode(s3gen, ref, n))
        audio = tokens / TOKENS_PER_SECOND
        print(f"{tokens:>12} {audio:>8.2f} {seconds * 1000:>10.1f} {seconds / audio:>7.3f}")
        times.append(seconds)
    return times


def same_audio(s3gen: torch.nn.Module, ref: dict, tokens: int) -> torch.Tensor:
    """One vocoding with torch's RNG seeded (the flow matching draws its noise from it)."""
    speech = torch.randint(0, 6561, (1, tokens), generator=torch.Generator().manual_seed(tokens))
    torch.manual_seed(11)
    with torch.inference_mode():
        wav, _ = s3gen.inference(speech_tokens=speech.to(s3gen.device), ref_dict=ref)
    return wav.float().cpu()


def s3gen_changed(
    args: argparse.Namespace,
    s3gen: torch.nn.Module,
    ref: dict,
    lengths: list[int],
    before: list[float],
    change: Callable[[], str],
) -> list[float]:
    """S3Gen timed again after ``change()`` (which says what it did): the first window vocoded before and
    after compared, then the rows and their speed-up over ``before``; the new times."""
    was = same_audio(s3gen, ref, FIRST_WINDOW)
    label = change()
    diff = same_audio(s3gen, ref, FIRST_WINDOW) - was
    print(
        f"\nS3Gen, {label} (the same {FIRST_WINDOW} tokens vocoded both ways differ by at most "
        f"{diff.abs().max().item():.2e}, peak {was.abs().max().item():.2f}; relative L2 "
        f"{(diff.norm() / was.norm()).item():.2e}):"
    )
    after = s3gen_rows(args.device, args.repeat, s3gen, ref, lengths)
    print(
        "  speed-up: "
        + ", ".join(f"{n} tokens {e / w:.2f}x" for n, e, w in zip(lengths, before, after, strict=True))
    )
    return after


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--dtype", choices=sorted(DTYPES), default="float32", help="T3's dtype")
    parser.add_argument("--compile", choices=["off", "on"], default="off", help="torch.compile T3's layers")
    parser.add_argument("--layers", type=int, default=None, help="fewer T3 layers (width stays 1024)")
    parser.add_argument("--graphs", choices=["off", "on"], default="off", help="CUDA graphs for T3's steps")
    parser.add_argument("--tokens", type=int, default=100, help="a sentence's speech tokens (100: 4 s)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--s3gen-dtype", choices=sorted(DTYPES), default="float32", help="models.s3gen_dtype (autocast)"
    )
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="2 T3 layers, no warm-up, one repeat, the first window only: CPU, CI",
    )
    args = parser.parse_args()
    if args.smoke:
        args.layers, args.repeat, args.tokens = 2, 1, FIRST_WINDOW
    torch.set_num_threads(args.threads)

    started = time.perf_counter()
    t3 = build_t3(args.layers, args.device, DTYPES[args.dtype])
    if args.compile == "on":
        from engines.t3_backbone import compile_layers

        compile_layers(t3)
    s3gen, ref = build_s3gen(args.device)
    print(
        f"T3: {len(t3.tfmr.layers)} layers, {args.dtype}, compile {args.compile}, graphs {args.graphs}; S3Gen "
        f"{sum(p.numel() for p in s3gen.parameters()) / 1e6:.0f}M params, estimator {args.s3gen_dtype}; on "
        f"{args.device}, "
        f"built in {time.perf_counter() - started:.1f} s"
    )
    graphs = args.graphs == "on"
    # One scheduler for the run, as the server keeps one per model (with graphs: its graphs and cache).
    scheduler = T3Scheduler(Decoder(t3, "chatterbox", cuda_graphs=graphs), max_batch=1, name="first-audio")
    lengths = sorted({FIRST_WINDOW, args.tokens} | (set() if args.smoke else {CONTEXT + WINDOW}))
    if not args.smoke:  # warm-up (first calls allocate; with compile: compile)
        vocode(s3gen, ref, FIRST_WINDOW)
        first_audio(scheduler, s3gen, ref)

    print("\nS3Gen as loaded (no graphs):")
    eager = s3gen_rows(args.device, args.repeat, s3gen, ref, lengths)
    if args.s3gen_dtype != "float32":  # models.s3gen_dtype, applied at load before the graphs

        def lower() -> str:
            from engines.s3gen_setup import lower_estimator

            lower_estimator(s3gen, args.s3gen_dtype, "bench")
            if not args.smoke:
                vocode(s3gen, ref, FIRST_WINDOW)  # warm-up of the lowered kernels
            return f"its estimator under {args.s3gen_dtype} autocast"

        eager = s3gen_changed(args, s3gen, ref, lengths, eager, lower)
    if graphs and args.device == "cuda":  # models.cuda_graphs: S3Gen's estimator from graphs too

        def graph() -> str:
            from engines.s3gen_graphs import install

            estimator = install(s3gen)
            # capture each length's bucket (the server: at its first call of that size)
            for tokens in lengths:
                vocode(s3gen, ref, tokens)
            return f"its estimator from CUDA graphs ({estimator.captured} captured)"

        s3gen_changed(args, s3gen, ref, lengths, eager, graph)
        first_audio(scheduler, s3gen, ref)  # the first window's bucket with the bench voice
    seconds = timed(args.device, args.repeat, lambda: first_audio(scheduler, s3gen, ref))
    scheduler.close()
    print(
        f"\nfirst audio (prefill + {FIRST_WINDOW} T3 tokens at batch 1 + that window vocoded, graphs "
        f"{args.graphs}): {seconds * 1000:.1f} ms"
    )
    if args.device == "cuda":
        print(f"device memory peak: {torch.cuda.max_memory_allocated() / 2**30:.2f} GiB")


if __name__ == "__main__":
    main()
