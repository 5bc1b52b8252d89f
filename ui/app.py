"""The Blocks app: one tab per feature, each built by its own module, mounted at ``/ui``."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
from fastapi import FastAPI
from starlette.middleware import Middleware

from config import Settings
from ui import concat, conversion, outputs, speech, status, voices_tab
from ui.common import EngineGetter
from ui.file_guard import FileRouteGuard

PATH = "/ui"
# (label, module): each tab's ``build(get, settings)`` lays it out and returns what to refresh on page load.
TABS = (
    ("Speech", speech),
    ("Voice conversion", conversion),
    ("Concatenate", concat),
    ("Outputs", outputs),
    ("Voices", voices_tab),
    ("Status", status),
)
# System fonts only: the UI must look right without reaching Google Fonts.
THEME = gr.themes.Soft(
    font=["ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "sans-serif"],
    font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"],
)
CSS = """
.gradio-container { width: 100% !important; max-width: 1280px !important; margin: 0 auto !important; }
@media (max-width: 640px) { .gradio-container { padding: 4px !important; } }
/* A failed action is told once, in a message that stays until closed: not as bare "Error" badges
   over every output (and filter) of the action. */
.gradio-container .wrap:has(> .clear-status) { display: none !important; }
#theme-toggle { max-width: 9em; margin-left: auto; align-self: flex-start; flex-grow: 0 !important; }
"""
# Light or dark, as last chosen in this browser (else the system's), switched by the header button.
THEME_JS = """
() => {
  const saved = localStorage.getItem("chatterbox-theme");
  if (saved) document.body.classList.toggle("dark", saved === "dark");
}
"""
TOGGLE_JS = """
() => {
  const dark = document.body.classList.toggle("dark");
  localStorage.setItem("chatterbox-theme", dark ? "dark" : "light");
}
"""


def build_ui(get: EngineGetter, settings: Settings) -> gr.Blocks:
    """The whole UI; ``get`` returns the running CoreEngine (it starts after the UI is built)."""
    # Gradio copies every file it serves into its cache: drop copies older than an hour, hourly.
    with gr.Blocks(
        title="Chatterbox TTS Extended Plus", analytics_enabled=False, delete_cache=(3600, 3600)
    ) as blocks:
        with gr.Row(equal_height=True):
            gr.Markdown(
                "## Chatterbox TTS Extended Plus\n[API docs](/docs) · [Health](/health)", elem_id="title"
            )
            toggle = gr.Button("Light / dark", size="sm", scale=0, elem_id="theme-toggle")
        toggle.click(None, js=TOGGLE_JS)
        with gr.Tabs(overflow_behavior="wrap"):  # every tab in sight on a phone
            for label, module in TABS:
                with gr.Tab(label, id=label.lower().replace(" ", "-")) as tab:
                    handler, shown = module.build(get, settings)
                blocks.load(handler, None, shown)
                if getattr(module, "REFRESH_ON_SELECT", False):  # its handler takes what it shows
                    tab.select(handler, shown, shown)
    return blocks


def mount_ui(app: FastAPI, settings: Settings) -> FastAPI:
    """Serve the UI at ``/ui`` in the same process, calling ``app.state.engine`` directly."""
    paths = settings.paths
    served = [
        str(Path(folder).resolve()) for folder in (paths.outputs_dir, paths.voices_dir, paths.vc_inputs_dir)
    ]
    blocks = build_ui(lambda: app.state.engine, settings)
    mounted = gr.mount_gradio_app(
        app,
        blocks,
        path=PATH,
        allowed_paths=served,
        footer_links=[],
        run_history=False,
        show_error=True,
        max_file_size=int(settings.limits.max_upload_mb * 2**20),
        ssr_mode=False,
        theme=THEME,
        css=CSS,
        js=THEME_JS,
    )
    # Gradio checks that a file argument was uploaded by the client (and not a path on the server)
    # only once the Blocks count as launched, which launch() sets and mount_gradio_app does not.
    blocks.has_launched = True
    # Innermost (appended, not inserted first): keys, Host and cross-site checks answer before it.
    app.user_middleware.append(Middleware(FileRouteGuard, prefix=PATH))
    return mounted
