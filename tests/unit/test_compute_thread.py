"""engines.compute: the engines' torch work on one thread, with the caller's context and errors."""

from __future__ import annotations

import contextvars
import threading

import pytest

from engines import compute
from engines.worker import Cancelled

_request: contextvars.ContextVar[str] = contextvars.ContextVar("request", default="none")


def test_calls_from_many_threads_run_on_one_thread_with_their_callers_context() -> None:
    seen: dict[str, tuple[str, str]] = {}

    def call(name: str) -> None:
        _request.set(name)
        seen[name] = compute.on_torch_thread(lambda: (threading.current_thread().name, _request.get()))

    threads = [threading.Thread(target=call, args=(f"r{index}",)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {name for name, _ in seen.values()} == {"torch-cpu"}
    assert {name: request for name, (_, request) in seen.items()} == {f"r{i}": f"r{i}" for i in range(4)}


def test_an_error_reaches_the_caller_and_a_nested_call_runs_at_once() -> None:
    def fail() -> None:
        raise Cancelled()

    with pytest.raises(Cancelled):
        compute.on_torch_thread(fail)
    # a call made from the torch thread itself does not wait behind itself
    assert compute.on_torch_thread(lambda: compute.on_torch_thread(lambda: 7)) == 7


def test_a_model_on_a_gpu_runs_in_the_callers_thread() -> None:
    assert compute.runner("cuda")(threading.current_thread) is threading.current_thread()
    assert compute.runner("cpu") is compute.on_torch_thread
