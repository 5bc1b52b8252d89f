"""The one gateway for user-named files: names resolve inside a root folder or are refused."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path, PurePosixPath

from exceptions import InvalidRequestError


def resolve_inside(root: Path, name: str, *, param: str) -> Path:
    """Resolve a user-given relative name under ``root``; refuse absolute paths and escapes."""
    if not name or not name.strip():
        raise InvalidRequestError(f"'{param}' must not be empty", param=param)
    relative = PurePosixPath(name.replace("\\", "/"))
    if relative.is_absolute() or ".." in relative.parts or "\x00" in name:
        raise InvalidRequestError(
            f"'{param}' must be a name relative to its folder, without '..': {name!r}", param=param
        )
    base = root.resolve()
    target = (base / relative).resolve()
    if not target.is_relative_to(base):  # a symlink pointing out of the folder
        raise InvalidRequestError(f"'{param}' points outside its folder: {name!r}", param=param)
    return target


def project_folder(root: Path, project: str | None) -> Path:
    """The folder for a project inside ``root`` (created when missing); names escaping ``root`` are refused."""
    folder = resolve_inside(root, project, param="project") if project else root.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see either nothing or the whole file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
