"""The indexed libraries (outputs/, vc_inputs/, voices/) and the one metadata index they share."""

from __future__ import annotations

import logging
import threading

from config import IndexSettings, PathSettings
from management.catalog import Catalog
from management.index import open_index
from management.voices import VoiceLibrary, search_text

logger = logging.getLogger(__name__)


class Libraries:
    """Opens the index, reconciles every library with its folder in the background at start."""

    def __init__(self, paths: PathSettings, index: IndexSettings | None = None) -> None:
        self.index = open_index(index.url if index else None, paths.index_path)
        self.outputs = Catalog(self.index, "outputs", paths.outputs_dir, typed=True, label="output")
        self.vc_inputs = Catalog(self.index, "vc_inputs", paths.vc_inputs_dir, label="vc input")
        self.voices = Catalog(self.index, "voices", paths.voices_dir, search_text=search_text, label="voice")
        self.voice_library = VoiceLibrary(self.voices)  # the voices/ store (its rows: ``voices``)
        self._thread: threading.Thread | None = None

    @property
    def all(self) -> tuple[Catalog, ...]:
        return (self.outputs, self.vc_inputs, self.voices)

    def start(self) -> None:
        """Begin reconciling; until a library is done, reads of it wait (the server answers meanwhile)."""
        for catalog in self.all:
            catalog.begin_scan()
        self._thread = threading.Thread(target=self._scan_all, name="index-scan", daemon=True)
        self._thread.start()

    def _scan_all(self) -> None:
        for catalog in self.all:
            try:
                catalog.scan()
            except Exception:
                logger.exception("%s: reconciling the index failed; listings may be stale", catalog.library)

    def stop(self) -> None:
        """Wait for a running scan, then close the index."""
        if self._thread is not None:
            self._thread.join()
        self.index.close()
