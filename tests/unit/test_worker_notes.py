"""What a model call tells its caller's response (engines/worker.py): notes cross to the worker thread."""

from __future__ import annotations

import asyncio

from engines.worker import ModelWorker, collecting_notes, note


def test_a_model_call_on_the_worker_thread_leaves_notes_for_its_caller_only() -> None:
    worker = ModelWorker()

    def cut_at_budget(text: str) -> str:
        note(f"{text}: speech reached the token budget")
        note(f"{text}: speech reached the token budget")  # said once
        return text

    async def main() -> tuple[list[str], list[str]]:
        async def speak(text: str) -> list[str]:
            with collecting_notes() as notes:
                await worker.run(cut_at_budget, text)
            return notes

        first, second = await asyncio.gather(speak("one"), speak("two"))
        return first, second

    try:
        first, second = asyncio.run(main())
    finally:
        worker.shutdown()
    assert first == ["one: speech reached the token budget"]
    assert second == ["two: speech reached the token budget"]
    note("outside any call")  # nobody listening: dropped, no error
