"""Two hours of concatenation stay within a small, fixed amount of memory (segments are streamed)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from utils.audio import Clip, encode

ROOT = Path(__file__).resolve().parents[2]
RATE = 16000

# Runs in a fresh interpreter so that its peak RSS is the job's own.
SCRIPT = textwrap.dedent(
    """
    import asyncio, json, sys
    from pathlib import Path
    import psutil
    from core.concat import ConcatOptions
    from core.concat import ConcatJob, Concatenator, ItemSpec
    from management.catalog import Catalog
    from management.index_sqlite import SQLiteIndex
    from management.outputs import OutputStore

    folder, count = Path(sys.argv[1]), int(sys.argv[2])
    files = Catalog(SQLiteIndex(folder / "tmp" / "index.sqlite"), "voices", folder, label="v")
    service = Concatenator(OutputStore(folder), files, files, folder / "tmp")
    items = []
    for i in range(count):
        items.append(ItemSpec(f"files[{len(items)}]", source="minute.wav"))
        items.append(ItemSpec(f"files[{len(items)}]", source="(0.5s)"))
    job = ConcatJob(items=tuple(items), options=ConcatOptions(trim=True, normalize=True), formats=("wav", "flac"))
    asyncio.run(service.concat(ConcatJob(items=items[:1], formats=("wav",))))  # codecs and threads warmed up
    baseline = psutil.Process().memory_info().rss
    result = asyncio.run(service.concat(job))
    # VmHWM: this process's own peak. ru_maxrss would carry the parent's size over from the fork.
    status = Path("/proc/self/status").read_text()
    peak = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))) * 1024
    print(json.dumps({"peak_above_baseline": peak - baseline, "duration": result.duration,
                      "file": str(result.files[0].path)}))
    """
)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the peak from Linux's /proc")
def test_two_hours_need_far_less_than_twice_the_outputs_pcm_size(tmp_path: Path) -> None:
    t = np.arange(60 * RATE) / RATE
    minute = (0.3 * np.sin(2 * np.pi * 220 * t) * (np.sin(2 * np.pi * 0.5 * t) > -0.5)).astype(np.float32)
    (tmp_path / "minute.wav").write_bytes(encode(Clip(minute, RATE), "wav"))
    count = 118  # 118 minutes of audio + 118 half-second silences = 2 hours
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path), str(count)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["duration"] > 7000
    pcm_bytes = report["duration"] * RATE * 2
    output = Path(report["file"])
    assert output.stat().st_size >= pcm_bytes  # the whole two hours reached the file
    # The target is "under about twice the PCM size"; holding the result decoded would already
    # take 2x (float32), so well under 0.5x shows the segments really stream.
    print(f"peak above baseline {report['peak_above_baseline'] / pcm_bytes:.2f}x the PCM size")
    assert report["peak_above_baseline"] < 0.5 * pcm_bytes, report
