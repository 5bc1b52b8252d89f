"""The Outputs tab: browse generated files by folder, filter, play, download, inspect, delete."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import gradio as gr

from config import Settings
from core_engine import CoreEngine
from management.catalog import FolderNode
from management.index import Entry, Filters
from ui.common import FORMAT_NAMES, LISTING_LIMIT, EngineGetter, Loader, player, readable

ALL = "(all)"
TYPES = [ALL, "tts", "vc", "concat"]
COLUMNS = ["Text", "Take", "Formats", "Type", "Duration (s)", "Created"]


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


def takes(entries: list[Entry]) -> dict[str, list[Entry]]:
    """The files of each take (one result saved in several formats), by ``folder/stem``, in order."""
    grouped: dict[str, list[Entry]] = {}
    for entry in entries:
        grouped.setdefault(f"{entry.folder}/{entry.stem}".lstrip("/"), []).append(entry)
    order = {name: i for i, name in enumerate(FORMAT_NAMES)}  # wav first: the one clicked rows pick
    return {
        take: sorted(files, key=lambda e: order.get(e.format, len(order))) for take, files in grouped.items()
    }


def rows(entries: list[Entry]) -> list[list[Any]]:
    """One row per take: its text first, its formats in one cell."""
    return [
        [
            (files[0].text or "")[:120],
            take,
            ", ".join(e.format for e in files),
            files[0].generation_type or "",
            files[0].duration if files[0].duration is not None else "",
            datetime.fromtimestamp(files[0].created).strftime("%Y-%m-%d %H:%M:%S"),
        ]
        for take, files in takes(entries).items()
    ]


def metadata_table(metadata: dict[str, Any]) -> str:
    """An output's record as a two-column Markdown table (nested values flattened, long lists counted)."""
    lines = ["| Field | Value |", "|---|---|"]

    def cell(value: Any) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    def add(key: str, value: Any) -> None:
        if isinstance(value, dict):
            for sub, inner in value.items():
                add(f"{key} · {sub}", inner)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            for index, item in enumerate(value[:20]):
                summary = ", ".join(f"{k}: {v}" for k, v in item.items() if v not in (None, "", []))
                lines.append(f"| **{key} {index + 1}** | {cell(summary)} |")
            if len(value) > 20:
                lines.append(f"| **{key}** | … {len(value) - 20} more |")
        elif isinstance(value, list):
            lines.append(f"| **{key}** | {cell(', '.join(map(str, value)) or '–')} |")
        elif value not in (None, ""):
            lines.append(f"| **{key}** | {cell(value)} |")

    for key, value in metadata.items():
        add(key, value)
    return "\n".join(lines) if len(lines) > 2 else "No record of how this file was made."


@dataclass
class OutputsView:
    """The tab's components: the filters, the table, the picked file and its record."""

    filters: list[Any]  # folder, type, search
    refresh: gr.Button
    table: gr.Dataframe
    chosen: gr.Dropdown
    shown: list[Any]  # audio, downloads, metadata
    confirm: gr.Checkbox
    delete: gr.Button
    message: gr.Markdown

    @property
    def listed(self) -> list[Any]:
        """What a listing updates: the folder choices, the table, the file picker."""
        return [self.filters[0], self.table, self.chosen]


def layout() -> OutputsView:
    """Lay out the tab (inside a ``gr.Tab``)."""
    with gr.Row():
        folder = gr.Dropdown([ALL], value=ALL, label="Project folder", scale=2, min_width=160)
        kind = gr.Dropdown(TYPES, value=ALL, label="Type", scale=1, min_width=100)
        search = gr.Textbox(label="Search", placeholder="name or text", scale=2, min_width=160, max_lines=1)
        refresh = gr.Button("Refresh", scale=0, min_width=90)
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
            download = gr.File(label="Download (every format)", file_count="multiple", interactive=False)
            with gr.Row(equal_height=True):
                confirm = gr.Checkbox(False, label="Yes, delete it")
                delete = gr.Button("Delete file", variant="stop")
            message = gr.Markdown(elem_id="outputs-message")
        with gr.Column(scale=1, min_width=280):
            gr.Markdown("**How it was made** (text, engine, parameters or recipe)")
            metadata = gr.Markdown(elem_id="outputs-metadata", max_height=560)
    return OutputsView(
        [folder, kind, search], refresh, table, chosen, [audio, download, metadata], confirm, delete, message
    )


