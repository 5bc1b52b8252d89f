"""Continuous batching for T3: one thread per model decodes every active sequence together.

Callers (the engine's model-worker threads, one per chunk in flight) ``submit`` a ``Sequence`` and
wait on its ``Ticket``. Between two decode steps the scheduler thread lets new sequences join (each
is prefilled into free cache rows and samples its first token) and drops the ones that are done:
stopped (read every ``check_every`` steps, the only host sync), out of budget, or cancelled (read
every step, so a cancelled sequence leaves at once). Each sequence keeps its own prefill embeddings
(conditionals), sampling parameters, generator and budget, so its tokens do not depend on what else
is in the batch (``tests/unit/test_t3_scheduler.py``).

The KV cache holds the active rows packed at ``0..n-1`` (a leaving sequence's rows are filled by
moving the later rows down) and grows in length as positions advance; it is freed when the batch
empties, so an idle model holds no cache (with ``models.cuda_graphs`` the graphs' cache stays:
``engines.t3_graphs``).

A streamed sequence whose listener waits for its first audio goes first (``engines.s3gen_stream``):
while its first window is due no other sequence joins, its tokens are published the step it has
enough, and the next step waits until that window is vocoded.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from typing import Any

import torch

from engines.compute import Runner, in_caller
from engines.t3_backbone import KVCache
from engines.t3_loop import Decoder, Live, Sequence, stopped
from engines.worker import Cancelled

logger = logging.getLogger(__name__)

GROW = 128  # cache positions added at a time (a copy of the cache per growth)
HOLD_LIMIT = 120.0  # seconds T3 waits at most for a streamed first window to be vocoded


class Ticket:
    """A submitted sequence: ``wait`` returns it decoded, or raises ``Cancelled`` / the step's error.

    ``owner``: the request it belongs to (the chunks of one text share one); None: its own."""

    def __init__(
        self, sequence: Sequence, cancel: threading.Event | None, owner: object | None = None
    ) -> None:
        self.sequence = sequence
        self.cancel = cancel or threading.Event()
        self.owner: object = self if owner is None else owner
        self.error: BaseException | None = None
        self.joined_at_step: int | None = None
        self._finished = threading.Event()
        self._rng = sequence.generator.get_state()  # to start again from scratch (device out of memory)

    def restart(self) -> None:
        """Back to before its first token: the same seed gives the same tokens again."""
        self.sequence.generator.set_state(self._rng)
        self.sequence.tokens, self.sequence.hit_budget = [], False

    def finish(self, error: BaseException | None = None) -> None:
        self.error = error
        self._finished.set()
        if self.sequence.feed is not None:
            self.sequence.feed.close()

    def wait(self) -> Sequence:
        self._finished.wait()
        if self.error is not None:
            raise self.error
        return self.sequence


class T3Scheduler:
    """Decodes the sequences of one T3 model step by step in a batch of up to ``max_batch``."""

    def __init__(self, decoder: Decoder, max_batch: int, name: str = "t3", run: Runner = in_caller) -> None:
        self.decoder = decoder
        self._compute = run  # where the steps run (engines.compute: the torch thread on a CPU)
        self.max_batch = max_batch
        self._limit = max_batch  # lowered after a device out-of-memory, back up when the batch empties
        self.oom_shrinks = 0
        self.name = name
        self._pending: collections.deque[Ticket] = collections.deque()
        self._wake = threading.Condition()
        self._closed = False
        self._thread: threading.Thread | None = None
        # The running batch (touched by the scheduler thread only).
        self._tickets: list[Ticket] = []
        self._lives: list[Live] = []
        self._positions: list[int] = []
        self._cache: KVCache | None = None
        self.steps = 0
        # Figures for /health and /metrics.
        self.active = 0
        self.tokens_total = 0
        self._window: collections.deque[tuple[float, int]] = collections.deque(maxlen=64)

    # ---- callers' side ----------------------------------------------------------------------

    def submit(
        self, sequence: Sequence, cancel: threading.Event | None = None, owner: object | None = None
    ) -> Ticket:
        """Queue a sequence; it joins the batch before the next step with a free place (``_admit``)."""
        ticket = Ticket(sequence, cancel, owner)
        with self._wake:
            if self._closed:
                raise RuntimeError(f"{self.name}: the T3 scheduler is closed")
            self._pending.append(ticket)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=f"t3-batch-{self.name}", daemon=True)
                self._thread.start()
            self._wake.notify()
        return ticket

    def decode(self, sequence: Sequence, cancel: threading.Event | None = None) -> Sequence:
        """Submit and wait: the sequence with its ``tokens`` (``hit_budget`` when the budget ended it)."""
        return self.submit(sequence, cancel).wait()

    def close(self) -> None:
        """Stop the thread; sequences still waiting or running end with ``Cancelled``."""
        with self._wake:
            self._closed = True
            self._wake.notify()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()

    def stats(self) -> dict[str, Any]:
        """Batch size now, its limit, sequences waiting, speech tokens per second (last steps)."""
        window = list(self._window)
        rate = 0.0
        if len(window) >= 2 and window[-1][0] > window[0][0]:
            rate = sum(n for _, n in window[1:]) / (window[-1][0] - window[0][0])
        return {
            "batch_size": self.active,
            "max_batch_size": self.max_batch,
            "waiting": len(self._pending),
            "tokens_per_second": round(rate, 2),
            "tokens_total": self.tokens_total,
            "oom_shrinks": self.oom_shrinks,
        }

    # ---- the scheduler thread ---------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._closed and not self._pending and not self._tickets:
                    self._wake.wait()
                if self._closed:
                    break
                joining = self._admit()
            try:
                self._compute(self._join_all, joining)
                if self._tickets:
                    self._await_first_windows()  # here: the window it waits for runs where the steps do
                    self._compute(self._advance)
            except torch.OutOfMemoryError as exc:
                self._shrink(joining, exc)
            except Exception as exc:  # a failed step fails the sequences in it, not the scheduler
                logger.exception("%s: T3 batch step failed", self.name)
                for ticket in self._tickets:
                    ticket.finish(exc)
                self._reset()
        for ticket in [*self._tickets, *self._pending]:
            ticket.finish(Cancelled())
        self._reset()

    def _join_all(self, joining: list[Ticket]) -> None:
        """Prefill the joining sequences (each leaves ``joining`` once in), then drop the cancelled."""
        with torch.inference_mode():
            if len(joining) > 1:
                self._reserve_for(joining)
            while joining:
                self._join(joining[0])
                joining.pop(0)
            self._leave(check=False)

    def _reserve_for(self, joining: list[Ticket]) -> None:
        """Room for all the joining sequences at once: one allocation, not one (and a copy) per sequence.

        Out of memory here, each still reserves its own rows as it joins (and the one that does not
        fit is handled as it always is)."""
        embeds = [ticket.sequence.embeds for ticket in joining]
        rows = len(self._positions) + sum(e.size(0) for e in embeds)
        length = max([*self._positions, *(e.size(1) for e in embeds)]) + 2
        try:
            self._reserve(rows, length, like=embeds[0])
        except torch.OutOfMemoryError:
            logger.info(
                "%s: no room for %d joining sequences at once: they join one by one", self.name, len(joining)
            )

    def _advance(self) -> None:
        """One decode step of the batch; the done leave; a first window's tokens go out."""
        with torch.inference_mode():
            self._step()
            self._leave(check=self.steps % self.decoder.check_every == 0 or self._analyzed())
            self._publish_first_windows()

    def _admit(self) -> list[Ticket]:
        """The waiting sequences that join now (under ``_wake``), up to the limit: each free place goes
        to the owner (request) holding the fewest places, the oldest of its sequences first. A long text
        may fill an idle batch with its chunks, and a request arriving later still takes the next place
        that frees, ahead of the text's chunks still waiting.

        While a streamed sequence's first window is due (``TokenFeed.urgent``: its listener waits and
        has heard nothing yet), only such sequences join: the first audio does not wait for steps
        shared with the chunks behind it. The others join once that window is out.
        """
        hurry = any(_urgent(ticket) for ticket in (*self._tickets, *self._pending))
        waiting = [ticket for ticket in self._pending if not hurry or _urgent(ticket)]
        held = collections.Counter(ticket.owner for ticket in self._tickets)
        joining: list[Ticket] = []
        while waiting and len(self._tickets) + len(joining) < self._limit:
            ticket = min(waiting, key=lambda waiter: held[waiter.owner])  # ties: the oldest
            waiting.remove(ticket)
            self._pending.remove(ticket)
            joining.append(ticket)
            held[ticket.owner] += 1
        return joining

    def _publish_first_windows(self) -> None:
        """An urgent stream with enough tokens for its first window gets them now, and T3 holds."""
        for live in self._lives:
            feed = live.seq.feed
            if feed is not None and feed.urgent and not feed.held and live.sampled >= feed.first:
                feed.publish(live.so_far(), hold=True)

    def _await_first_windows(self) -> None:
        """While a first window is vocoded, T3 waits: S3Gen has the cores (or the device) to itself."""
        for ticket, live in zip(self._tickets, self._lives, strict=True):
            feed, began = live.seq.feed, time.monotonic()
            while feed is not None and not feed.wait_released(0.05):
                if ticket.cancel.is_set() or self._closed:
                    break
                if time.monotonic() - began > HOLD_LIMIT:
                    logger.warning("%s: a first window took over %.0f s: T3 goes on", self.name, HOLD_LIMIT)
                    feed.release()
                    break

    def _shrink(self, joining: list[Ticket], error: torch.OutOfMemoryError) -> None:
        """Out of device memory: the newest sequence waits again (from scratch: same tokens), the limit drops.

        A sequence that does not fit even alone fails with the error; one with the multilingual
        analyzer (state that cannot be rewound) fails too.
        """
        if not joining:
            if len(self._tickets) <= 1:  # one sequence alone does not fit: it fails
                for ticket in self._tickets:
                    ticket.finish(error)
                self._reset()
                return
            # the step: the newest running sequence steps back (rows move as others leave: not the last)
            newest = max(range(len(self._tickets)), key=lambda i: (self._tickets[i].joined_at_step or 0, i))
            joining = [self._tickets[newest]]
            self._remove(newest)
        elif not self._tickets:  # the first to join does not fit alone: it fails, the others wait
            joining.pop(0).finish(error)
        self._limit = max(1, len(self._tickets))
        self.oom_shrinks += 1
        self.active = len(self._tickets)
        logger.warning(
            "%s: out of device memory with %d sequences in the T3 batch: batch limited to %d, %d wait again",
            self.name,
            len(self._tickets) + len(joining),
            self._limit,
            len(joining),
        )
        with self._wake:
            for ticket in reversed(joining):
                if ticket.sequence.analyzer is not None:
                    ticket.finish(error)
                    continue
                ticket.restart()
                self._pending.appendleft(ticket)
        if (graphs := self.decoder.backbone.graphs) is not None:
            # Its graphs were captured for the larger batch, and its cache may sit idle (the batch
            # emptied): the memory goes back; a running batch's cache stays, held by the batch.
            graphs.release()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    def _join(self, ticket: Ticket) -> None:
        if ticket.cancel.is_set():
            ticket.finish(Cancelled())
            return
        live = Live(self.decoder, ticket.sequence)
        offset = sum(other.rows for other in self._lives)
        self._reserve(offset + live.rows, live.prompt + 2, like=live.seq.embeds)
        assert self._cache is not None
        self.decoder.prefill(live, self._cache, offset)
        ticket.joined_at_step = self.steps
        self._tickets.append(ticket)
        self._lives.append(live)
        self._positions.extend([live.prompt] * live.rows)
        self.active = len(self._tickets)

    def _step(self) -> None:
        self._reserve(len(self._positions), max(self._positions) + 2, like=self._lives[0].seq.embeds)
        assert self._cache is not None
        sampled = sum(not live.spent for live in self._lives)  # tokens this step samples
        self.decoder.advance(self._lives, self._positions, self._cache)
        self._positions = [p + 1 for p in self._positions]
        self.steps += 1
        self.tokens_total += sampled
        self._window.append((time.perf_counter(), sampled))

    def _analyzed(self) -> bool:
        return any(live.seq.analyzer is not None for live in self._lives)

    def _leave(self, *, check: bool) -> None:
        """Drop cancelled and spent sequences; with ``check``, the stopped ones too."""
        if not self._tickets:
            return
        flags = stopped(self._lives) if check else [False] * len(self._lives)
        for index in reversed(range(len(self._tickets))):
            ticket, live = self._tickets[index], self._lives[index]
            if ticket.cancel.is_set():
                self._remove(index)
                ticket.finish(Cancelled())
            elif flags[index] or live.spent:
                self._remove(index)
                live.collect()
                ticket.finish()
            elif check and live.seq.feed is not None:  # streamed: its tokens so far, at this host sync
                live.seq.feed.publish(live.so_far())
        self.active = len(self._tickets)
        if not self._tickets:
            self._reset()

    def _remove(self, index: int) -> None:
        """Take sequence ``index`` out: the last sequence moves into its rows when it has as many (its
        rows copied, not all the rows after it: on a CPU a copy of most of the cache took longer than
        a step); else the rows after it move down over its rows."""
        start = sum(live.rows for live in self._lives[:index])
        rows = self._lives[index].rows
        used = len(self._positions)
        last = len(self._lives) - 1
        if index < last and self._lives[last].rows == rows:
            moved = used - rows  # the last sequence's first row; its rows do not overlap the gap
            if self._cache is not None:
                span = max(self._positions) + 1
                for tensor in (self._cache.keys, self._cache.values):
                    tensor[:, start : start + rows, :, :span] = tensor[:, moved:used, :, :span]
            self._positions[start : start + rows] = self._positions[moved:used]
            del self._positions[moved:used]
            self._tickets[index] = self._tickets.pop()
            self._lives[index] = self._lives.pop()
            return
        if self._cache is not None and start + rows < used:
            span = max(self._positions) + 1
            for tensor in (self._cache.keys, self._cache.values):
                tail = tensor[:, start + rows : used, :, :span].clone()
                tensor[:, start : used - rows, :, :span] = tail
        del self._positions[start : start + rows]
        del self._tickets[index]
        del self._lives[index]

    def _reserve(self, rows: int, length: int, like: torch.Tensor) -> None:
        """A cache with at least ``rows`` rows and ``length`` positions, keeping what it holds."""
        old = self._cache
        if old is not None and rows <= old.keys.size(1) and length <= old.length:
            return
        have_rows = old.keys.size(1) if old is not None else 0
        have_length = old.length if old is not None else 0
        new_length = have_length if length <= have_length else max(length, have_length + GROW)
        # Rows grow by half at least (up to what the batch limit can hold, two rows a sequence): a
        # sequence joining a running batch would otherwise copy the whole cache each time.
        new_rows = have_rows if rows <= have_rows else max(rows, min(have_rows * 3 // 2, 2 * self._limit))
        cache = self.decoder.backbone.new_cache(new_rows, new_length, like=like)
        if old is not None and cache is not old and self._positions:
            used, span = len(self._positions), max(self._positions) + 1
            cache.keys[:, :used, :, :span] = old.keys[:, :used, :, :span]
            cache.values[:, :used, :, :span] = old.values[:, :used, :, :span]
        self._cache = cache

    def _reset(self) -> None:
        self._tickets, self._lives, self._positions, self._cache = [], [], [], None
        self.active = 0
        self._limit = self.max_batch


def _urgent(ticket: Ticket) -> bool:
    feed = ticket.sequence.feed
    return feed is not None and feed.urgent
