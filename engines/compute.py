"""Torch's CPU work on one thread per process: the speech engines' models run there on a CPU.

torch's CPU kernels run in parallel through OpenMP (libgomp). libgomp keeps a pool of worker threads
for every thread that has run a parallel kernel, and once the workers of all pools outnumber the CPUs
it stops letting idle workers spin between kernels: each kernel then wakes its workers through the
operating system. The server ran torch on several threads (the model worker's, one per chunk in
flight, and the T3 batch's), so every small operator paid that wake-up: on 2 cores a GELU of 100k
values took 253 µs on a second thread against 41 µs on the only one, and one S3Gen call 6.1 s
against 4.3 s (``docs/performance.md``). On one thread the pools never outnumber the CPUs.

``runner(device)`` gives how an engine runs its torch work: on the CPU, ``on_torch_thread`` (the
calls wait in line; the caller's context variables, such as the request's cancel event and notes,
go with them); on a GPU, where kernels run on the device and T3 and S3Gen overlap, in the caller's
thread. A call already on the torch thread runs at once, so calls may nest. Work run there must not
wait for other work run there (it would wait forever): the T3 batch runs its steps there and waits
for a held first window outside them.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")
Runner = Callable[..., Any]

_tasks: queue.SimpleQueue[tuple[Future[Any], contextvars.Context, Callable[[], Any]]] = queue.SimpleQueue()
_thread: threading.Thread | None = None
_started = threading.Lock()


def on_torch_thread(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` on the process's torch thread, with the caller's context; its result or error."""
    if threading.current_thread() is _thread:
        return fn(*args)
    future: Future[T] = Future()
    _tasks.put((future, contextvars.copy_context(), lambda: fn(*args)))
    _start()
    return future.result()


def in_caller(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` here (a model on a GPU)."""
    return fn(*args)


def runner(device: str | None) -> Runner:
    """How a model on ``device`` runs its torch work: on the torch thread on a CPU, else in the caller."""
    return on_torch_thread if device is None or device == "cpu" else in_caller


def _start() -> None:
    global _thread
    with _started:
        if _thread is None:
            _thread = threading.Thread(target=_serve, name="torch-cpu", daemon=True)
            _thread.start()


def _serve() -> None:
    while True:
        future, context, call = _tasks.get()
        if not future.set_running_or_notify_cancel():
            continue
        try:
            result = context.run(call)
        except BaseException as exc:  # noqa: BLE001 - the caller gets it, as if it had made the call itself
            future.set_exception(exc)
        else:
            future.set_result(result)
        del future, context, call  # not held while waiting for the next task
