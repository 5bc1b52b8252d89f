"""The Outputs tab: browse generated files by folder, filter, play, download, inspect, delete."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import gradio as gr

from config import Settings
from core_engine import CoreEngine
from management.catalog import FolderNode
from management.index import Entry, Filters
from ui.common import LISTING_LIMIT, EngineGetter, Loader, player, readable

ALL = "(all)"
TYPES = [ALL, "tts", "vc", "concat"]
COLUMNS = ["File", "Type", "Duration (s)", "Created", "Text"]


def folders(core: CoreEngine) -> list[str]:
    """Every folder of outputs/ that holds files (below it or directly), by path."""
    found: list[str] = []

    def walk(node: FolderNode) -> None:
        if node.path:
            found.append(node.path)
        for child in node.subfolders:
            walk(child)

    for node in core.libraries.outputs.folders():
        walk(node)
    return [ALL, *found]


def rows(entries: list[Entry]) -> list[list[Any]]:
    return [
        [
            e.path,
            e.generation_type or "",
            e.duration if e.duration is not None else "",
            datetime.fromtimestamp(e.created).strftime("%Y-%m-%d %H:%M:%S"),
            (e.text or "")[:80],
        ]
        for e in entries
    ]


def build(get: EngineGetter, settings: Settings) -> Loader:
    """Lay out the tab (inside a ``gr.Tab``) and wire its events."""
    with gr.Row():
        folder = gr.Dropdown([ALL], value=ALL, label="Project folder", scale=2, min_width=160)
        kind = gr.Dropdown(TYPES, value=ALL, label="Type", scale=1, min_width=100)
        search = gr.Textbox(label="Search", placeholder="name or text", scale=2, min_width=160, max_lines=1)
        refresh_button = gr.Button("Refresh", scale=0, min_width=90)
    table = gr.Dataframe(
        headers=COLUMNS,
        value=[],
        interactive=False,
        max_height=360,  # long names and texts scroll sideways inside the table, not the page
        label="Outputs (newest first; click a row)",
        elem_id="outputs-table",
    )
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=280):
            chosen = gr.Dropdown([], label="File", elem_id="outputs-file")
            audio = player(label="Play")
            download = gr.File(label="Download", interactive=False)
            with gr.Row(equal_height=True):
                confirm = gr.Checkbox(False, label="Yes, delete it")
                delete = gr.Button("Delete file", variant="stop")
            message = gr.Markdown(elem_id="outputs-message")
        with gr.Column(scale=1, min_width=280):
            metadata = gr.JSON(
                label="Metadata (parameters, text or recipe)", max_height=560, elem_id="outputs-metadata"
            )

    def listing(core: CoreEngine, where: str, generation_type: str, words: str) -> list[Entry]:
        filters = Filters(
            folder=None if where in (None, ALL) else where,
            generation_type=None if generation_type in (None, ALL) else generation_type,
            search=(words or "").strip() or None,
        )
        page = core.libraries.outputs.page(
            filters, sort="date", descending=True, page=1, page_size=LISTING_LIMIT
        )
        return page.entries

    @readable
    async def refresh(where: str = ALL, generation_type: str = ALL, words: str = "") -> tuple[Any, Any, Any]:
        core = get()
        entries = listing(core, where, generation_type, words)
        names = [e.path for e in entries]
        return (
            gr.update(choices=folders(core)),
            rows(entries),
            gr.update(choices=names, value=names[0] if names else None),
        )

    @readable
    async def show(name: str | None) -> tuple[Any, Any, Any]:
        if not name:
            return None, None, None
        catalog = get().libraries.outputs
        entry = catalog.get(name, param="file")
        path = str(catalog.root / entry.path)
        return path, path, entry.metadata

    def select(data: list[list[Any]] | Any, event: gr.SelectData) -> Any:
        row = event.index[0] if isinstance(event.index, list | tuple) else event.index
        return (
            gr.update(value=event.row_value[0] if event.row_value else None)
            if row is not None
            else gr.update()
        )

    @readable
    async def remove(
        name: str | None, sure: bool, where: str, generation_type: str, words: str
    ) -> tuple[Any, ...]:
        if not name:
            return "Pick a file first.", gr.update(), gr.update(), gr.update(), False
        if not sure:
            return "Tick “Yes, delete it” to delete the file.", gr.update(), gr.update(), gr.update(), False
        catalog = get().libraries.outputs
        report = catalog.delete([catalog.get(name, param="file")], prune=True)
        listed = await refresh(where, generation_type, words)
        return f"Deleted {', '.join(f'`{f}`' for f in report.files)}.", *listed, False

    filters = [folder, kind, search]
    listed = [folder, table, chosen]
    for trigger in (refresh_button.click, folder.change, kind.change, search.submit):
        trigger(refresh, filters, listed)
    table.select(select, table, chosen)
    chosen.change(show, chosen, [audio, download, metadata])
    delete.click(remove, [chosen, confirm, *filters], [message, *listed, confirm])
    return refresh, listed
