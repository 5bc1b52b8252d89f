"""Continuous batching (engines/t3_scheduler.py): sequences join and leave a running T3 batch.

fp32 on CPU, the English T3 with 2 layers (random weights), as in test_t3_loop.py. A sequence's
tokens must not depend on what else is in the batch: each is compared with the same sequence
decoded alone (which test_t3_loop.py proves equal to upstream's ``T3.inference``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest
import torch
from torch import nn

from engines.base import PartialAudio
from engines.s3gen_stream import FIRST_WINDOW, TokenFeed, vocode_while_decoding
from engines.t3_loop import Decoder, Sampling, Sequence
from engines.t3_scheduler import T3Scheduler
from engines.t3_sequences import chatterbox_sequence, decode_batched, generator
from engines.worker import Cancelled
from tests.support.random_checkpoint import small_t3
from tests.support.t3_inputs import build_t3, likely_stop, made_up_cond, made_up_text

NO_PENALTY = Sampling(temperature=1.0, top_p=0.9, min_p=0.0, repetition_penalty=1.0, cfg_weight=0.7)
NO_CFG = Sampling(temperature=0.5, top_p=1.0, min_p=0.1, repetition_penalty=2.0, cfg_weight=0.0)


@pytest.fixture(scope="module")
def english_t3() -> Iterator[nn.Module]:
    from chatterbox.models.t3.modules.t3_config import T3Config

    t3 = build_t3(small_t3(), T3Config.english_only())
    yield t3
    del t3


@pytest.fixture
def scheduler(english_t3: nn.Module) -> Iterator[T3Scheduler]:
    batcher = T3Scheduler(Decoder(english_t3, "chatterbox", check_every=4), max_batch=4, name="test")
    yield batcher
    batcher.close()


def _sequence(t3: nn.Module, voice: int, text: int, sampling: Sampling, seed: int, budget: int) -> Sequence:
    with torch.inference_mode():
        return chatterbox_sequence(
            t3, made_up_cond(t3, voice), made_up_text(t3, text), sampling, generator("cpu", seed), budget
        )


def _alone(t3: nn.Module, spec: tuple) -> list[int]:
    """``spec``: voice, text length, sampling, seed, budget."""
    sequence = _sequence(t3, *spec)
    Decoder(t3, "chatterbox", check_every=4).decode([sequence])
    return sequence.tokens


def _wait_for_step(scheduler: T3Scheduler, step: int) -> None:
    deadline = time.monotonic() + 120
    while scheduler.steps < step:
        assert time.monotonic() < deadline, "the scheduler made no progress"
        time.sleep(0.005)


def test_sequences_that_join_a_running_batch_get_the_tokens_they_get_alone(
    english_t3: nn.Module, scheduler: T3Scheduler
) -> None:
    """Own voice, text, parameters, seed and budget; some join mid-run, some stop early."""
    specs = [
        (1, 20, Sampling(), 4, 40),
        (2, 9, NO_CFG, 5, 14),
        (3, 30, NO_PENALTY, 6, 6),
        (4, 12, Sampling(), 7, 30),  # joins later
        (5, 25, NO_CFG, 8, 20),  # joins later, waits for a place (max_batch 4)
    ]
    with likely_stop(english_t3, bias=3.0):
        alone = [_alone(english_t3, spec) for spec in specs]
        first = [scheduler.submit(_sequence(english_t3, *spec)) for spec in specs[:3]]
        _wait_for_step(scheduler, 3)
        later = [scheduler.submit(_sequence(english_t3, *spec)) for spec in specs[3:]]
        batched = [ticket.wait().tokens for ticket in first + later]
    assert batched == alone
    assert any(len(tokens) < spec[-1] for tokens, spec in zip(alone, specs, strict=True)), (
        "none stopped early"
    )
    assert all((ticket.joined_at_step or 0) >= 3 for ticket in later)
    assert scheduler.tokens_total >= sum(len(tokens) for tokens in alone) - len(
        specs
    )  # first tokens: prefill
    assert scheduler.stats()["batch_size"] == 0  # everyone left; the cache is freed
    assert scheduler._cache is None


def test_at_the_default_batch_size_a_sequence_still_gets_the_tokens_it_gets_alone(
    english_t3: nn.Module,
) -> None:
    """``models.t3_batch_size``'s default, 8 sequences with CFG: 16 rows, where ``F.linear``'s kernel on
    the CPU changes (from 16 rows on, the last bits of a row depend on how many rows share the step;
    docs/architecture.md, "Independence"); then cfg 0 ones (one row) join as places free. The tokens
    stay each sequence's alone."""
    from settings.models import ModelSettings

    size = ModelSettings().t3_batch_size
    guided = [Sampling(), NO_PENALTY]
    specs = [(1 + i, 10 + 3 * i, guided[i % 2], 20 + i, 40 - i) for i in range(size)]
    specs += [(20 + i, 12 + i, NO_CFG, 40 + i, 30) for i in range(2)]
    batcher = T3Scheduler(Decoder(english_t3, "chatterbox", check_every=4), max_batch=size, name="default")
    try:
        with likely_stop(english_t3, bias=1.0):
            alone = [_alone(english_t3, spec) for spec in specs]
            tickets = [batcher.submit(_sequence(english_t3, *spec)) for spec in specs]
            largest = 0
            while not all(ticket._finished.is_set() for ticket in tickets):
                largest = max(largest, batcher.active)
                time.sleep(0.001)
            batched = [ticket.wait().tokens for ticket in tickets]
    finally:
        batcher.close()
    assert batched == alone
    assert largest == size  # 8 sequences with CFG at once: 16 rows a step
    assert sum(len(tokens) == spec[-1] for tokens, spec in zip(alone, specs, strict=True)) >= size // 2


