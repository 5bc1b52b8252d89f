"""A pytest plugin that names the tests that raised the suite's peak resident memory.

CI allows the suite 8 GB of peak resident memory (the largest single process: pytest itself or a
server a test started). ``ru_maxrss`` only ever grows, so a test that raises it is a test that set a
new peak: the summary at the end lists the largest of those raises, for pytest and for the processes
it waited for (live servers, Ray, PostgreSQL), so the next memory regression has a name.
"""

from __future__ import annotations

import resource
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

_SHOWN = 8


def _peaks_mb() -> tuple[float, float]:
    """Peak resident memory so far, in MB, of this process and of its largest finished child."""
    kilobytes = 1024  # Linux reports ru_maxrss in kilobytes
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * kilobytes / 2**20
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * kilobytes / 2**20
    return own, children


@dataclass
class MemoryReport:
    """The raises of each peak, test by test."""

    last: tuple[float, float] = field(default_factory=_peaks_mb)
    raises: dict[str, list[tuple[float, float, str]]] = field(
        default_factory=lambda: {"pytest": [], "child": []}
    )

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Iterator[None]:
        yield
        now = _peaks_mb()
        for kind, before, after in zip(("pytest", "child"), self.last, now, strict=True):
            if after > before:
                self.raises[kind].append((after - before, after, item.nodeid))
        self.last = now

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        own, child = self.last
        terminalreporter.section("peak resident memory")
        terminalreporter.write_line(f"pytest {own:,.0f} MB; largest child process {child:,.0f} MB")
        for kind, raises in self.raises.items():
            for raised, peak, nodeid in sorted(raises, reverse=True)[:_SHOWN]:
                terminalreporter.write_line(f"  {kind}: +{raised:,.0f} MB to {peak:,.0f} MB in {nodeid}")
