"""The memory budget: how many bytes of model weights each engine holds, and what to unload to load another.

Before a local engine loads, the least recently used idle engines are unloaded until what is resident
plus what it needs fits ``models.memory_budget_mb``. An engine that borrows weights already loaded
(chatterbox-vc with chatterbox's S3Gen) needs nothing, so it unloads nothing. Figures are asked of the
engines after every load and unload: unloading chatterbox while chatterbox-vc borrows its S3Gen frees T3
and the voice encoder only, and S3Gen is then counted against chatterbox-vc, which must go too to free
it. The manager offers only idle engines (nothing admitted or queued); when busy engines, or the new
engine's own size, keep the total over the budget, it loads anyway and a warning says why.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engines.base import MeasuresMemory

logger = logging.getLogger(__name__)

MB = 2**20


def module_bytes(*holders: Any) -> int:
    """Bytes of the parameters and buffers of torch modules, each storage counted once.

    A holder is a module, or any object whose attributes are modules (``ChatterboxTTS`` keeps T3,
    S3Gen and the voice encoder as attributes). Tensors sharing a storage (tied or shared modules, the
    views of T3's fused projections, ``engines.t3_fusion``) count the whole storage, once.
    """
    import torch

    seen: dict[tuple[str, int], int] = {}
    for module in _modules(holders, torch.nn.Module):
        for tensor in (*module.parameters(), *module.buffers()):
            storage = tensor.untyped_storage()
            if storage.data_ptr() == 0:  # meta tensors and empty storages hold nothing
                continue
            seen[(str(tensor.device), storage.data_ptr())] = storage.nbytes()
    return sum(seen.values())


def file_bytes(paths: Iterable[Path | None]) -> int | None:
    """Total size of the files that exist among ``paths``; None when none does (nothing to estimate from)."""
    sizes = [path.stat().st_size for path in paths if path is not None and path.is_file()]
    return sum(sizes) if sizes else None


def _modules(holders: Iterable[Any], module_type: type) -> list[Any]:
    found: dict[int, Any] = {}
    for holder in holders:
        if holder is None:
            continue
        candidates = (
            [holder] if isinstance(holder, module_type) else list(getattr(holder, "__dict__", {}).values())
        )
        for candidate in candidates:
            if isinstance(candidate, module_type):
                found.setdefault(id(candidate), candidate)
    return list(found.values())


def weights_bytes(engine: Any) -> int:
    """What an engine reports holding now (``memory_bytes``); 0 for engines that do not say."""
    if not isinstance(engine, MeasuresMemory):
        return 0
    try:
        return max(int(engine.memory_bytes()), 0)
    except Exception:  # a figure for the budget is never worth failing a load or a status page
        logger.exception("engine %s could not measure its memory", getattr(engine, "name", "?"))
        return 0


@dataclass(frozen=True)
class MemoryReport:
    """The budget, and the bytes of weights each engine holds now."""

    budget_bytes: int  # 0: no limit
    resident: dict[str, int]
    warning: str | None  # why the engines hold more than the budget, while they do

    @property
    def total(self) -> int:
        return sum(self.resident.values())


@dataclass
class MemoryBook:
    """The figures the manager keeps the budget with: measured after each load and unload."""

    budget_bytes: int = 0
    resident: dict[str, int] = field(default_factory=dict)
    measured: dict[str, int] = field(default_factory=dict)  # after a load: the figure to expect next time
    warning: str | None = None

    def measure(self, engines: Mapping[str, Any]) -> None:
        """Ask every engine what it holds now (an engine's share can change when another unloads)."""
        self.resident = {name: weights_bytes(engine) for name, engine in engines.items()}
        if self.warning and self.total() <= self.budget_bytes:
            self.warning = None

    def remember(self, name: str) -> None:
        """Keep a freshly loaded engine's figure as its estimate for its next load."""
        if self.resident.get(name, 0) > 0:
            self.measured[name] = self.resident[name]

    def need(self, name: str, engine: Any) -> int:
        """Bytes loading ``engine`` will add: 0 when it borrows loaded weights, else measured or estimated."""
        guess = engine.estimated_bytes() if isinstance(engine, MeasuresMemory) else None
        if guess == 0:
            return 0
        return self.measured.get(name) or guess or 0

    def total(self, *, excluding: str | None = None) -> int:
        return sum(size for name, size in self.resident.items() if name != excluding)

    def report(self) -> MemoryReport:
        return MemoryReport(self.budget_bytes, dict(self.resident), self.warning)

    def fits_at_start(self, name: str, need: int) -> bool:
        """Whether ``name`` fits beside what is loaded; at start nothing is unloaded for an engine."""
        used = self.total(excluding=name)
        if used + need <= self.budget_bytes:
            return True
        logger.info(
            "engine %s not loaded at start: it needs %s and %s of the %s memory budget is used; "
            "it loads on first use",
            *(name, _mb(need), _mb(used), _mb(self.budget_bytes)),
        )
        return False

    async def make_room(
        self,
        name: str,
        need: int,
        idle: Callable[[], list[str]],
        unload: Callable[[str], Awaitable[Any]],
    ) -> None:
        """Unload engines from ``idle()`` (least recently used first) until ``name`` and its ``need`` fit.

        ``unload`` re-measures every engine, so a share that moves to another engine is seen.
        """
        if need == 0:
            return
        while (resident := self.total(excluding=name)) + need > self.budget_bytes:
            victims = [other for other in idle() if other != name and self.resident.get(other, 0) > 0]
            if not victims:
                return
            await unload(victims[0])
            left = self.total(excluding=name)
            logger.info(
                "engine %s unloaded to make room for %s: freed %s; %s resident + %s needed of %s budget",
                *(victims[0], name, _mb(resident - left), _mb(left), _mb(need), _mb(self.budget_bytes)),
            )

    def check(self, name: str) -> None:
        """After ``name`` loaded: warn (log, and ``warning``) when the engines hold more than the budget."""
        budget, total, held = self.budget_bytes, self.total(), self.resident.get(name, 0)
        if total <= budget:
            return
        if held > budget:
            self.warning = (
                f"engine {name} holds {_mb(held)}, more than the {_mb(budget)} memory budget "
                "(models.memory_budget_mb): loaded anyway"
            )
        else:
            busy = [other for other, size in self.resident.items() if size and other != name]
            self.warning = (
                f"engines hold {_mb(total)} of the {_mb(budget)} memory budget: {', '.join(busy)} "
                f"in use, not unloaded to make room for {name}"
            )
        logger.warning(self.warning)


def _mb(size: int) -> str:
    return f"{size / MB:.0f} MB"
