"""Finding user-named audio files in a folder (voices/, vc_inputs/), the way Plus scripts name them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from exceptions import ConflictError, NotFoundError
from utils.files import resolve_inside

AUDIO_EXTENSIONS = (".wav", ".mp3", ".flac", ".ogg", ".m4a")


class AudioLibrary:
    """A folder of audio files addressed by relative name."""

    def __init__(self, root: Path, *, label: str) -> None:
        self.root = root
        self._label = label
        # Files whose display name (a voice's sidecar ``name``) is the given one; set by the owner.
        self.named: Callable[[str], list[Path]] | None = None

    def resolve(self, name: str, *, param: str) -> Path:
        """Exact path, then with an audio extension, then the same in first-level subfolders, then by
        display name. A bare name held by several folders (or voices) is a 409 listing them."""
        exact = resolve_inside(self.root, name, param=param)
        for path in (exact, *(exact.with_name(exact.name + ext) for ext in AUDIO_EXTENSIONS)):
            if path.is_file():
                return path
        found: list[Path] = []
        if self.root.is_dir() and len(Path(name).parts) == 1:
            for sub in sorted(p for p in self.root.iterdir() if p.is_dir()):
                hit = next(
                    (c for c in (sub / name, *(sub / (name + e) for e in AUDIO_EXTENSIONS)) if c.is_file()),
                    None,
                )
                found += [hit] if hit is not None else []
        if not found and self.named is not None:
            found = self.named(name)
        if len(found) > 1:
            paths = ", ".join(path.relative_to(self.root).as_posix() for path in found)
            raise ConflictError(
                f"{self._label} {name!r} matches several files; give its path: {paths}",
                param=param,
                code="ambiguous_name",
            )
        if found:
            return found[0]
        raise NotFoundError(f"{self._label} {name!r} not found in {self.root}/", param=param)
