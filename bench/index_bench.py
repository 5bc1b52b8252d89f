"""How listing outputs scales with the metadata index: a page of 50 at 1k and at 100k outputs.

Builds a synthetic outputs/ folder (tiny stand-in audio files with real-looking ``<stem>.json``
records, spread over 10 project folders, half of them inside ``series/``), reconciles the index with it as the server does at
start, then times pages of 50 as ``GET /api/v1/outputs`` makes them (the index query plus shaping
the items, formats included), for several sorts and filters. Prints the medians at each size and
the ratio 100k / 1k. Goals: a page in at most 20 ms at 100k and at most 1.5x the 1k time;
reconciling 100k files in under 30 s.

    uv run --frozen python bench/index_bench.py [--sizes 1000 100000] [--repeat 50] [--index-url postgresql://...]

Not a test: timings depend on the machine. Writes under a temporary folder, removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.library import output_infos
from management.catalog import Catalog
from management.index import Filters, open_index

QUERIES: dict[str, tuple[Filters, str, bool, int]] = {
    "newest first (default)": (Filters(), "date", True, 1),
    "by name, page 10": (Filters(), "name", False, 10),
    "by duration": (Filters(), "duration", True, 1),
    "type=vc, newest": (Filters(generation_type="vc"), "date", True, 1),
    "folder=project7": (Filters(folder="project7"), "date", True, 1),
    "folder=series (subtree)": (Filters(folder="series"), "date", True, 1),
}


def build(root: Path, count: int) -> None:
    """``count`` outputs: tts (wav) or vc (mp3), each with its record, in 10 project folders."""
    base = time.time() - count
    for n in range(count):
        folder = root / ("series" if n % 10 < 5 else "") / f"project{n % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        kind, ext = ("vc", "mp3") if n % 5 == 0 else ("tts", "wav")
        stem = f"{kind}_{n:07d}"
        (folder / f"{stem}.{ext}").write_bytes(b"\0" * (100 + n % 977))
        record = {
            "type": kind,
            "engine": "chatterbox",
            "text": f"Line number {n} of the synthetic book.",
            "parameters": {"seed": n, "temperature": 0.8, "exaggeration": 0.5},
            "duration_seconds": round(1 + (n * 7919 % 10_000) / 1000, 3),
            "sample_rate": 24000,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(base + n)),
            "files": {ext: f"{stem}.{ext}"},
        }
        (folder / f"{stem}.json").write_text(json.dumps(record))


def median_ms(action: Callable[[], object], repeat: int) -> float:
    action()  # warm the page cache and SQLite's
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def fresh(url: str | None) -> None:
    """An empty PostgreSQL index (the SQLite file is new in each temporary folder anyway)."""
    if url:
        import psycopg

        with psycopg.connect(url, autocommit=True) as db:
            db.execute("DROP TABLE IF EXISTS files, index_schema")


def measure(count: int, repeat: int, url: str | None = None) -> tuple[float, dict[str, float]]:
    with tempfile.TemporaryDirectory(prefix="index_bench_") as tmp:
        root = Path(tmp) / "outputs"
        started = time.perf_counter()
        build(root, count)
        print(f"{count:>7} outputs: wrote the folder in {time.perf_counter() - started:.1f} s", flush=True)
        fresh(url)
        index = open_index(url, root / ".index.sqlite3")
        catalog = Catalog(index, "outputs", root, typed=True)
        started = time.perf_counter()
        report = catalog.scan()
        reconcile = time.perf_counter() - started
        assert report.total == count, report
        started = time.perf_counter()
        assert catalog.scan().updated == 0  # a restart with nothing changed
        rescan = time.perf_counter() - started
        print(f"{count:>7} outputs: reconciled in {reconcile:.2f} s (unchanged restart {rescan:.2f} s)")

        def page(filters: Filters, sort: str, descending: bool, number: int) -> Callable[[], object]:
            def run() -> object:
                found = catalog.page(filters, sort=sort, descending=descending, page=number, page_size=50)
                assert len(found.entries) == 50, "each size must be at least 1000 outputs"
                return output_infos(catalog, found.entries)

            return run

        medians = {label: median_ms(page(*query), repeat) for label, query in QUERIES.items()}
        index.close()
        return reconcile, medians


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs=2, default=[1000, 100_000])
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument(
        "--index-url", default=None, help="postgresql://... (a database of its own: its tables are dropped)"
    )
    args = parser.parse_args()
    small, large = args.sizes
    results = {size: measure(size, args.repeat, args.index_url) for size in (small, large)}
    print(f"\nmedian ms for a page of 50 ({args.repeat} runs)")
    print(f"{'query':<26}{small:>10}{large:>10}{'ratio':>8}")
    for label in QUERIES:
        a, b = results[small][1][label], results[large][1][label]
        print(f"{label:<26}{a:>10.2f}{b:>10.2f}{b / a:>8.2f}")
    default = "newest first (default)"
    a, b = results[small][1][default], results[large][1][default]
    print(
        f"\ndefault listing: {b:.2f} ms at {large} (goal <= 20), {b / a:.2f}x the {small} time (goal <= 1.5); "
        f"reconcile {results[large][0]:.1f} s at {large} (goal < 30)"
    )


if __name__ == "__main__":
    main()
