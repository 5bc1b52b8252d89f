"""The Speech tab: text to speech with any engine, voice and generation settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from config import Settings
from core.languages import LANGUAGE_NAMES
from core_engine import CoreEngine, OutputOptions, SpeechRequest, SpeechResult
from exceptions import ChatterboxError
from management.emotions import PREFIX as EMOTION
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

# app.py refreshes the tab when it is opened again, passing the current picks (new library voices show up).
REFRESH_ON_SELECT = True


def tts_engines(core: CoreEngine) -> list[str]:
    return [DEFAULT, *(info["name"] for info in core.engines_info() if info["kind"] == "tts")]


def voice_choices(core: CoreEngine, engine: str | None) -> list[str | tuple[str, str]]:
    """Named voices for engines that have them (Piper), else the library's voices (by path, so
    with their folders) and the emotion profiles (``emotion:<id>``)."""
    name = core.serving()[0] if engine in (None, DEFAULT) else engine
    info = next((i for i in core.engines_info() if i["name"] == name), {})
    if "voices" in info:
        return [DEFAULT, *info["voices"]]
    profiles = [(f"Emotion: {p.character} · {p.emotion}", f"{EMOTION}{p.id}") for p in core.emotions.list()]
    return [BUILTIN, *library_files(core.voices), *profiles]


def language_choices(core: CoreEngine, engine: str | None) -> list[str | tuple[str, str]]:
    """``Default`` and the languages the engine speaks, as "German (de)" (none for an engine not there)."""
    name = core.serving()[0] if engine in (None, DEFAULT) else engine
    spoken = core.speech.languages(name)
    if len(spoken) < 2:
        return [DEFAULT]
    return [DEFAULT, *((f"{LANGUAGE_NAMES[c]} ({c})" if c in LANGUAGE_NAMES else c, c) for c in spoken)]


CONTROLS = ("exaggeration", "cfg_weight", "temperature")


def speaking_engine(core: CoreEngine, engine: str | None) -> tuple[str | None, set[str], str]:
    """Who will speak, the sliders it ignores, and a note when the fallback serves for the default."""
    chosen = engine not in (None, DEFAULT)
    name = engine if chosen else core.serving()[0]
    try:
        ignored = set(core.speech.facts(name).ignored_controls) if name else set()
    except ChatterboxError:
        ignored = set()
    default, reason = core.settings.engines.default, core.serving()[1]
    note = ""
    if name is None:
        note = f"**No engine can speak now**: {reason}. See the Status tab."
    elif not chosen and reason:
        note = (
            f"**{name} speaks** instead of {default}: "
            f"{reason.removeprefix(f'{default} unavailable: ').rstrip('.')}. Library voices and the controls "
            f'{name} ignores need {default} (README, "Chatterbox weights").'
        )
    if name and ignored & set(CONTROLS):
        note += f"\n\n{name} ignores the greyed-out generation settings."
    return name, ignored, note.strip()


def engine_view(core: CoreEngine, engine: str | None) -> tuple[Any, ...]:
    """The note on who speaks, and the sliders enabled only for an engine that uses them."""
    _, ignored, note = speaking_engine(core, engine)
    return gr.update(value=note, visible=bool(note)), *(
        gr.update(interactive=k not in ignored) for k in CONTROLS
    )


def values(choices: list[str | tuple[str, str]]) -> list[str]:
    return [c[1] if isinstance(c, tuple) else c for c in choices]


def voice_defaults(core: CoreEngine, name: str) -> dict[str, Any]:
    """The controls a voice fills: an emotion profile's, or a library voice's saved defaults."""
    profile = core.profile_for(name)
    if profile is not None:
        return profile.defaults
    path = core.voices.resolve(name, param="voice")
    return core.voices.default_parameters(path)


@dataclass
class SpeechView:
    """The tab's components: the text and pickers, the generation settings, the actions, the result."""

    text: gr.Textbox
    engine: gr.Dropdown
    voice: gr.Dropdown
    language: gr.Dropdown
    engine_note: gr.Markdown
    preview: gr.Audio
    sliders: list[Any]  # exaggeration, CFG weight, temperature: the ones an engine may ignore
    settings: list[Any]  # the sliders, then speed, seed, trim, formats, project
    generate: gr.Button
    cancel: gr.Button
    result: list[Any]  # audio, files, summary


