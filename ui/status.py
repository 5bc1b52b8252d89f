"""The Status tab: engines and their state, device and memory, load and unload."""

from __future__ import annotations

import time
from typing import Any

import gradio as gr

from config import Settings
from core_engine import CoreEngine
from monitoring.system import system_snapshot
from ui.common import EngineGetter, Loader, readable
from version import __version__

COLUMNS = ["Engine", "Kind", "State", "Device", "Notes"]


def overview(core: CoreEngine) -> str:
    """Which engine serves, why not the default, and the machine's load, as Markdown."""
    serving, reason = core.serving()
    system = system_snapshot(core.settings.paths.outputs_dir)
    lines = [
        f"**Serving engine:** {serving or 'none'} (default: {core.settings.engines.default})",
        f"**Queue:** {core.queue_depth} model call(s) waiting or running",
        f"**Memory:** {system['memory']['rss_mb']} MB used by the server · "
        f"**Disk free:** {system['disk']['free_gb']} GB · "
        f"**Uptime:** {round(time.time() - core.started_at)} s · **Version:** {__version__}",
    ]
    if reason:
        lines.insert(1, f"**Not the default because:** {reason}")
    return "\n\n".join(lines)


def engine_rows(core: CoreEngine) -> list[list[Any]]:
    rows = []
    for info in core.engines_info():
        notes = info.get("error") or ", ".join(
            f"{key}: {value}"
            for key, value in info.items()
            if key in ("sample_rate", "default_voice", "languages", "watermark") and value
        )
        rows.append([info["name"], info["kind"], info["state"], info.get("device") or "", notes])
    return rows


def build(get: EngineGetter, settings: Settings) -> Loader:
    """Lay out the tab (inside a ``gr.Tab``) and wire its events."""
    summary = gr.Markdown(elem_id="status-summary")
    table = gr.Dataframe(
        headers=COLUMNS, value=[], interactive=False, wrap=True, label="Engines", elem_id="status-engines"
    )
    engine = gr.Radio([], label="Engine", elem_id="status-engine")
    with gr.Row():
        load = gr.Button("Load", variant="primary", size="md", min_width=80)
        unload = gr.Button("Unload", size="md", min_width=80)
        refresh_button = gr.Button("Refresh", size="md", min_width=80)
    message = gr.Markdown()

    @readable
    async def refresh() -> tuple[Any, ...]:
        core = get()
        names = [info["name"] for info in core.engines_info()]
        return overview(core), engine_rows(core), gr.update(choices=names)

    @readable
    async def act(name: str | None, loading: bool) -> tuple[Any, ...]:
        if not name:
            raise gr.Error("Pick an engine first.", print_exception=False)
        core = get()
        info = await (core.load(name) if loading else core.unload(name))
        return f"{name}: {info['state']}", *(await refresh())

    async def load_engine(name: str | None) -> tuple[Any, ...]:
        return await act(name, True)

    async def unload_engine(name: str | None) -> tuple[Any, ...]:
        return await act(name, False)

    shown = [summary, table, engine]
    refresh_button.click(refresh, None, shown)
    load.click(load_engine, engine, [message, *shown])
    unload.click(unload_engine, engine, [message, *shown])
    return refresh, shown
