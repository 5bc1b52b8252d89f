"""Give freed audio buffers back to the operating system (glibc's allocator, Linux).

glibc serves large blocks with mmap and returns them on free, but after the first such free it raises
its threshold (up to 32 MB) and serves later large blocks from the heap, where freed memory stays with
the process. A server that builds tens of MB of audio per request then keeps the high-water mark of
every request for good (measured: +50 to +100 MB after the first long texts, with nothing leaked).
A fixed threshold keeps large buffers on mmap, so the process returns to its baseline after each
request; small objects still come from the heap. ``MALLOC_MMAP_THRESHOLD_`` in the environment wins.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import sys

logger = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3  # mallopt parameter, from glibc's malloc.h
MMAP_THRESHOLD_BYTES = 256 * 1024


def return_large_blocks_to_os() -> bool:
    """Fix glibc's mmap threshold for this process; False where that does not apply (or is set already)."""
    if not sys.platform.startswith("linux") or "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        done = bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    if not done:
        logger.debug("mallopt(M_MMAP_THRESHOLD) was refused")
    return done