@pytest.mark.parametrize(
    "dtype",
    [
        "float32",
        pytest.param(
            "bfloat16",
            marks=pytest.mark.skipif(
                not torch.ops.mkldnn._is_mkldnn_bf16_supported(), reason="a CPU without oneDNN's bf16 kernels"
            ),
        ),
    ],
)
def test_with_packed_weights_a_sequence_still_gets_in_a_batch_the_tokens_it_gets_alone(
    english_t3: nn.Module, dtype: str
) -> None:
    """``models.cpu_packed_weights`` (fp32, or bf16 with ``models.dtype: bfloat16``): the tokens are
    no longer bitwise upstream's, but still the batch's business alone: 4 sequences (8 rows, where
    plain matmuls change kernel) against each one alone."""
    import copy

    from config import ModelSettings
    from engines.t3_fusion import packed_bytes
    from engines.t3_packing import packs_steps
    from engines.t3_sequences import prepare_t3

    t3 = copy.deepcopy(english_t3)
    prepare_t3(t3, ModelSettings(t3_loop="upstream", cpu_packed_weights=True), "chatterbox")
    assert not packs_steps(t3.tfmr)  # upstream's loop: ignored
    prepare_t3(t3, ModelSettings(dtype=dtype, cpu_packed_weights=True), "chatterbox")
    assert packs_steps(t3.tfmr)
    assert next(t3.parameters()).dtype == getattr(torch, dtype)
    specs = [
        (1, 20, Sampling(), 4, 24),
        (2, 9, NO_CFG, 5, 14),
        (3, 30, NO_PENALTY, 6, 18),
        (4, 12, Sampling(), 7, 20),
    ]
    batcher = T3Scheduler(Decoder(t3, "chatterbox", check_every=4), max_batch=4, name="packed")
    try:
        with likely_stop(t3, bias=3.0):
            alone = [_alone(t3, spec) for spec in specs]
            tickets = [batcher.submit(_sequence(t3, *spec)) for spec in specs]
            batched = [ticket.wait().tokens for ticket in tickets]
    finally:
        batcher.close()
    assert batched == alone
    weights = sum(p.numel() * p.element_size() for layer in t3.tfmr.layers for p in layer.parameters())
    assert packed_bytes(t3) >= weights  # the layers' packed copies (and the head's), counted