def layout(settings: Settings) -> SpeechView:
    """Lay out the tab (inside a ``gr.Tab``)."""
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=300):
            text = gr.Textbox(
                label="Text", lines=6, placeholder="What should be said?", elem_id="speech-text"
            )
            with gr.Row():
                engine = gr.Dropdown([DEFAULT], value=DEFAULT, label="Engine", elem_id="speech-engine")
                voice = gr.Dropdown([DEFAULT], value=DEFAULT, label="Voice", elem_id="speech-voice")
                language = gr.Dropdown(
                    [DEFAULT], value=DEFAULT, label="Language", elem_id="speech-language", min_width=120
                )
            engine_note = gr.Markdown(visible=False, elem_id="speech-engine-note")
            preview = player(label="Voice preview", visible=False, elem_id="speech-preview")
            generation = _generation_settings(settings)
            with gr.Row():
                formats = format_picker()
                project = project_box()
            with gr.Row():
                generate = gr.Button("Generate speech", variant="primary", elem_id="speech-generate", scale=3)
                cancel = gr.Button("Cancel", variant="stop", elem_id="speech-cancel", scale=1, min_width=90)
        with gr.Column(scale=2, min_width=280):
            result = [
                player(label="Result", elem_id="speech-audio"),
                gr.File(label="Downloads", file_count="multiple", interactive=False),
                gr.Markdown(elem_id="speech-summary"),
            ]
    return SpeechView(
        text,
        engine,
        voice,
        language,
        engine_note,
        preview,
        generation[:3],
        [*generation, formats, project],
        generate,
        cancel,
        result,
    )


def _generation_settings(settings: Settings) -> list[Any]:
    """The *Generation settings* accordion: exaggeration, CFG weight, temperature, speed, seed, trim."""
    defaults = settings.generation

    def slider(low: float, high: float, value: float, label: str, key: str) -> gr.Slider:
        return gr.Slider(low, high, value=value, step=0.05, label=label, elem_id=f"speech-{key}")

    with gr.Accordion("Generation settings", open=False):
        with gr.Row():
            exaggeration = slider(0, 2, defaults.exaggeration, "Exaggeration", "exaggeration")
            cfg_weight = slider(0, 1, defaults.cfg_weight, "CFG weight", "cfg_weight")
        with gr.Row():
            temperature = slider(0.05, 5, defaults.temperature, "Temperature", "temperature")
            speed = slider(0.5, 2, 1.0, "Speed", "speed")
        with gr.Row():
            seed = gr.Number(0, precision=0, minimum=0, label="Seed (0: random)")
            trim = gr.Checkbox(False, label="Trim leading and trailing silence")
    return [exaggeration, cfg_weight, temperature, speed, seed, trim]


def speech_request(
    ignored: set[str],
    words: str,
    engine_name: str | None,
    voice_name: str | None,
    language_name: str | None,
    controls: tuple[float, float, float],
    speed_value: float,
    seed_value: float | None,
    trim_value: bool,
    chosen: list[str],
    folder: str,
) -> SpeechRequest:
    """What the tab's fields ask for; the controls the speaking engine ignores (``ignored``) are not sent."""
    return SpeechRequest(
        text=words or "",
        engine=None if engine_name in (None, DEFAULT) else engine_name,
        voice=None if voice_name in (None, DEFAULT, BUILTIN) else voice_name,
        language=None if language_name in (None, DEFAULT) else language_name,
        **{key: value for key, value in zip(CONTROLS, controls, strict=True) if key not in ignored},
        seed=int(seed_value or 0),
        output=OutputOptions(
            formats=formats_of(chosen),
            project=(folder or "").strip() or None,
            post=PostProcessing(speed_factor=speed_value, trim=trim_value),
        ),
    )


