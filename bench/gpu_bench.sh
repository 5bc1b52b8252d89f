#!/usr/bin/env bash
# T3 speed on this machine in one command: batch 1 vs upstream, aggregate tokens/s at 8 and 16
# concurrent requests (continuous batching vs upstream one after another), T3 RTF, memory per extra
# request; at float32 and bfloat16, with and without CUDA graphs, compile on and off, when CUDA is there
# (CPU: float32, compile off).
# Builds its own full-size random-weight T3 in memory (bench/batch_bench.py); writes nothing.
#
#   bench/gpu_bench.sh            # full size (on a GPU: a few minutes)
#   bench/gpu_bench.sh --smoke    # tiny T3 on CPU, seconds (CI runs this: tests/unit/test_bench_smoke.py)
#
# Also a step's sampling (bench/sampling_bench.py), first audio and S3Gen's speed, with and without S3Gen's CUDA graphs, and at float16 / bfloat16
# (models.s3gen_dtype; bench/first_audio_bench.py). LIMIT (default 60 s) sets the time
# limits: each configuration gets a few LIMITs. On a machine without the server's environment, run
# it with the wheels and the T3/S3Gen sources that .gpu/ holds (docs/performance.md, "On a GPU").
#
# PYTHON overrides the interpreter (default: `uv run --frozen python` when uv is there, else python3).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -n "${PYTHON:-}" ]]; then
  read -r -a py <<<"$PYTHON"
elif command -v uv >/dev/null 2>&1; then
  py=(uv run --frozen python)
else
  py=(python3)
fi
tokens=${TOKENS:-100}

if [[ "${1:-}" == "--smoke" ]]; then
  "${py[@]}" bench/batch_bench.py --smoke --batch1 --device cpu --threads 1
  "${py[@]}" bench/sampling_bench.py --device cpu --steps 3 --rounds 1 --counts 1 4
  exec "${py[@]}" bench/first_audio_bench.py --smoke --device cpu --threads 1 --s3gen-dtype bfloat16
fi

device=$("${py[@]}" -c 'import torch; print("cuda" if torch.cuda.is_available() else "cpu")')
"${py[@]}" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda,
  torch.cuda.get_device_name(0) if torch.cuda.is_available() else "(no GPU)")'
# One configuration a process, each under its own time limit (LIMIT x its share), so one slow
# compile cannot take the whole run; the most telling figures come first.
limit=${LIMIT:-60}
step() {
  local share=$1 title=$2
  shift 2
  echo
  echo "== $title =="
  timeout "$((share * limit))" "${py[@]}" "$@" || echo "(stopped: exit $?)"
}
if [[ "$device" == "cuda" ]]; then
  step 4 "float32: batch 1, 8 and 16 requests vs upstream" \
    bench/batch_bench.py --device cuda --batch1 --requests 8 16 --tokens "$tokens"
  step 2 "float32, CUDA graphs (upstream at batch 1 only)" \
    bench/batch_bench.py --device cuda --graphs on --batch1 --upstream-max 1 --requests 16 64 --tokens "$tokens"
  step 1 "a decode step's sampling: one sequence after another vs sequences alike together" \
    bench/sampling_bench.py --device cuda
  step 2 "first audio and S3Gen, T3 float32 with CUDA graphs" \
    bench/first_audio_bench.py --device cuda --graphs on
  step 2 "first audio and S3Gen, its estimator under float16 autocast (models.s3gen_dtype), with CUDA graphs" \
    bench/first_audio_bench.py --device cuda --graphs on --s3gen-dtype float16
  step 2 "first audio and S3Gen, its estimator under bfloat16 autocast, with CUDA graphs" \
    bench/first_audio_bench.py --device cuda --graphs on --s3gen-dtype bfloat16
  step 2 "bfloat16, CUDA graphs (batched only)" \
    bench/batch_bench.py --device cuda --dtype bfloat16 --graphs on --upstream-max 0 --requests 1 16 64 \
    --tokens "$tokens"
  step 2 "bfloat16, no graphs (upstream at batch 1 only)" \
    bench/batch_bench.py --device cuda --dtype bfloat16 --batch1 --upstream-max 1 --requests 16 --tokens "$tokens"
  step 3 "float32, torch.compile of the layers (batched only)" \
    bench/batch_bench.py --device cuda --compile on --batch1 --upstream-max 0 --requests 16 64 --tokens "$tokens"
else
  echo "no CUDA: float32 on CPU, compile off"
  "${py[@]}" bench/batch_bench.py --device cpu --batch1 --requests 8 16 --tokens "${TOKENS:-30}"
fi
