"""What every tab shares: the engine accessor, readable errors, library listings, small widgets."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

import gradio as gr

from core.progress import Progress
from core_engine import CoreEngine, OutputFile
from exceptions import ChatterboxError
from management.catalog import Catalog
from management.index import Filters
from management.voices import VoiceLibrary
from utils.audio import FORMATS

logger = logging.getLogger(__name__)

EngineGetter = Callable[[], CoreEngine]
# What a tab refreshes when the page opens: a handler and the components it updates.
Loader = tuple[Callable[[], Awaitable[Any]], list[Any]]
P = ParamSpec("P")
R = TypeVar("R")

DEFAULT = "(default)"
BUILTIN = "(built-in voice)"
FORMAT_NAMES = list(FORMATS)
LISTING_LIMIT = 500  # pickers show the newest files; the Outputs tab searches the rest


def readable(handler: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Show the project's errors as a message in the page (never a stack trace)."""

    @functools.wraps(handler)
    async def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await handler(*args, **kwargs)
        except ChatterboxError as exc:
            logger.info("ui: %s", exc.message)
            # Stays until dismissed (the default toast fades after 10 s and leaves only bare badges).
            raise gr.Error(exc.message, duration=None, print_exception=False) from None

    return run


def reporting(progress: gr.Progress, label: str) -> Callable[[Progress], None]:
    """A CoreEngine progress callback that moves the page's progress bar."""

    def report(step: Progress) -> None:
        # the fraction, not (done, total): it moves within a long chunk too (Progress.within)
        progress(step.fraction, desc=f"{label}: {step.done}/{step.total}")

    return report


def library_files(folder: Catalog | VoiceLibrary) -> list[str]:
    """Audio files in a library folder (voices/, vc_inputs/) by relative path, sorted (from the index)."""
    return folder.names()


def output_choices(core: CoreEngine, filters: Filters | None = None) -> list[tuple[str, str]]:
    """Outputs newest first, each labelled with the start of its text: ``(label, relative path)``."""
    page = core.libraries.outputs.page(
        filters or Filters(), sort="date", descending=True, page=1, page_size=LISTING_LIMIT
    )
    return [(label(entry.path, entry.text), entry.path) for entry in page.entries]


def label(path: str, text: str | None, width: int = 60) -> str:
    """A file named with the start of what it says: ``"Hello there…" · tts_….wav``."""
    if not text:
        return path
    words = " ".join(text.split())
    return f"“{words[:width]}{'…' if len(words) > width else ''}” · {path}"


def format_picker(label: str = "Export formats") -> gr.CheckboxGroup:
    return gr.CheckboxGroup(
        FORMAT_NAMES, value=["wav"], label=label, info="The first one is played.", min_width=240
    )


def project_box() -> gr.Textbox:
    return gr.Textbox(
        label="Project folder", placeholder="optional, e.g. audiobook/chapter1", max_lines=1, min_width=220
    )


def player(label: str, **kwargs: Any) -> gr.Audio:
    """An audio player for results: plays and downloads, no upload."""
    return gr.Audio(label=label, type="filepath", interactive=False, buttons=["download"], **kwargs)


def playable(files: list[OutputFile]) -> str | None:
    """The file a browser can play (raw PCM has no header: none if that is all there is)."""
    return next((str(f.path) for f in files if f.format != "pcm"), None)


def formats_of(chosen: list[str] | None) -> tuple[str, ...]:
    """The checked formats in the table's order (``wav`` first when checked)."""
    return tuple(name for name in FORMAT_NAMES if name in (chosen or []))


def result_summary(items: dict[str, Any]) -> str:
    """A short Markdown list of facts about a result."""
    return "\n".join(f"- **{key}**: {value}" for key, value in items.items() if value not in (None, "", []))
