#!/usr/bin/env bash
# Prepares .gpu/ (git-ignored through .git/info/exclude) for bench/gpu_bench.sh on a GPU machine that has
# PyTorch but not this project's environment and no registry: the wheels the T3 and S3Gen modules need
# beyond such an image (transformers as locked, librosa, diffusers, ...) and chatterbox-tts's source with a
# T3/S3Gen-only __init__ (the full package imports the whole audio stack).
#
#   bench/gpu_env.sh          # here, once (needs the registry and `uv sync`)
# then on the GPU machine, from the repository root (python3 there is the one with PyTorch):
#   python3 -m pip install -q --no-index --no-deps --target /tmp/site .gpu/whl/*.whl
#   cp -r .gpu/src/chatterbox /tmp/site/ && PYTHONPATH=/tmp/site PYTHON=python3 bench/gpu_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >>.git/info/exclude
site=$(uv run --frozen python -c 'import importlib.util as u, pathlib
print(pathlib.Path(u.find_spec("chatterbox").origin).parent.parent)')
version() { uv run --frozen python -c "import importlib.metadata as m; print(m.version('$1'))"; }
mkdir -p .gpu/whl .gpu/src
wheels=()
for name in transformers tokenizers librosa diffusers conformer omegaconf s3tokenizer soundfile audioread soxr \
  pooch decorator platformdirs cffi pycparser; do
  wheels+=("$name==$(version "$name")")
done
python3 -m pip download -q --no-deps --only-binary=:all: --python-version "${GPU_PYTHON:-3.12}" --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 -d .gpu/whl "${wheels[@]}"
rm -rf .gpu/src/chatterbox && cp -r "$site/chatterbox" .gpu/src/
find .gpu/src -name __pycache__ -prune -exec rm -rf {} +
echo '"""T3 and S3Gen only: chatterbox-tts copied by bench/gpu_env.sh for bench/gpu_bench.sh."""' \
  >.gpu/src/chatterbox/__init__.py
du -sh .gpu
