"""The Voices tab: the reference clips in voices/ (read-only; the voice library API manages them)."""

from __future__ import annotations

from typing import Any

import gradio as gr

from config import Settings
from ui.common import EngineGetter, Loader, library_files, player, readable


def build(get: EngineGetter, settings: Settings) -> Loader:
    """Lay out the tab (inside a ``gr.Tab``) and wire its events."""
    gr.Markdown(
        "Reference clips that engines which clone voices (Chatterbox) speak with. "
        "Add a clip by placing it in the `voices/` folder, then press Refresh."
    )
    with gr.Row(equal_height=True):
        voice = gr.Dropdown([], label="Voice", scale=3, elem_id="voices-voice")
        refresh_button = gr.Button("Refresh", scale=0, min_width=90)
    preview = player(label="Listen")

    @readable
    async def refresh() -> Any:
        names = library_files(get().settings.paths.voices_dir)
        return gr.update(choices=names, value=names[0] if names else None)

    @readable
    async def listen(name: str | None) -> str | None:
        return str(get().voices.resolve(name, param="voice")) if name else None

    refresh_button.click(refresh, None, voice)
    voice.change(listen, voice, preview)
    return refresh, [voice]
