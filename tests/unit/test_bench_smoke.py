"""The benches' smoke runs (tiny T3 and S3Gen on CPU): ``bench/gpu_bench.sh --smoke`` (the GPU script stays
ready to run) and the CPU T3 benches."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from engines.s3gen_stream import FIRST_WINDOW

ROOT = Path(__file__).resolve().parents[2]


def _bench(*command: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """A bench script run from the repository root, which must exit 0 (else its stderr's tail)."""
    done = subprocess.run(
        command,
        cwd=ROOT,
        env={**os.environ, "TQDM_DISABLE": "1", **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def test_the_gpu_bench_smoke_mode_runs_and_batched_tokens_equal_upstream() -> None:
    done = _bench(str(ROOT / "bench" / "gpu_bench.sh"), "--smoke", env={"PYTHON": sys.executable})
    rows = {
        int(match.group(1)): match.group(0)
        for match in re.finditer(r"^\s+(\d+)\s+[\d.]+\s+[\d.]+\s+[\d.]+x\s+\d+\s.*$", done.stdout, re.M)
    }
    assert set(rows) == {1, 2, 3}, done.stdout  # batch 1, then 2 and 3 concurrent requests
    assert all(row.endswith("same as upstream") for row in rows.values()), done.stdout
    assert "2 layers" in done.stdout and "float32 on cpu" in done.stdout
    # a step's sampling, one by one and together: the same tokens, fewer operators together
    sampled = re.findall(r"^\s+(\d+)\s+[\d.]+\s+[\d.]+\s+(\d+) -> (\d+)\s+[\d.]+x$", done.stdout, re.M)
    assert [count for count, _, _ in sampled] == ["1", "4"], done.stdout
    assert int(sampled[1][2]) < int(sampled[1][1]) and "the same tokens each way" in done.stdout
    # then first audio: S3Gen vocodes the first window (its tokens, their seconds), and the time to it
    window = rf"^\s+{FIRST_WINDOW}\s+{FIRST_WINDOW / 25:.2f}\s+[\d.]+\s+[\d.]+$"
    assert re.search(window, done.stdout, re.M), done.stdout
    assert re.search(r"^first audio .*: [\d.]+ ms$", done.stdout, re.M), done.stdout
    # S3Gen again with its estimator under bf16 autocast (models.s3gen_dtype): close to float32, not equal
    lowered = re.search(r"under bfloat16 autocast .* relative L2 ([\d.e+-]+)\):", done.stdout)
    assert lowered and 0 < float(lowered.group(1)) < 0.05, done.stdout
    assert len(re.findall(window, done.stdout, re.M)) == 2 and "speed-up: " in done.stdout, done.stdout


def test_the_t3_loop_bench_smoke_run_gives_upstreams_tokens_and_a_bf16_line() -> None:
    """``bench/t3_loop_bench.py`` on 2 layers: both loops agree, and the bf16 row is printed beside."""
    done = _bench(
        sys.executable, "bench/t3_loop_bench.py", "--layers", "2", "--tokens", "4", "--rounds", "1", "--bf16"
    )
    assert done.stdout.count(": same tokens;") == 2, done.stdout  # cfg 0.5 and cfg 0
    bf16 = re.findall(r"^  ours bf16 +[\d.]+ ms/token .*first (\d+) of (\d+)\)$", done.stdout, re.M)
    assert len(bf16) == 2 and all(total == "4" for _, total in bf16), done.stdout


def test_the_step_rows_bench_smoke_run_prints_a_row_per_batch() -> None:
    """``bench/step_rows_bench.py`` on 2 layers: 1, 4 and 8 sequences, plain and packed."""
    done = _bench(sys.executable, "bench/step_rows_bench.py", "--layers", "2", "--steps", "2")
    rows = re.findall(
        r"^\s+(\d+)\s+(\d+)\s+[\d.]+\s+[\d.]+x\s+[\d.]+\s+[\d.]+x\s+[\d.]+x$", done.stdout, re.M
    )
    assert rows == [("1", "2"), ("4", "8"), ("8", "16")], done.stdout


@pytest.mark.skipif(
    not torch.ops.mkldnn._is_mkldnn_bf16_supported(), reason="a CPU without oneDNN's bf16 kernels"
)
def test_the_batch_bench_smoke_run_reports_packed_and_bf16_beside_fp32() -> None:
    """``bench/batch_bench.py --smoke --packed --bf16``: 2 and 3 requests, fp32 equal to upstream, and
    beside each the packed run and the bf16 copy's, its ratio to upstream and its agreement counted."""
    done = _bench(sys.executable, "bench/batch_bench.py", "--smoke", "--packed", "--bf16")
    rows = re.findall(
        r"^\s+(\d+) .* same as upstream; packed [\d.]+ tok/s, [\d.]+x plain, same tokens as plain; "
        r"bf16 packed [\d.]+ tok/s, [\d.]+x upstream fp32, (\d+)/(\d+) as fp32$",
        done.stdout,
        re.M,
    )
    assert [(count, total) for count, _, total in rows] == [("2", "2"), ("3", "3")], done.stdout


def test_the_cpu_limits_bench_smoke_run_prints_each_kernel_at_2_and_16_rows() -> None:
    """``bench/cpu_limits_bench.py --smoke``: the bandwidth and peak, every projection kernel at 2 and 16
    rows beside its bound, the decode attention at both and S3Gen's two attention paths."""
    done = _bench(sys.executable, "bench/cpu_limits_bench.py", "--smoke")
    assert re.search(r"memory bandwidth [\d.]+ GB/s, fp32 matmul peak \d+ GFLOP/s", done.stdout), done.stdout
    kernels = re.findall(
        r"^(F\.linear \(MKL sgemm\)|oneDNN packed) +(\d+) +[\d.]+ .* [\d.]+x$", done.stdout, re.M
    )
    assert kernels[:4] == [
        ("F.linear (MKL sgemm)", "2"),
        ("F.linear (MKL sgemm)", "16"),
        ("oneDNN packed", "2"),
        ("oneDNN packed", "16"),
    ], done.stdout
    assert re.findall(r"^ +(\d+) +[\d.]+ +\d+ +[\d.]+$", done.stdout, re.M) == ["2", "16"], done.stdout
    assert re.search(r"^SDPA \(flash, CPU\) +[\d.]+ +\d+$", done.stdout, re.M), done.stdout
    assert re.search(r"^math \(scores, softmax\) +[\d.]+ +\d+$", done.stdout, re.M), done.stdout