@pytest.mark.parametrize("one_text", [True, False], ids=["one owner", "each its own"])
def test_a_free_place_goes_to_the_request_holding_the_fewest(
    english_t3: nn.Module, scheduler: T3Scheduler, one_text: bool
) -> None:
    """Six chunks of one text (one owner) fill the batch of 4, two wait; a request that comes after
    them takes the first place that frees, before the text's waiting chunks. Submitted without an
    owner, each sequence is its own, and the oldest waiting joins first."""
    text = object() if one_text else None
    budgets = [10, 60, 60, 60, 60, 60]  # the first chunk leaves first; the others hold their places
    chunks = [
        scheduler.submit(_sequence(english_t3, n, 10, Sampling(), n, budget), owner=text)
        for n, budget in enumerate(budgets, 1)
    ]
    _wait_for_step(scheduler, 1)
    newcomer = scheduler.submit(_sequence(english_t3, 9, 10, Sampling(), 9, 10), owner=object())
    for ticket in [*chunks, newcomer]:
        ticket.wait()
    joined = {"newcomer": newcomer.joined_at_step, "chunk 5": chunks[4].joined_at_step}
    assert None not in joined.values()
    assert max(ticket.joined_at_step or 0 for ticket in chunks[:4]) < min(joined.values())  # type: ignore[type-var]
    if one_text:
        assert joined["newcomer"] < joined["chunk 5"], joined  # in at the first chunk's leaving
    else:
        assert joined["chunk 5"] < joined["newcomer"], joined


def test_a_cancelled_sequence_leaves_the_batch_at_once(english_t3: nn.Module, scheduler: T3Scheduler) -> None:
    keep = (2, 15, Sampling(), 11, 40)
    expected = _alone(english_t3, keep)
    cancel = threading.Event()
    leaving = scheduler.submit(_sequence(english_t3, 1, 20, Sampling(), 10, 500), cancel)
    staying = scheduler.submit(_sequence(english_t3, *keep))
    _wait_for_step(scheduler, 4)
    cancel.set()
    at_cancel = scheduler.steps
    with pytest.raises(Cancelled):
        leaving.wait()
    assert scheduler.steps <= at_cancel + 1  # gone before the step after the next
    assert staying.wait().tokens == expected  # its neighbour leaving changes nothing for it


def test_a_streamed_sequence_publishes_its_tokens_as_they_come_and_leaves_when_cancelled(
    english_t3: nn.Module, scheduler: T3Scheduler
) -> None:
    """What S3Gen windows read (engines/s3gen_stream.py): prefixes of the final tokens, while decoding."""
    spec = (2, 15, Sampling(), 11, 40)
    expected = _alone(english_t3, spec)
    seen: list[list[int]] = []
    feed = TokenFeed()
    feed.publish = lambda tokens: (seen.append(tokens), TokenFeed.publish(feed, tokens))  # type: ignore[method-assign]
    sequence = _sequence(english_t3, *spec)
    sequence.feed = feed
    assert scheduler.decode(sequence).tokens == expected  # streaming changes no token
    assert seen and all(expected[: len(tokens)] == tokens for tokens in seen)
    assert len(seen[0]) < len(expected) and feed.closed
    # A listener gone while windows are vocoded: the sequence leaves the batch, the windows stop.
    cancel = threading.Event()
    sequence = _sequence(english_t3, 1, 20, Sampling(), 10, 500)
    sequence.feed = feed = TokenFeed()
    ticket = scheduler.submit(sequence, cancel)
    partial = PartialAudio(send=lambda clip: cancel.set())  # gone once the first audio is out
    partial.wanted.set()
    windows = vocode_while_decoding(feed, partial, lambda tokens: np.zeros(960 * len(tokens)), 24_000)
    with pytest.raises(Cancelled):
        ticket.wait()
    assert windows.windows == 1 and len(feed.tokens) < 500
    deadline = time.monotonic() + 30
    while scheduler.active:  # (set just after the ticket is told)
        assert time.monotonic() < deadline, "the cancelled sequence stayed in the batch"
        time.sleep(0.005)


