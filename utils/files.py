"""The one gateway for user-named files: names resolve inside a root folder or are refused."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

from exceptions import InvalidRequestError

# Names Windows reserves in every folder (with any extension); refused everywhere so that a
# folder copied to or shared with Windows keeps working.
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[1-9¹²³]|lpt[1-9¹²³]) *(\..*)?$", re.IGNORECASE)
_DRIVE = re.compile(r"^[a-zA-Z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# What every common filesystem allows in one name, and a depth no real library needs (the path as a
# whole must stay under the kernel's 4,096 bytes).
MAX_NAME_BYTES = 255
MAX_DEPTH = 32


def resolve_inside(root: Path, name: str, *, param: str, hidden: bool = False) -> Path:
    """Resolve a user-given relative name under ``root``; refuse anything that could escape it.

    Refused: empty names, absolute paths, ``..``, drive letters (``C:``), NUL and control
    characters, Windows reserved names (``CON``, ``nul.txt``...), hidden names (``.index.sqlite3``,
    ``.emotions/``; unless ``hidden``), a name over 255 bytes or more than 32 folders deep, the same
    behind percent-encoding (``%2e%2e/``, ``%252e``), and symlinks that lead outside ``root``.
    """
    relative = safe_relative(name, param=param, hidden=hidden)
    base = root.resolve()
    target = (base / relative).resolve()
    if not target.is_relative_to(base):  # a symlink pointing out of the folder
        raise InvalidRequestError(f"'{param}' points outside its folder: {name!r}", param=param)
    return target


def safe_relative(name: str, *, param: str, hidden: bool = False) -> str:
    """Check a user-given relative name without touching the disk; return it as ``a/b`` (see above)."""
    if not name or not name.strip():
        raise InvalidRequestError(f"'{param}' must not be empty", param=param)
    decoded, forms = name, [name]
    for _ in range(3):  # double- and triple-encoded names are decoded too
        decoded = unquote(decoded)
        forms.append(decoded)
    for form in forms:
        _refuse_unsafe(form, name, param, hidden)
    return PurePosixPath(name.replace("\\", "/")).as_posix()


def _refuse_unsafe(form: str, name: str, param: str, hidden: bool) -> None:
    relative = PurePosixPath(form.replace("\\", "/"))
    if relative.is_absolute() or ".." in relative.parts or _DRIVE.match(form) or _CONTROL.search(form):
        raise InvalidRequestError(
            f"'{param}' must be a name relative to its folder, without '..': {name!r}", param=param
        )
    if any(_RESERVED.match(part.rstrip(" .")) for part in relative.parts):
        raise InvalidRequestError(f"'{param}' uses a reserved device name: {name!r}", param=param)
    if not hidden and any(part.startswith(".") for part in relative.parts):
        raise InvalidRequestError(f"'{param}' must not name a hidden file or folder: {name!r}", param=param)
    if any(len(part.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES for part in relative.parts):
        raise InvalidRequestError(f"'{param}' has a name longer than {MAX_NAME_BYTES} bytes", param=param)
    if len(relative.parts) > MAX_DEPTH:
        raise InvalidRequestError(f"'{param}' is more than {MAX_DEPTH} folders deep", param=param)


def project_folder(root: Path, project: str | None) -> Path:
    """The folder for a project inside ``root`` (created when missing); names escaping ``root`` are refused."""
    folder = resolve_inside(root, project, param="project") if project else root.resolve()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise InvalidRequestError(
            f"'project' {project!r} names a file, not a folder", param="project", code="invalid_value"
        ) from None
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
