"""The Voices tab's emotion profiles: list, create from library voices, delete, and hear one speak."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import gradio as gr

from config import GenerationSettings
from core_engine import SpeechRequest
from management.emotions import PREFIX, EmotionProfile
from ui.common import EngineGetter, playable, player, readable, reporting

COLUMNS = ["Profile", "Character", "Emotion", "Exaggeration", "Samples", "Parameters"]


def rows(profiles: list[EmotionProfile]) -> list[list[Any]]:
    return [
        [
            p.id,
            p.character,
            p.emotion,
            p.exaggeration,
            ", ".join(p.samples),
            ", ".join(f"{k} {v}" for k, v in p.parameters.items()),
        ]
        for p in profiles
    ]


def choices(profiles: list[EmotionProfile]) -> list[tuple[str, str]]:
    """Picker entries: a readable label, the profile id as the value."""
    return [(f"{p.character} · {p.emotion} ({p.id})", p.id) for p in profiles]


@dataclass
class EmotionsView:
    """The panel's components: the table, the picked profile's actions, the new-profile form."""

    table: gr.Dataframe
    profile: gr.Dropdown
    text: gr.Textbox
    test: gr.Button
    audio: gr.Audio
    confirm: gr.Checkbox
    delete: gr.Button
    samples: gr.Dropdown
    form: list[Any]  # character, emotion, samples, exaggeration, cfg, temperature, description
    create: gr.Button
    message: gr.Markdown


def layout(defaults: GenerationSettings) -> EmotionsView:
    """Lay out the panel (inside the Voices tab)."""
    gr.Markdown(
        "A character's voice in one mood: its samples (voices from the library), exaggeration and "
        "parameters. Pick one as `emotion:<id>` wherever a voice is asked for, e.g. in the Speech tab."
    )
    table = gr.Dataframe(
        headers=COLUMNS,
        value=[],
        interactive=False,
        max_height=260,
        label="Profiles",
        elem_id="emotions-table",
    )
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=280):
            profile = gr.Dropdown([], label="Profile", elem_id="emotions-profile")
            text = gr.Textbox(label="Test text", placeholder="optional: a sentence to speak", max_lines=2)
            test = gr.Button("Test the profile", elem_id="emotions-test")
            audio = player(label="Test result", elem_id="emotions-audio")
            with gr.Row(equal_height=True):
                confirm = gr.Checkbox(False, label="Yes, delete the profile", elem_id="emotions-confirm")
                delete = gr.Button("Delete profile", variant="stop", elem_id="emotions-delete")
        with gr.Column(scale=1, min_width=280):
            gr.Markdown("**New profile**")
            with gr.Row():
                character = gr.Textbox(label="Character", max_lines=1, elem_id="emotions-character")
                emotion = gr.Textbox(label="Emotion", max_lines=1, elem_id="emotions-emotion")
            samples = gr.Dropdown(
                [], multiselect=True, label="Samples (library voices)", elem_id="emotions-samples"
            )
            with gr.Row():
                exaggeration = gr.Slider(
                    0, 2, value=defaults.exaggeration, step=0.05, label="Exaggeration", min_width=140
                )
                cfg = gr.Slider(0, 1, value=defaults.cfg_weight, step=0.05, label="CFG weight", min_width=140)
                temperature = gr.Slider(
                    0.05, 5, value=defaults.temperature, step=0.05, label="Temperature", min_width=140
                )
            description = gr.Textbox(label="Description", max_lines=2)
            create = gr.Button("Create profile", variant="primary", elem_id="emotions-create")
    message = gr.Markdown(elem_id="emotions-message")
    form = [character, emotion, samples, exaggeration, cfg, temperature, description]
    return EmotionsView(table, profile, text, test, audio, confirm, delete, samples, form, create, message)


def sample_line(profile: EmotionProfile, words: str | None) -> str:
    """What a profile test says: the given words, else a line naming the character and mood."""
    return (words or "").strip() or f"This is {profile.character}, sounding {profile.emotion}."


class EmotionsHandlers:
    """What the panel's events do, over the running CoreEngine."""

    def __init__(self, get: EngineGetter) -> None:
        self.get = get

    async def listed(self, chosen: str | None = None) -> tuple[Any, Any]:
        profiles = await asyncio.to_thread(self.get().emotions.list)
        ids = [p.id for p in profiles]
        pick = chosen if chosen in ids else (ids[0] if ids else None)
        return rows(profiles), gr.update(choices=choices(profiles), value=pick)

    @readable
    async def refresh(self) -> tuple[Any, Any]:
        return await self.listed()

    @readable
    async def make(
        self, who: str, mood: str, picked: list[str], level: float, cfg_value: float, temp: float, about: str
    ) -> tuple[Any, ...]:
        created = await asyncio.to_thread(
            self.get().emotions.create,
            character=who or "",
            emotion=mood or "",
            exaggeration=float(level),
            samples=list(picked or []),
            parameters={"cfg_weight": float(cfg_value), "temperature": float(temp)},
            description=(about or "").strip() or None,
        )
        return f"Created profile `{created.id}`.", *await self.listed(created.id)

    @readable
    async def remove(self, chosen: str | None, sure: bool) -> tuple[Any, ...]:
        if not chosen:
            return "Pick a profile first.", gr.update(), gr.update(), False
        if not sure:
            return "Tick “Yes, delete the profile” to delete it.", gr.update(), gr.update(), False
        gone = await asyncio.to_thread(self.get().emotions.delete, chosen)
        return f"Deleted profile `{gone.id}` (its samples stay in the library).", *await self.listed(), False

    @readable
    async def speak(
        self,
        chosen: str | None,
        words: str,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 - Gradio injects the tracker
    ) -> tuple[Any, str]:
        if not chosen:
            raise gr.Error("Pick a profile first.", print_exception=False)
        core = self.get()
        found = await asyncio.to_thread(core.emotions.get, chosen)
        request = SpeechRequest(text=sample_line(found, words), voice=f"{PREFIX}{found.id}")
        result = await core.synthesize(request, reporting(progress, "Speaking"))
        return playable(result.files), f"Spoke with `{found.id}`: saved `{result.files[0].relative}`."


def build(get: EngineGetter, defaults: GenerationSettings) -> tuple[gr.Dropdown, Any, list[Any]]:
    """Lay out the panel (its sliders at the configured ``generation`` defaults); returns the samples
    picker (the tab refreshes its voices), a loader and its outputs."""
    view, handlers = layout(defaults), EmotionsHandlers(get)
    view.create.click(handlers.make, view.form, [view.message, view.table, view.profile])
    view.delete.click(
        handlers.remove, [view.profile, view.confirm], [view.message, view.table, view.profile, view.confirm]
    )
    view.test.click(handlers.speak, [view.profile, view.text], [view.audio, view.message])
    return view.samples, handlers.refresh, [view.table, view.profile]
