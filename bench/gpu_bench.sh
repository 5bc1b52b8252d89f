#!/usr/bin/env bash
# T3 speed on this machine in one command: batch 1 vs upstream, aggregate tokens/s at 8 and 16
# concurrent requests (continuous batching vs upstream one after another), T3 RTF, memory per extra
# request; at float32 and bfloat16, compile off and on, when CUDA is there (CPU: float32, compile off).
# Builds its own full-size random-weight T3 in memory (bench/batch_bench.py); writes nothing.
#
#   bench/gpu_bench.sh            # full size (on a GPU: a few minutes)
#   bench/gpu_bench.sh --smoke    # tiny T3 on CPU, seconds (CI runs this: tests/unit/test_bench_smoke.py)
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
  exec "${py[@]}" bench/batch_bench.py --smoke --batch1 --device cpu --threads 1
fi

device=$("${py[@]}" -c 'import torch; print("cuda" if torch.cuda.is_available() else "cpu")')
"${py[@]}" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda,
  torch.cuda.get_device_name(0) if torch.cuda.is_available() else "(no GPU)")'
if [[ "$device" == "cuda" ]]; then
  for dtype in float32 bfloat16; do
    for compile in off on; do
      echo; echo "== $dtype, compile $compile =="
      "${py[@]}" bench/batch_bench.py --device cuda --dtype "$dtype" --compile "$compile" \
        --batch1 --requests 8 16 --tokens "$tokens"
    done
  done
else
  echo "no CUDA: float32 on CPU, compile off"
  "${py[@]}" bench/batch_bench.py --device cpu --batch1 --requests 8 16 --tokens "${TOKENS:-30}"
fi
