"""The Voices tab: the voice library (upload with a quality report, filter, play, edit, move, delete)
and its emotion profiles. Handlers call the same ``VoiceLibrary`` methods as the voice routes."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import gradio as gr

from config import Settings
from management.voices import VoiceEdit, VoiceLibrary, parse_tags
from ui import emotions_panel
from ui.common import EngineGetter, Loader, player, readable
from ui.voice_library import (
    ALL,
    COLUMNS,
    defaults_of,
    defaults_saved,
    describe,
    folders,
    listing,
    quality_report,
    rows,
    store_upload,
    tags,
    tags_of,
)


def sliders(settings: Settings, prefix: str) -> tuple[gr.Checkbox, gr.Slider, gr.Slider, gr.Slider]:
    g = settings.generation
    save = gr.Checkbox(False, label="Save default parameters", elem_id=f"{prefix}-save-defaults")
    with gr.Row():
        exaggeration = gr.Slider(0, 2, value=g.exaggeration, step=0.05, label="Exaggeration", min_width=140)
        cfg = gr.Slider(0, 1, value=g.cfg_weight, step=0.05, label="CFG weight", min_width=140)
        temperature = gr.Slider(0.05, 5, value=g.temperature, step=0.05, label="Temperature", min_width=140)
    return save, exaggeration, cfg, temperature


def build(get: EngineGetter, settings: Settings) -> Loader:
    """Lay out the tab (inside a ``gr.Tab``) and wire its events."""
    gr.Markdown("Reference clips that cloning engines (Chatterbox) speak with, and emotion profiles.")

    def library() -> VoiceLibrary:
        return get().voices

    with gr.Accordion("Add a voice", open=False, elem_id="voices-add"), gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=280):
            upload = gr.File(
                label="Voice clip (5-10 s of clear speech)",
                type="filepath",
                file_types=["audio"],
                elem_id="voices-upload",
            )
            quality = gr.Markdown(elem_id="voices-quality")
        with gr.Column(scale=2, min_width=280):
            with gr.Row():
                new_name = gr.Textbox(
                    label="Display name", placeholder="optional; the file keeps its name", max_lines=1
                )
                new_folder = gr.Textbox(label="Folder", placeholder="optional, e.g. narrators", max_lines=1)
            new_description = gr.Textbox(label="Description", max_lines=2)
            new_tags = gr.Textbox(label="Tags", placeholder="comma-separated: calm, male", max_lines=1)
            new_defaults = sliders(settings, "voices-new")
            with gr.Row(equal_height=True):
                overwrite = gr.Checkbox(False, label="Overwrite a voice of the same name")
                add = gr.Button("Upload voice", variant="primary", elem_id="voices-upload-button")

    with gr.Row():
        folder = gr.Dropdown(
            [ALL], value=ALL, label="Folder", scale=2, min_width=140, elem_id="voices-folder"
        )
        tag = gr.Dropdown([ALL], value=ALL, label="Tag", scale=1, min_width=140, elem_id="voices-tag")
        search = gr.Textbox(label="Search", placeholder="name, description, tags", scale=2, min_width=150)
        refresh_button = gr.Button("Refresh", scale=0, min_width=90)
    table = gr.Dataframe(
        headers=COLUMNS,
        value=[],
        interactive=False,
        max_height=320,
        label="Voices (click a row)",
        elem_id="voices-table",
    )
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=280):
            voice = gr.Dropdown([], label="Voice", elem_id="voices-voice")
            preview = player(label="Listen")
            info = gr.Markdown(elem_id="voices-info")
        with gr.Column(scale=1, min_width=280):
            gr.Markdown("**Edit the voice** (a new name or folder renames or moves it)")
            with gr.Row():
                name = gr.Textbox(label="Name", max_lines=1, elem_id="voices-edit-name")
                moved = gr.Textbox(
                    label="Folder", max_lines=1, placeholder="(top level)", elem_id="voices-edit-folder"
                )
            description = gr.Textbox(label="Description", max_lines=2, elem_id="voices-edit-description")
            edit_tags = gr.Textbox(label="Tags", max_lines=1, elem_id="voices-edit-tags")
            edit_defaults = sliders(settings, "voices-edit")
            save = gr.Button("Save changes", variant="primary", elem_id="voices-save")
            with gr.Row(equal_height=True):
                confirm = gr.Checkbox(False, label="Yes, delete it", elem_id="voices-confirm")
                delete = gr.Button("Delete voice", variant="stop", elem_id="voices-delete")
            message = gr.Markdown(elem_id="voices-message")

    with gr.Accordion("Emotion profiles", open=False, elem_id="emotions"):
        samples, refresh_profiles, profile_outputs = emotions_panel.build(get)

    filters = [folder, tag, search]

    async def listed(where: str, which: str, words: str, chosen: str | None = None) -> tuple[Any, ...]:
        lib = library()
        entries = await asyncio.to_thread(listing, lib, where, which, words)
        names = [e.path for e in entries]
        everything = [e.path for e in await asyncio.to_thread(listing, lib, ALL, ALL, "")]
        pick = chosen if chosen in names else (names[0] if names else None)
        return (
            gr.update(choices=folders(lib)),
            gr.update(choices=tags(lib)),
            rows(entries),
            gr.update(choices=names, value=pick),
            gr.update(choices=everything),
        )

    shown = [folder, tag, table, voice, samples]

    @readable
    async def refresh(where: str = ALL, which: str = ALL, words: str = "", chosen: str | None = None) -> Any:
        return await listed(where, which, words, chosen)

    @readable
    async def show(path: str | None) -> tuple[Any, ...]:
        if not path:
            return None, "", "", "", "", "", False, gr.update(), gr.update(), gr.update()
        lib = library()
        entry = lib.catalog.get(path, param="voice")
        saved = defaults_saved(entry)
        sliders_now = [
            gr.update(value=saved[k]) if k in saved else gr.update()
            for k in ("exaggeration", "cfg_weight", "temperature")
        ]
        return (
            str(lib.root / entry.path),
            describe(entry),
            entry.stem,
            entry.folder,
            entry.metadata.get("description") or "",
            ", ".join(tags_of(entry)),
            bool(saved),
            *sliders_now,
        )

    @readable
    async def add_voice(
        clip: str | None,
        as_name: str,
        into: str,
        text: str,
        tag_text: str,
        replace: bool,
        keep: bool,
        exaggeration: float,
        cfg: float,
        temperature: float,
    ) -> tuple[Any, ...]:
        if not clip:
            raise gr.Error("Choose a voice clip to upload first.", print_exception=False)
        entry, report = await asyncio.to_thread(
            store_upload,
            library(),
            Path(clip),
            name=as_name,
            folder=into,
            overwrite=replace,
            description=text.strip() or None,
            tags=parse_tags(tag_text),
            default_parameters=defaults_of(keep, exaggeration, cfg, temperature),
        )
        return quality_report(entry, report), None, *await listed(ALL, ALL, "", entry.path)

    @readable
    async def save_voice(
        path: str | None,
        new: str,
        where: str,
        text: str,
        tag_text: str,
        keep: bool,
        exaggeration: float,
        cfg: float,
        temperature: float,
        *current: Any,
    ) -> tuple[Any, ...]:
        if not path:
            raise gr.Error("Pick a voice first.", print_exception=False)
        lib = library()
        entry = lib.catalog.get(path, param="voice")
        edit = VoiceEdit(
            name=new.strip() if new.strip() and new.strip() != entry.stem else None,
            folder=where.strip().strip("/") if where.strip().strip("/") != entry.folder else None,
            description=text.strip() or None,
            tags=parse_tags(tag_text),
            default_parameters=defaults_of(keep, exaggeration, cfg, temperature),
        )
        updated = await asyncio.to_thread(lib.update, entry, edit)
        return f"Saved `{updated.path}`.", describe(updated), *await listed(*current, updated.path)

    @readable
    async def remove(path: str | None, sure: bool, *current: Any) -> tuple[Any, ...]:
        if not path:
            return "Pick a voice first.", *[gr.update()] * len(shown), False
        if not sure:
            return "Tick “Yes, delete it” to delete the voice.", *[gr.update()] * len(shown), False
        catalog = library().catalog
        report = await asyncio.to_thread(catalog.delete, [catalog.get(path, param="voice")], prune=False)
        return f"Deleted {', '.join(f'`{f}`' for f in report.files)}.", *await listed(*current), False

    def select(data: Any, event: gr.SelectData) -> Any:
        return gr.update(value=event.row_value[0]) if event.row_value else gr.update()

    for trigger in (refresh_button.click, folder.change, tag.change, search.submit):
        trigger(refresh, filters, shown)
    table.select(select, table, voice)
    voice.change(show, voice, [preview, info, name, moved, description, edit_tags, *edit_defaults])
    add.click(
        add_voice,
        [upload, new_name, new_folder, new_description, new_tags, overwrite, *new_defaults],
        [quality, upload, *shown],
    )
    save.click(
        save_voice,
        [voice, name, moved, description, edit_tags, *edit_defaults, *filters],
        [message, info, *shown],
    )
    delete.click(remove, [voice, confirm, *filters], [message, *shown, confirm])

    async def load() -> Any:
        return (*await refresh(), *await refresh_profiles())

    return load, [*shown, *profile_outputs]
