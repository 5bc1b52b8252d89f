"""The Voice conversion tab: re-voice a clip (picked from vc_inputs/, uploaded or recorded).

``layout`` places the components, ``ConversionHandlers`` holds what the events do and ``build``
wires the two together.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from config import VC_ENGINES, Settings
from core_engine import ConversionRequest, CoreEngine, OutputOptions, SpeechResult
from parameters import VC_OVERLAP_SECONDS, VC_WINDOW_SECONDS
from ui.common import (
    BUILTIN,
    EngineGetter,
    Loader,
    format_picker,
    formats_of,
    library_files,
    playable,
    player,
    project_box,
    readable,
    reporting,
    result_summary,
)

NONE = "(none)"


def unavailable(core: CoreEngine) -> str | None:
    """Why conversion cannot run (its engine is disabled or failed to load), or None."""
    info = next((i for i in core.engines_info() if i["name"] in VC_ENGINES), None)
    if info is None:
        return f"the {VC_ENGINES[0]} engine is not enabled (engines.enabled in config.yaml)"
    return info["error"] if info["state"] == "failed" else None


@dataclass
class ConversionView:
    """The tab's components: the notice, the pickers with their previews, the settings, the result."""

    notice: gr.Markdown
    source: gr.Dropdown
    source_preview: gr.Audio
    target: gr.Dropdown
    target_preview: gr.Audio
    inputs: list[Any]  # source, upload, target, target upload, window, overlap, seed, formats, project
    convert: gr.Button
    result: list[Any]  # audio, files, summary


def layout() -> ConversionView:
    """Lay out the tab (inside a ``gr.Tab``)."""
    notice = gr.Markdown(visible=False, elem_id="vc-notice")
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=300):
            with gr.Group():
                source = gr.Dropdown([NONE], value=NONE, label="Input from vc_inputs/", elem_id="vc-source")
                source_preview = player(label="Input preview", visible=False, elem_id="vc-source-preview")
                upload = gr.Audio(
                    label="…or upload / record the input (wins over the pick)",
                    sources=["upload", "microphone"],
                    type="filepath",
                )
            with gr.Group():
                target = gr.Dropdown(
                    [BUILTIN], value=BUILTIN, label="Target voice from voices/", elem_id="vc-target"
                )
                target_preview = player(label="Voice preview", visible=False, elem_id="vc-target-preview")
                target_upload = gr.Audio(
                    label="…or upload the target voice", sources=["upload"], type="filepath"
                )
            with gr.Accordion("Settings", open=False), gr.Row():
                chunk = gr.Number(VC_WINDOW_SECONDS, minimum=1, maximum=300, label="Window (seconds)")
                overlap = gr.Number(VC_OVERLAP_SECONDS, minimum=0, maximum=5, label="Overlap (seconds)")
                seed = gr.Number(0, precision=0, minimum=0, label="Seed (0: random)")
            with gr.Row():
                formats = format_picker()
                project = project_box()
            convert = gr.Button("Convert voice", variant="primary", elem_id="vc-convert")
        with gr.Column(scale=2, min_width=280):
            audio = player(label="Result", elem_id="vc-audio")
            files = gr.File(label="Downloads", file_count="multiple", interactive=False)
            summary = gr.Markdown(elem_id="vc-summary")
    inputs = [source, upload, target, target_upload, chunk, overlap, seed, formats, project]
    return ConversionView(
        notice, source, source_preview, target, target_preview, inputs, convert, [audio, files, summary]
    )


def conversion_request(
    picked: str | None,
    uploaded: str | None,
    voice: str | None,
    voice_upload: str | None,
    window: float | None,
    overlap_seconds: float | None,
    seed_value: float | None,
    chosen: list[str],
    folder: str,
) -> ConversionRequest:
    """What the tab's fields ask for (an upload wins over a pick)."""
    return ConversionRequest(
        source=None if picked in (None, NONE) else picked,
        source_file=Path(uploaded) if uploaded else None,
        target_voice=None if voice in (None, BUILTIN) else voice,
        target_file=Path(voice_upload) if voice_upload else None,
        chunk_sec=float(window or VC_WINDOW_SECONDS),
        overlap_sec=float(overlap_seconds or 0),
        seed=int(seed_value or 0),
        output=OutputOptions(formats=formats_of(chosen), project=(folder or "").strip() or None),
    )


def preview_path(core: CoreEngine, library: str, name: str | None) -> str | None:
    """The picked file of ``vc_inputs`` or ``voices`` (None for none or the built-in voice)."""
    if not name or name in (NONE, BUILTIN):
        return None
    return str(getattr(core, library).resolve(name, param="file"))


class ConversionHandlers:
    """What the tab's events do, over the running CoreEngine."""

    def __init__(self, get: EngineGetter) -> None:
        self.get = get

    @readable
    async def refresh(self) -> tuple[Any, ...]:
        core = self.get()
        reason = unavailable(core)
        return (
            gr.update(value=f"**Voice conversion is unavailable:** {reason}", visible=bool(reason)),
            gr.update(choices=[NONE, *library_files(core.vc_inputs)]),
            gr.update(choices=[BUILTIN, *library_files(core.voices)]),
            # Disabled, with the reason above it, rather than a click that can only fail.
            gr.update(
                interactive=not reason,
                value="Convert voice (unavailable: see above)" if reason else "Convert voice",
            ),
        )

    @readable
    async def preview_input(self, name: str | None) -> Any:
        path = preview_path(self.get(), "vc_inputs", name)
        return gr.update(value=path, visible=path is not None)

    @readable
    async def preview_target(self, name: str | None) -> Any:
        path = preview_path(self.get(), "voices", name)
        return gr.update(value=path, visible=path is not None)

    @readable
    async def run(
        self,
        picked: str,
        uploaded: str | None,
        voice: str,
        voice_upload: str | None,
        window: float,
        overlap_seconds: float,
        seed_value: float | None,
        chosen: list[str],
        folder: str,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 - Gradio injects the tracker
    ) -> tuple[str | None, list[str], str]:
        request = conversion_request(
            picked, uploaded, voice, voice_upload, window, overlap_seconds, seed_value, chosen, folder
        )
        progress(0, desc="Loading the voice conversion model")
        result = await self.get().convert(request, reporting(progress, "Converting"))
        return playable(result.files), [str(f.path) for f in result.files], describe(result)


def build(get: EngineGetter, settings: Settings) -> Loader:
    """Lay out the tab (inside a ``gr.Tab``) and wire its events."""
    view, handlers = layout(), ConversionHandlers(get)
    view.convert.click(handlers.run, view.inputs, view.result)
    view.source.change(handlers.preview_input, view.source, view.source_preview)
    view.target.change(handlers.preview_target, view.target, view.target_preview)
    return handlers.refresh, [view.notice, view.source, view.target, view.convert]


def describe(result: SpeechResult) -> str:
    return result_summary(
        {
            "Saved": ", ".join(f"`{f.relative}`" for f in result.files),
            "Engine": result.engine,
            "Duration": f"{result.clip.duration:.2f} s",
            "Converted in": f"{result.generation_seconds:.2f} s",
        }
    )
