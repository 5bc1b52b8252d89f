"""The Voices tab: the voice library (upload with a quality report, filter, play, edit, move, delete)
and its emotion profiles. Handlers call the same ``VoiceLibrary`` methods as the voice routes."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from config import Settings
from management.index import Entry
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

SLIDER_KEYS = ("exaggeration", "cfg_weight", "temperature")


def sliders(settings: Settings, prefix: str) -> tuple[gr.Checkbox, gr.Slider, gr.Slider, gr.Slider]:
    g = settings.generation
    save = gr.Checkbox(False, label="Save default parameters", elem_id=f"{prefix}-save-defaults")
    with gr.Row():
        exaggeration = gr.Slider(0, 2, value=g.exaggeration, step=0.05, label="Exaggeration", min_width=140)
        cfg = gr.Slider(0, 1, value=g.cfg_weight, step=0.05, label="CFG weight", min_width=140)
        temperature = gr.Slider(0.05, 5, value=g.temperature, step=0.05, label="Temperature", min_width=140)
    return save, exaggeration, cfg, temperature


@dataclass
class VoicesView:
    """The tab's components: the upload form, the filters and table, the picked voice's editor."""

    upload_form: list[Any]  # clip, name, folder, description, tags, overwrite, save defaults, 3 sliders
    add: gr.Button
    quality: gr.Markdown
    filters: list[Any]  # folder, tag, search
    refresh: gr.Button
    table: gr.Dataframe
    voice: gr.Dropdown
    shown: list[Any]  # preview, info, then the edit form: name, folder, description, tags, defaults
    save: gr.Button
    confirm: gr.Checkbox
    delete: gr.Button
    message: gr.Markdown

    @property
    def edit_form(self) -> list[Any]:
        return self.shown[2:]


def _add_panel(settings: Settings) -> tuple[list[Any], gr.Button, gr.Markdown]:
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
                name = gr.Textbox(
                    label="Display name", placeholder="optional; the file keeps its name", max_lines=1
                )
                folder = gr.Textbox(label="Folder", placeholder="optional, e.g. narrators", max_lines=1)
            description = gr.Textbox(label="Description", max_lines=2)
            tag_text = gr.Textbox(label="Tags", placeholder="comma-separated: calm, male", max_lines=1)
            defaults = sliders(settings, "voices-new")
            with gr.Row(equal_height=True):
                overwrite = gr.Checkbox(False, label="Overwrite a voice of the same name")
                add = gr.Button("Upload voice", variant="primary", elem_id="voices-upload-button")
    return [upload, name, folder, description, tag_text, overwrite, *defaults], add, quality


def _edit_panel(settings: Settings) -> tuple[list[Any], gr.Button, gr.Checkbox, gr.Button, gr.Markdown]:
    gr.Markdown("**Edit the voice** (a new name or folder renames or moves it)")
    with gr.Row():
        name = gr.Textbox(label="Name", max_lines=1, elem_id="voices-edit-name")
        moved = gr.Textbox(
            label="Folder", max_lines=1, placeholder="(top level)", elem_id="voices-edit-folder"
        )
    description = gr.Textbox(label="Description", max_lines=2, elem_id="voices-edit-description")
    edit_tags = gr.Textbox(label="Tags", max_lines=1, elem_id="voices-edit-tags")
    defaults = sliders(settings, "voices-edit")
    save = gr.Button("Save changes", variant="primary", elem_id="voices-save")
    with gr.Row(equal_height=True):
        confirm = gr.Checkbox(False, label="Yes, delete it", elem_id="voices-confirm")
        delete = gr.Button("Delete voice", variant="stop", elem_id="voices-delete")
    message = gr.Markdown(elem_id="voices-message")
    return [name, moved, description, edit_tags, *defaults], save, confirm, delete, message


def layout(settings: Settings) -> VoicesView:
    """Lay out the voice library part of the tab (inside a ``gr.Tab``)."""
    gr.Markdown("Reference clips that cloning engines (Chatterbox) speak with, and emotion profiles.")
    upload_form, add, quality = _add_panel(settings)
    with gr.Row():
        folder = gr.Dropdown(
            [ALL], value=ALL, label="Folder", scale=2, min_width=140, elem_id="voices-folder"
        )
        tag = gr.Dropdown([ALL], value=ALL, label="Tag", scale=1, min_width=140, elem_id="voices-tag")
        search = gr.Textbox(label="Search", placeholder="name, description, tags", scale=2, min_width=150)
        refresh = gr.Button("Refresh", scale=0, min_width=90)
    table = gr.Dataframe(
        headers=COLUMNS, value=[], interactive=False, max_height=320, label="Voices (click a row)",
        elem_id="voices-table",
    )  # fmt: skip
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=280):
            voice = gr.Dropdown([], label="Voice", elem_id="voices-voice")
            preview = player(label="Listen")
            info = gr.Markdown(elem_id="voices-info")
        with gr.Column(scale=1, min_width=280):
            edit_form, save, confirm, delete, message = _edit_panel(settings)
    return VoicesView(
        upload_form, add, quality, [folder, tag, search], refresh, table, voice, [preview, info, *edit_form],
        save, confirm, delete, message,
    )  # fmt: skip


def voice_fields(library: VoiceLibrary, path: str) -> tuple[Any, ...]:
    """A voice's file, its description for the page, and its edit form's values (sliders: saved or kept)."""
    entry = library.catalog.get(path, param="voice")
    saved = defaults_saved(entry)
    sliders_now = [gr.update(value=saved[k]) if k in saved else gr.update() for k in SLIDER_KEYS]
    return (
        str(library.root / entry.path),
        describe(entry),
        entry.stem,
        entry.folder,
        entry.metadata.get("description") or "",
        ", ".join(tags_of(entry)),
        bool(saved),
        *sliders_now,
    )


def voice_edit(
    entry: Entry, new: str, where: str, text: str, tag_text: str, defaults: dict[str, Any] | None
) -> VoiceEdit:
    """The change the edit form asks for: a name or folder only when it differs (a rename or a move)."""
    new, where = (new or "").strip(), (where or "").strip().strip("/")
    return VoiceEdit(
        name=new if new and new != entry.stem else None,
        folder=where if where != entry.folder else None,
        description=(text or "").strip() or None,
        tags=parse_tags(tag_text),
        default_parameters=defaults,
    )


class VoicesHandlers:
    """What the tab's events do, over the running CoreEngine's voice library."""

    def __init__(self, get: EngineGetter) -> None:
        self.get = get

    def library(self) -> VoiceLibrary:
        return self.get().voices

    async def listed(self, where: str, which: str, words: str, chosen: str | None = None) -> tuple[Any, ...]:
        """Folder and tag choices, the table, the voice picker, and every voice for the profile samples."""
        lib = self.library()
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

    @readable
    async def refresh(
        self, where: str = ALL, which: str = ALL, words: str = "", chosen: str | None = None
    ) -> Any:
        return await self.listed(where, which, words, chosen)

    @readable
    async def show(self, path: str | None) -> tuple[Any, ...]:
        if not path:
            return None, "", "", "", "", "", False, gr.update(), gr.update(), gr.update()
        return voice_fields(self.library(), path)

    @readable
    async def add_voice(
        self, clip: str | None, as_name: str, into: str, text: str, tag_text: str, replace: bool,
        keep: bool, exaggeration: float, cfg: float, temperature: float,
    ) -> tuple[Any, ...]:  # fmt: skip
        if not clip:
            raise gr.Error("Choose a voice clip to upload first.", print_exception=False)
        entry, report = await asyncio.to_thread(
            store_upload,
            self.library(),
            Path(clip),
            name=as_name,
            folder=into,
            overwrite=replace,
            description=(text or "").strip() or None,
            tags=parse_tags(tag_text),
            default_parameters=defaults_of(keep, exaggeration, cfg, temperature),
        )
        return quality_report(entry, report), None, *await self.listed(ALL, ALL, "", entry.path)

    @readable
    async def save_voice(
        self, path: str | None, new: str, where: str, text: str, tag_text: str, keep: bool,
        exaggeration: float, cfg: float, temperature: float, *current: Any,
    ) -> tuple[Any, ...]:  # fmt: skip
        if not path:
            raise gr.Error("Pick a voice first.", print_exception=False)
        lib = self.library()
        entry = lib.catalog.get(path, param="voice")
        defaults = defaults_of(keep, exaggeration, cfg, temperature)
        updated = await asyncio.to_thread(
            lib.update, entry, voice_edit(entry, new, where, text, tag_text, defaults)
        )
        return f"Saved `{updated.path}`.", describe(updated), *await self.listed(*current, updated.path)

    @readable
    async def remove(self, path: str | None, sure: bool, *current: Any) -> tuple[Any, ...]:
        unchanged = [gr.update()] * 5  # what ``listed`` updates
        if not path:
            return "Pick a voice first.", *unchanged, False
        if not sure:
            return "Tick “Yes, delete it” to delete the voice.", *unchanged, False
        catalog = self.library().catalog
        report = await asyncio.to_thread(catalog.delete, [catalog.get(path, param="voice")], prune=False)
        return f"Deleted {', '.join(f'`{f}`' for f in report.files)}.", *await self.listed(*current), False

    def select(self, data: Any, event: gr.SelectData) -> Any:
        return gr.update(value=event.row_value[0]) if event.row_value else gr.update()


def build(get: EngineGetter, settings: Settings) -> Loader:
    """Lay out the tab (inside a ``gr.Tab``) and wire its events."""
    view, handlers = layout(settings), VoicesHandlers(get)
    with gr.Accordion("Emotion profiles", open=False, elem_id="emotions"):
        samples, refresh_profiles, profile_outputs = emotions_panel.build(get, settings.generation)
    listed = [*view.filters[:2], view.table, view.voice, samples]
    for trigger in (view.refresh.click, *(f.change for f in view.filters[:2]), view.filters[2].submit):
        trigger(handlers.refresh, view.filters, listed)
    view.table.select(handlers.select, view.table, view.voice)
    view.voice.change(handlers.show, view.voice, view.shown)
    view.add.click(handlers.add_voice, view.upload_form, [view.quality, view.upload_form[0], *listed])
    view.save.click(
        handlers.save_voice,
        [view.voice, *view.edit_form, *view.filters],
        [view.message, view.shown[1], *listed],
    )
    view.delete.click(
        handlers.remove, [view.voice, view.confirm, *view.filters], [view.message, *listed, view.confirm]
    )

    async def load() -> Any:
        return (*await handlers.refresh(), *await refresh_profiles())

    return load, [*listed, *profile_outputs]
