"""Finding user-named audio files in a folder (voices/, vc_inputs/), the way Plus scripts name them."""

from __future__ import annotations

from pathlib import Path

from exceptions import NotFoundError
from utils.files import resolve_inside

AUDIO_EXTENSIONS = (".wav", ".mp3", ".flac", ".ogg", ".m4a")


class AudioLibrary:
    """A folder of audio files addressed by relative name."""

    def __init__(self, root: Path, *, label: str) -> None:
        self.root = root
        self._label = label

    def resolve(self, name: str, *, param: str) -> Path:
        """Exact path, then with an audio extension, then the same in first-level subfolders."""
        exact = resolve_inside(self.root, name, param=param)
        candidates = [exact, *(exact.with_name(exact.name + ext) for ext in AUDIO_EXTENSIONS)]
        if self.root.is_dir() and len(Path(name).parts) == 1:
            for sub in sorted(p for p in self.root.iterdir() if p.is_dir()):
                candidates.append(sub / name)
                candidates.extend(sub / (name + ext) for ext in AUDIO_EXTENSIONS)
        for path in candidates:
            if path.is_file():
                return path
        raise NotFoundError(f"{self._label} {name!r} not found in {self.root}/", param=param)