def voice_preview(core: CoreEngine, name: str | None) -> tuple[str | None, dict[str, Any]]:
    """The file that previews a voice (a profile's first sample) and the controls it fills.

    ``(None, {})`` for the built-in voice or an engine's own voice name (Piper's): nothing to play."""
    if not name or name in (DEFAULT, BUILTIN):
        return None, {}
    try:
        profile = core.profile_for(name)
        path = core.voices.resolve(profile.samples[0] if profile else name, param="voice")
    except ChatterboxError:  # an engine's own voice name (Piper)
        return None, {}
    return str(path), voice_defaults(core, name)


class SpeechHandlers:
    """What the tab's events do, over the running CoreEngine."""

    def __init__(self, get: EngineGetter) -> None:
        self.get = get

    @readable
    async def refresh(
        self, engine_name: str = DEFAULT, voice_name: str | None = None, language_name: str = DEFAULT, *_: Any
    ) -> tuple[Any, ...]:
        """Engines, voices and languages (on page load and when the tab is opened again: keeps the picks)."""
        core = self.get()
        engines = tts_engines(core)
        engine_name = engine_name if engine_name in engines else DEFAULT
        voices = voice_choices(core, engine_name)
        voice_name = voice_name if voice_name in values(voices) else values(voices)[0]
        languages = language_choices(core, engine_name)
        language_name = language_name if language_name in values(languages) else DEFAULT
        return (
            gr.update(choices=engines, value=engine_name),
            gr.update(choices=voices, value=voice_name),
            gr.update(choices=languages, value=language_name),
            *engine_view(core, engine_name),
        )

    @readable
    async def pick_engine(self, name: str) -> tuple[Any, ...]:
        core = self.get()
        voices = voice_choices(core, name)
        languages = language_choices(core, name)
        return (
            gr.update(choices=voices, value=values(voices)[0]),
            gr.update(choices=languages, value=DEFAULT),
            *engine_view(core, name),
        )

    @readable
    async def pick_voice(self, name: str) -> tuple[Any, ...]:
        """Preview the voice (a profile's first sample) and show its saved defaults in the sliders."""
        path, saved = voice_preview(self.get(), name)
        fills = [gr.update(value=saved[key]) if key in saved else gr.update() for key in CONTROLS]
        return gr.update(value=path, visible=path is not None), *fills

    @readable
    async def speak(
        self,
        words: str,
        engine_name: str,
        voice_name: str,
        language_name: str,
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
        _, ignored, _ = speaking_engine(self.get(), engine_name)  # greyed-out sliders are not sent
        controls = (exaggeration_value, cfg_value, temperature_value)
        request = speech_request(
            ignored, words, engine_name, voice_name, language_name, controls, speed_value, seed_value,
            trim_value, chosen, folder,
        )  # fmt: skip
        progress(0, desc="Starting")
        result = await self.get().synthesize(request, reporting(progress, "Speaking"))
        return playable(result.files), [str(f.path) for f in result.files], describe(result)


def build(get: EngineGetter, settings: Settings) -> Loader:
    """Lay out the tab (inside a ``gr.Tab``) and wire its events."""
    view, handlers = layout(settings), SpeechHandlers(get)
    pickers = [view.text, view.engine, view.voice, view.language]
    speaking = view.generate.click(handlers.speak, [*pickers, *view.settings], view.result)
    # Stops the work: no chunk after the one being spoken is started, and nothing is saved.
    view.cancel.click(None, cancels=[speaking])
    view.engine.change(
        handlers.pick_engine, view.engine, [view.voice, view.language, view.engine_note, *view.sliders]
    )
    view.voice.change(handlers.pick_voice, view.voice, [view.preview, *view.sliders])
    return handlers.refresh, [view.engine, view.voice, view.language, view.engine_note, *view.sliders]


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
