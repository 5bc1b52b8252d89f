"""The Concatenate tab: outputs and silences in order, joined into a new output.

``layout`` places the components, ``ConcatHandlers`` holds what the events do (plain methods over the
CoreEngine, testable without a page) and ``build`` wires the two together.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from config import Settings
from core.concat import ConcatOptions
from core_engine import ConcatJob, ConcatResult, CoreEngine, ItemSpec
from ui.common import (
    EngineGetter,
    Loader,
    format_picker,
    formats_of,
    output_choices,
    playable,
    player,
    project_box,
    readable,
    reporting,
    result_summary,
)

HELP = (
    "One item per line, in order: a file in outputs/ (`folder/name.wav`), `voice:name` or "
    "`vc_input:name` for library files, or a silence such as `(500ms)` or `(1.5s)`."
)


@dataclass
class ConcatView:
    """The tab's components: the recipe being built, the joining options, the result."""

    pick: gr.Dropdown
    silence: gr.Number
    preview: gr.Audio
    add: gr.Button
    add_silence: gr.Button
    recipe: gr.Textbox
    options: list[Any]  # pause, variation, crossfade, trim, level, normalize, loudness
    output: list[Any]  # formats, project, name
    join: gr.Button
    result: list[Any]  # audio, files, summary, details


def layout() -> ConcatView:
    """Lay out the tab (inside a ``gr.Tab``)."""
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=300):
            with gr.Row():
                pick = gr.Dropdown([], label="Output", scale=3, min_width=200, elem_id="concat-pick")
                silence = gr.Number(
                    500, minimum=50, maximum=10_000, step=50, label="Silence (ms)", scale=1, min_width=110
                )
            preview = player(label="Output preview", visible=False, elem_id="concat-preview")
            with gr.Row():
                add = gr.Button("Add output", size="md", elem_id="concat-add")
                add_silence = gr.Button("Add silence", size="md")
            recipe = gr.Textbox(label="Recipe", lines=6, info=HELP, elem_id="concat-recipe")
            options = _joining_options()
            with gr.Row():
                formats = format_picker()
                with gr.Column(min_width=220):
                    project = project_box()
                    name = gr.Textbox(label="Output name", placeholder="optional", max_lines=1)
            join = gr.Button("Join and save", variant="primary", elem_id="concat-join")
        with gr.Column(scale=2, min_width=280):
            result = [
                player(label="Result", elem_id="concat-audio"),
                gr.File(label="Downloads", file_count="multiple", interactive=False),
                gr.Markdown(elem_id="concat-summary"),
                gr.JSON(label="Recipe as done", max_height=420),
            ]
    return ConcatView(
        pick, silence, preview, add, add_silence, recipe, options, [formats, project, name], join, result
    )


def _joining_options() -> list[Any]:
    with gr.Accordion("Joining", open=False):
        with gr.Row():
            pause = gr.Number(0, minimum=0, maximum=10_000, label="Pause between files (ms)")
            variation = gr.Number(200, minimum=0, maximum=5000, label="Pause variation (ms)")
            crossfade = gr.Number(0, minimum=0, maximum=5000, label="Crossfade (ms)")
        with gr.Row():
            trim = gr.Checkbox(False, label="Trim each file's silence")
            level = gr.Checkbox(True, label="Level each file")
            normalize = gr.Checkbox(False, label="Normalise the result")
            loudness = gr.Number(-23, minimum=-70, maximum=-5, label="Loudness (LUFS)")
    return [pause, variation, crossfade, trim, level, normalize, loudness]


def append(current: str, item: str | None) -> str:
    """The recipe with one more line (nothing picked: unchanged)."""
    if not item:
        return current
    return f"{current.rstrip()}\n{item}".lstrip()


def append_silence(current: str, ms: float | None) -> str:
    return append(current, f"({int(ms or 500)}ms)")


def concat_job(lines: str, options: list[Any], chosen: list[str], folder: str, output_name: str) -> ConcatJob:
    """The job a recipe and the tab's options describe."""
    pause_ms, variation_ms, crossfade_ms, trim_each, level_each, normalize_all, lufs = options
    sources = [line.strip() for line in (lines or "").splitlines() if line.strip()]
    return ConcatJob(
        items=tuple(ItemSpec(f"line {i + 1}", source=s) for i, s in enumerate(sources)),
        options=ConcatOptions(
            crossfade_ms=float(crossfade_ms or 0),
            pause_ms=float(pause_ms or 0),
            pause_variation_ms=float(variation_ms or 0),
            trim=trim_each,
            level=level_each,
            normalize=normalize_all,
            normalize_level=float(lufs),
        ),
        formats=formats_of(chosen),
        project=(folder or "").strip() or None,
        name=(output_name or "").strip() or None,
    )


def preview_path(core: CoreEngine, name: str | None) -> str | None:
    """The picked output's file, to play before adding it (None when nothing is picked)."""
    if not name:
        return None
    catalog = core.libraries.outputs
    return str(catalog.root / catalog.get(name, param="file").path)


class ConcatHandlers:
    """What the tab's events do, over the running CoreEngine."""

    def __init__(self, get: EngineGetter) -> None:
        self.get = get

    @readable
    async def refresh(self) -> Any:
        return gr.update(choices=output_choices(self.get()))

    @readable
    async def show(self, name: str | None) -> Any:
        path = preview_path(self.get(), name)
        return gr.update(value=path, visible=path is not None)

    @readable
    async def run(
        self,
        lines: str,
        pause_ms: float,
        variation_ms: float,
        crossfade_ms: float,
        trim_each: bool,
        level_each: bool,
        normalize_all: bool,
        lufs: float,
        chosen: list[str],
        folder: str,
        output_name: str,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 - Gradio injects the tracker
    ) -> tuple[str | None, list[str], str, dict[str, Any], Any]:
        options = [pause_ms, variation_ms, crossfade_ms, trim_each, level_each, normalize_all, lufs]
        job = concat_job(lines, options, chosen, folder, output_name)
        result = await self.get().concat(job, reporting(progress, "Joining"))
        files = [str(f.path) for f in result.files]
        return playable(result.files), files, describe(result), result.metadata, await self.refresh()


def build(get: EngineGetter, settings: Settings) -> Loader:
    """Lay out the tab (inside a ``gr.Tab``) and wire its events."""
    view, handlers = layout(), ConcatHandlers(get)
    view.pick.change(handlers.show, view.pick, view.preview)
    view.add.click(append, [view.recipe, view.pick], view.recipe)
    view.add_silence.click(append_silence, [view.recipe, view.silence], view.recipe)
    view.join.click(handlers.run, [view.recipe, *view.options, *view.output], [*view.result, view.pick])
    return handlers.refresh, [view.pick]


def describe(result: ConcatResult) -> str:
    return result_summary(
        {
            "Saved": ", ".join(f"`{f.relative}`" for f in result.files),
            "Duration": f"{result.duration:.2f} s",
            "Files": result.audio_count,
            "Silences": result.silence_count,
            "Seed": result.seed,
        }
    )