def test_a_streams_first_window_goes_first_and_t3_waits_while_it_is_vocoded(
    english_t3: nn.Module, scheduler: T3Scheduler
) -> None:
    """The head of a stream decodes alone up to its first window, which S3Gen vocodes with T3 paused."""
    head, behind = (2, 15, Sampling(), 11, 40), [(1, 20, NO_CFG, 12, 30), (3, 9, Sampling(), 13, 30)]
    expected = [_alone(english_t3, spec) for spec in (head, *behind)]
    partial = PartialAudio(send=lambda clip: None)
    partial.wanted.set()  # the listener waits on this chunk
    sequence = _sequence(english_t3, *head)
    sequence.feed = feed = TokenFeed(wanted=partial.wanted)
    tickets = [scheduler.submit(sequence)] + [
        scheduler.submit(_sequence(english_t3, *spec)) for spec in behind
    ]
    calls: list[dict] = []

    def vocode(tokens: list[int]) -> np.ndarray:
        call = {"tokens": len(tokens), "step": scheduler.steps, "joined": [t.joined_at_step for t in tickets]}
        time.sleep(0.3)  # S3Gen at work: a T3 step of this tiny model takes milliseconds
        calls.append({**call, "step after": scheduler.steps})
        return np.zeros(960 * len(tokens), dtype=np.float32)

    windows = vocode_while_decoding(feed, partial, vocode, 24_000)
    assert [ticket.wait().tokens for ticket in tickets] == expected  # going first changes no token
    first = calls[0]
    assert first["tokens"] == FIRST_WINDOW  # published the step it had enough, not at a later check
    assert first["step after"] == first["step"]  # no T3 step while the first window was vocoded
    assert first["joined"][1:] == [None, None]  # the chunks behind it waited for its first audio
    assert all(ticket.joined_at_step >= first["step"] for ticket in tickets[1:])  # type: ignore[operator]
    assert windows.started and not feed.urgent and not feed.held


def test_a_sequence_that_hits_its_budget_ends_with_a_warning(
    english_t3: nn.Module, scheduler: T3Scheduler, caplog: pytest.LogCaptureFixture
) -> None:
    sequence = _sequence(english_t3, 1, 20, Sampling(), 3, 7)
    with caplog.at_level(logging.WARNING, logger="engines.t3_sequences"):
        tokens = decode_batched(scheduler, sequence, "chatterbox")
    assert tokens.shape == (1, 7) and sequence.hit_budget  # random weights never stop by themselves
    assert "token budget" in caplog.text and "max_new_tokens=7" in caplog.text


def test_the_engine_batches_concurrent_chunks(english_t3: nn.Module) -> None:
    """Chunks sampled from several worker threads meet in one batch and keep their own tokens."""
    from types import SimpleNamespace

    from config import ModelSettings
    from engines.base import SynthesisParams
    from engines.chatterbox import ChatterboxTTSEngine

    engine = ChatterboxTTSEngine(ModelSettings(t3_loop="own", t3_batch_size=3, max_new_tokens=24))
    engine.device = "cpu"
    model = SimpleNamespace(t3=english_t3)
    assert engine.traits.concurrency == 3 and engine.traits.chunks_ahead == 3
    seeds = [21, 22, 23]
    sizes: list[int] = []
    results: dict[int, list[int]] = {}

    def chunk(seed: int) -> None:
        with torch.inference_mode():
            tokens = made_up_text(english_t3, 10 + seed % 5)
            speech = engine._sample_speech(
                model, made_up_cond(english_t3, seed), tokens, SynthesisParams(seed=seed)
            )
        results[seed] = speech[0].tolist()

    threads = [threading.Thread(target=chunk, args=(seed,)) for seed in seeds]
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        sizes.append((engine.batch_stats() or {}).get("batch_size", 0))
        time.sleep(0.002)
    for thread in threads:
        thread.join()
    engine.unload()
    assert max(sizes) >= 2, "the chunks never shared a step"
    for seed in seeds:
        assert results[seed] == _alone(english_t3, (seed, 10 + seed % 5, Sampling(), seed, 24))