def listing(core: CoreEngine, where: str, generation_type: str, words: str) -> list[Entry]:
    """The outputs the filters select, newest first."""
    filters = Filters(
        folder=None if where in (None, ALL) else where,
        generation_type=None if generation_type in (None, ALL) else generation_type,
        search=(words or "").strip() or None,
    )
    return core.libraries.outputs.page(
        filters, sort="date", descending=True, page=1, page_size=LISTING_LIMIT
    ).entries


def formats_of_take(core: CoreEngine, name: str) -> tuple[str, list[str], dict[str, Any]]:
    """An output's file, every format of its take (one result saved several ways), and its record."""
    catalog = core.libraries.outputs
    entry = catalog.get(name, param="file")
    folder = catalog.root / entry.folder
    formats = [
        str(folder / sibling.name)
        for sibling in catalog.page(
            Filters(folder=entry.folder or None, search=entry.stem),
            sort="name",
            descending=False,
            page=1,
            page_size=50,
        ).entries
        if sibling.folder == entry.folder and sibling.stem == entry.stem
    ] or [str(catalog.root / entry.path)]
    return str(catalog.root / entry.path), formats, entry.metadata


def picked_row(event: gr.SelectData) -> Any:
    """A clicked row picks its take's first format."""
    row = event.row_value if event.row_value else None
    if not row:
        return gr.update()
    take, formats = row[1], str(row[2]).split(", ")
    return gr.update(value=f"{take}.{formats[0]}")


class OutputsHandlers:
    """What the tab's events do, over the running CoreEngine."""

    def __init__(self, get: EngineGetter) -> None:
        self.get = get

    @readable
    async def refresh(self, where: str = ALL, generation_type: str = ALL, words: str = "") -> tuple[Any, ...]:
        core = self.get()
        entries = listing(core, where, generation_type, words)
        names = [e.path for e in entries]
        return (
            gr.update(choices=folders(core)),
            rows(entries),
            gr.update(choices=names, value=names[0] if names else None),
        )

    @readable
    async def show(self, name: str | None) -> tuple[Any, Any, Any]:
        if not name:
            return None, None, None
        path, formats, metadata = formats_of_take(self.get(), name)
        return path, formats, metadata_table(metadata)

    def select(self, data: list[list[Any]] | Any, event: gr.SelectData) -> Any:
        return picked_row(event)

    @readable
    async def remove(
        self, name: str | None, sure: bool, where: str, generation_type: str, words: str
    ) -> tuple[Any, ...]:
        if not name:
            return "Pick a file first.", gr.update(), gr.update(), gr.update(), False
        if not sure:
            return "Tick “Yes, delete it” to delete the file.", gr.update(), gr.update(), gr.update(), False
        catalog = self.get().libraries.outputs
        report = catalog.delete([catalog.get(name, param="file")], prune=True)
        listed = await self.refresh(where, generation_type, words)
        return f"Deleted {', '.join(f'`{f}`' for f in report.files)}.", *listed, False


def build(get: EngineGetter, settings: Settings) -> Loader:
    """Lay out the tab (inside a ``gr.Tab``) and wire its events."""
    view, handlers = layout(), OutputsHandlers(get)
    folder, kind, search = view.filters
    for trigger in (view.refresh.click, folder.change, kind.change, search.submit):
        trigger(handlers.refresh, view.filters, view.listed)
    view.table.select(handlers.select, view.table, view.chosen)
    view.chosen.change(handlers.show, view.chosen, view.shown)
    view.delete.click(
        handlers.remove,
        [view.chosen, view.confirm, *view.filters],
        [view.message, *view.listed, view.confirm],
    )
    return handlers.refresh, view.listed
