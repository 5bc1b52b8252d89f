"""The Speech tab: text to speech with any engine, voice and generation settings."""

from __future__ import annotations

from typing import Any

import gradio as gr

from config import Settings
from core_engine import CoreEngine, OutputOptions, SpeechRequest, SpeechResult
from ui.common import (
    BUILTIN,
    DEFAULT,
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
from utils.audio import PostProcessing


def tts_engines(core: CoreEngine) -> list[str]:
    return [DEFAULT, *(info["name"] for info in core.engines_info() if info["kind"] == "tts")]


def voice_choices(core: CoreEngine, engine: str | None) -> list[str]:
    """Named voices for engines that have them (Piper), else the reference clips in voices/."""
    name = core.serving()[0] if engine in (None, DEFAULT) else engine
    info = next((i for i in core.engines_info() if i["name"] == name), {})
    if "voices" in info:
        return [DEFAULT, *info["voices"]]
    return [BUILTIN, *library_files(core.settings.paths.voices_dir)]


def build(get: EngineGetter, settings: Settings) -> Loader:
    """Lay out the tab (inside a ``gr.Tab``) and wire its events."""
    defaults = settings.generation
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=300):
            text = gr.Textbox(
                label="Text", lines=6, placeholder="What should be said?", elem_id="speech-text"
            )
            with gr.Row():
                engine = gr.Dropdown([DEFAULT], value=DEFAULT, label="Engine", elem_id="speech-engine")
                voice = gr.Dropdown([DEFAULT], value=DEFAULT, label="Voice", elem_id="speech-voice")
            preview = player(label="Voice preview", visible=False, elem_id="speech-preview")
            with gr.Accordion("Generation settings", open=False):
                with gr.Row():
                    exaggeration = gr.Slider(
                        0, 2, value=defaults.exaggeration, step=0.05, label="Exaggeration"
                    )
                    cfg_weight = gr.Slider(0, 1, value=defaults.cfg_weight, step=0.05, label="CFG weight")
                with gr.Row():
                    temperature = gr.Slider(
                        0.05, 5, value=defaults.temperature, step=0.05, label="Temperature"
                    )
                    speed = gr.Slider(0.5, 2, value=1.0, step=0.05, label="Speed")
                with gr.Row():
                    seed = gr.Number(0, precision=0, minimum=0, label="Seed (0: random)")
                    trim = gr.Checkbox(False, label="Trim leading and trailing silence")
            with gr.Row():
                formats = format_picker()
                project = project_box()
            generate = gr.Button("Generate speech", variant="primary", elem_id="speech-generate")
        with gr.Column(scale=2, min_width=280):
            audio = player(label="Result", elem_id="speech-audio")
            files = gr.File(label="Downloads", file_count="multiple", interactive=False)
            summary = gr.Markdown(elem_id="speech-summary")

    @readable
    async def refresh() -> tuple[Any, Any]:
        core = get()
        voices = voice_choices(core, None)
        return gr.update(choices=tts_engines(core), value=DEFAULT), gr.update(choices=voices, value=voices[0])

    @readable
    async def pick_engine(name: str) -> Any:
        voices = voice_choices(get(), name)
        return gr.update(choices=voices, value=voices[0])

    @readable
    async def pick_voice(name: str) -> Any:
        core = get()
        if name in library_files(core.settings.paths.voices_dir):
            return gr.update(value=core.voices.resolve(name, param="voice"), visible=True)
        return gr.update(value=None, visible=False)

    @readable
    async def speak(
        words: str,
        engine_name: str,
        voice_name: str,
        exaggeration_value: float,
        cfg_value: float,
        temperature_value: float,
        speed_value: float,
        seed_value: float | None,
        trim_value: bool,
        chosen: list[str],
        folder: str,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 - Gradio injects the tracker
    ) -> tuple[str | None, list[str], str]:
        request = SpeechRequest(
            text=words or "",
            engine=None if engine_name in (None, DEFAULT) else engine_name,
            voice=None if voice_name in (None, DEFAULT, BUILTIN) else voice_name,
            exaggeration=exaggeration_value,
            cfg_weight=cfg_value,
            temperature=temperature_value,
            seed=int(seed_value or 0),
            output=OutputOptions(
                formats=formats_of(chosen),
                project=folder.strip() or None,
                post=PostProcessing(speed_factor=speed_value, trim=trim_value),
            ),
        )
        progress(0, desc="Starting")
        result = await get().synthesize(request, reporting(progress, "Speaking"))
        return playable(result.files), [str(f.path) for f in result.files], describe(result)

    settings = [exaggeration, cfg_weight, temperature, speed, seed, trim, formats, project]
    generate.click(speak, [text, engine, voice, *settings], [audio, files, summary])
    engine.change(pick_engine, engine, voice)
    voice.change(pick_voice, voice, preview)
    return refresh, [engine, voice]


def describe(result: SpeechResult) -> str:
    return result_summary(
        {
            "Saved": ", ".join(f"`{f.relative}`" for f in result.files),
            "Engine": result.engine,
            "Seed": result.seed,
            "Duration": f"{result.clip.duration:.2f} s",
            "Generated in": f"{result.generation_seconds:.2f} s",
            "Chunks": len(result.chunks),
            "Warnings": "; ".join(result.warnings),
        }
    )
