"""A snapshot of the process and machine, for /health."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

import psutil


def system_snapshot(data_dir: Path) -> dict[str, Any]:
    """CPU, memory of this process, and free disk where the outputs live."""
    process = psutil.Process()
    memory = process.memory_info()
    disk = shutil.disk_usage(data_dir if data_dir.exists() else Path.cwd())
    return {
        "cpu_percent": psutil.cpu_percent(interval=None),
        "memory": {
            "rss_mb": round(memory.rss / 2**20, 1),
            "vms_mb": round(memory.vms / 2**20, 1),
            "percent": round(process.memory_percent(), 2),
        },
        "disk": {
            "free_gb": round(disk.free / 2**30, 2),
            "usage_percent": round(100 * disk.used / disk.total, 1),
        },
    }


def directory_usage(folders: dict[str, Path]) -> dict[str, Any]:
    """Size and file count of each data folder (Plus's ``resource_status``)."""
    directories = {}
    for name, folder in folders.items():
        size = count = 0
        for root, _dirs, files in os.walk(folder):
            for file in files:
                try:
                    size += os.stat(os.path.join(root, file)).st_size
                except OSError:  # removed while we walked
                    continue
                count += not file.startswith(
                    "."
                )  # the metadata index and partial writes are not files of the user's
        directories[name] = {"size_bytes": size, "size_mb": round(size / 2**20, 2), "file_count": count}
    return {"timestamp": time.time(), "directories": directories, "warnings": []}