def test_models_dtype_casts_t3_for_our_loop_only(caplog: pytest.LogCaptureFixture) -> None:
    """bfloat16 weights decode with our loop; with upstream's loop the setting is ignored, with a warning."""
    from chatterbox.models.t3.modules.t3_config import T3Config

    from config import ModelSettings
    from engines.t3_sequences import prepare_t3

    t3 = build_t3(small_t3(), T3Config.english_only())
    with caplog.at_level(logging.WARNING, logger="engines.t3_sequences"):
        assert prepare_t3(t3, ModelSettings(t3_loop="upstream", dtype="bfloat16"), "chatterbox") is None
    assert "ignored" in caplog.text and next(t3.parameters()).dtype == torch.float32
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="engines.t3_sequences"):
        assert prepare_t3(t3, ModelSettings(t3_loop="own", dtype="bfloat16"), "chatterbox") == torch.bfloat16
    assert next(t3.parameters()).dtype == torch.bfloat16
    # on a CPU: packed weights advised where it has bf16 kernels; else a warning that it may be slower
    advice = "cpu_packed_weights" if torch.ops.mkldnn._is_mkldnn_bf16_supported() else "no fast kernels"
    assert advice in caplog.text
    with torch.inference_mode():
        cond = made_up_cond(t3, 1).to(dtype=torch.bfloat16)  # type: ignore[attr-defined]
        sequence = chatterbox_sequence(t3, cond, made_up_text(t3), Sampling(), generator("cpu", 1), 8)
    scheduler = T3Scheduler(Decoder(t3, "chatterbox"), max_batch=2)
    try:
        tokens = scheduler.decode(sequence).tokens
    finally:
        scheduler.close()
    assert len(tokens) == 8 and all(0 <= token < t3.hp.speech_tokens_dict_size for token in tokens)
    del t3


def test_out_of_device_memory_shrinks_the_batch_and_the_tokens_stay_the_same(
    english_t3: nn.Module, scheduler: T3Scheduler, caplog: pytest.LogCaptureFixture
) -> None:
    """A step that runs out of memory with 3 sequences: the newest waits again and restarts, same tokens."""
    specs = [(1, 20, Sampling(), 31, 16), (2, 9, NO_CFG, 32, 16), (3, 30, NO_PENALTY, 33, 16)]
    alone = [_alone(english_t3, spec) for spec in specs]
    advance, failed, submitted = scheduler.decoder.advance, [], threading.Event()

    def tight(lives, positions, cache):  # type: ignore[no-untyped-def]
        submitted.wait(30)  # the three must meet in one batch, however slow the machine is
        if len(lives) == 3 and not failed:
            failed.append(True)
            raise torch.OutOfMemoryError("made-up: no room for a third sequence")
        return advance(lives, positions, cache)

    scheduler.decoder.advance = tight  # type: ignore[method-assign]
    with caplog.at_level(logging.WARNING, logger="engines.t3_scheduler"):
        tickets = [scheduler.submit(_sequence(english_t3, *spec)) for spec in specs]
        submitted.set()
        tokens = [ticket.wait().tokens for ticket in tickets]
    assert failed and tokens == alone
    assert scheduler.stats()["oom_shrinks"] == 1
    assert "out of device memory" in caplog.text


def test_out_of_device_memory_gives_back_the_step_graphs_memory(
    english_t3: nn.Module, scheduler: T3Scheduler
) -> None:
    """With models.cuda_graphs (its fixed-shape step, here uncaptured on the CPU): an OOM drops the graphs
    and their idle cache, and the batch goes on with the same tokens."""
    from engines.t3_graphs import StepGraphs

    backbone = scheduler.decoder.backbone
    graphs = StepGraphs(backbone, capture=False)
    backbone.graphs, released = graphs, []
    release = graphs.release
    graphs.release = lambda: (released.append(graphs._cache), release())  # type: ignore[method-assign]
    specs = [(1, 20, Sampling(), 31, 12), (2, 9, NO_CFG, 32, 12)]
    alone = [_alone(english_t3, spec) for spec in specs]
    advance, failed, submitted = scheduler.decoder.advance, [], threading.Event()

    def tight(lives, positions, cache):  # type: ignore[no-untyped-def]
        submitted.wait(30)
        if len(lives) == 2 and not failed:
            failed.append(True)
            raise torch.OutOfMemoryError("made-up: no room for a second sequence")
        return advance(lives, positions, cache)

    scheduler.decoder.advance = tight  # type: ignore[method-assign]
    try:
        tickets = [scheduler.submit(_sequence(english_t3, *spec)) for spec in specs]
        submitted.set()
        tokens = [ticket.wait().tokens for ticket in tickets]
    finally:
        backbone.graphs = None
    assert failed and tokens == alone
    assert len(released) == 1 and released[0] is not None  # a cache was held, and let go
