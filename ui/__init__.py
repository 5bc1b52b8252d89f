"""The browser UI at ``/ui``: Gradio Blocks calling the CoreEngine directly (the UI layer, like ``api/``)."""

from ui.app import build_ui, mount_ui

__all__ = ["build_ui", "mount_ui"]
