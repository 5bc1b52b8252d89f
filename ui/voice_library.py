"""Plain helpers for the Voices tab: storing an upload, the table rows, the texts about a voice."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from exceptions import ConflictError, InvalidRequestError
from management.catalog import FolderNode
from management.index import Entry, Filters
from management.voices import VoiceLibrary, voice_name
from utils.audio import probe
from utils.files import resolve_inside

ALL = "(all)"
COLUMNS = ["Voice", "Folder", "Tags", "Duration (s)", "Used", "Last used"]
LISTING_LIMIT = 500


def store_upload(
    library: VoiceLibrary,
    source: Path,
    *,
    name: str | None,
    folder: str | None,
    overwrite: bool,
    description: str | None,
    tags: list[str],
    default_parameters: dict[str, Any],
) -> tuple[Entry, dict[str, Any] | None]:
    """Copy an uploaded clip to voices/<folder>/<its file name> (checked: it must be audio) and store it
    through ``VoiceLibrary.publish``, as the API's uploads are: the file keeps its name, ``name`` is the
    display name (``voice`` accepts both)."""
    source = Path(source)
    suffix = source.suffix.lower() or ".wav"
    stem = voice_name(source.stem, param="voice file", strip_extension=False)
    shown = voice_name(name, param="name", strip_extension=False) if name and name.strip() else None
    folder = (folder or "").strip().strip("/")
    base = resolve_inside(library.root, folder, param="folder") if folder else library.root.resolve()
    target = resolve_inside(base, stem + suffix, param="voice file")
    if target.exists() and not overwrite:
        raise ConflictError(
            f"voice {target.name!r} already exists; tick Overwrite to replace it", param="voice file"
        )
    base.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=base, prefix=f".{target.name}.", suffix=".part")
    os.close(fd)
    try:
        shutil.copyfile(source, temp)
        # not audio: a readable 400 naming the upload (never the temporary file), nothing left behind
        probe(Path(temp), param="voice file", label=source.name)
        return library.publish(
            Path(temp),
            target,
            overwrite=overwrite,
            param="voice file",
            description=description,
            tags=tags,
            default_parameters=default_parameters,
            display_name=shown,
        )
    finally:
        Path(temp).unlink(missing_ok=True)


def defaults_of(save: bool, exaggeration: float, cfg_weight: float, temperature: float) -> dict[str, Any]:
    if not save:
        return {}
    values = {"exaggeration": exaggeration, "cfg_weight": cfg_weight, "temperature": temperature}
    for key, value in values.items():
        if value is None:
            raise InvalidRequestError(f"'{key}' needs a value to be saved", param=key)
    return {key: round(float(value), 3) for key, value in values.items()}


def listing(library: VoiceLibrary, folder: str | None, tag: str | None, search: str | None) -> list[Entry]:
    filters = Filters(
        folder=None if folder in (None, ALL) else folder,
        tag=None if tag in (None, ALL) else tag,
        search=(search or "").strip() or None,
    )
    page = library.catalog.page(filters, sort="name", descending=False, page=1, page_size=LISTING_LIMIT)
    return page.entries


def folders(library: VoiceLibrary) -> list[str]:
    """Every folder of voices/ that holds voices (below it or directly), by path."""
    found: list[str] = []

    def walk(node: FolderNode) -> None:
        if node.path:
            found.append(node.path)
        for child in node.subfolders:
            walk(child)

    for node in library.catalog.folders():
        walk(node)
    return [ALL, *found]


def tags(library: VoiceLibrary) -> list[str]:
    found = {t for e in library.catalog.select(Filters()) for t in tags_of(e)}
    return [ALL, *sorted(found, key=str.casefold)]


def tags_of(entry: Entry) -> list[str]:
    value = entry.metadata.get("tags")
    return [t for t in value if isinstance(t, str)] if isinstance(value, list) else []


def defaults_saved(entry: Entry) -> dict[str, Any]:
    value = entry.metadata.get("default_parameters")
    return value if isinstance(value, dict) else {}


def usage(entry: Entry) -> int:
    count = entry.metadata.get("usage_count")
    return count if isinstance(count, int) and not isinstance(count, bool) else 0


def rows(entries: list[Entry]) -> list[list[Any]]:
    return [
        [
            e.path,
            e.folder,
            ", ".join(tags_of(e)),
            e.duration if e.duration is not None else "",
            usage(e),
            _day(e.metadata.get("last_used")),
        ]
        for e in entries
    ]


def describe(entry: Entry) -> str:
    """A short Markdown list of what is known about a voice."""
    meta = entry.metadata
    params = defaults_saved(entry)
    facts = {
        "Description": meta.get("description"),
        "Folder": entry.folder or "(top level)",
        "Tags": ", ".join(tags_of(entry)) or "none",
        "Duration": f"{entry.duration:.2f} s" if entry.duration else None,
        "Used": f"{usage(entry)} time(s)",
        "Last used": meta.get("last_used") or "never",
        "Default parameters": ", ".join(f"{k} {v}" for k, v in params.items()) or "none",
        "Quality warnings": "; ".join(_warnings(meta.get("quality"))),
    }
    return "\n".join(f"- **{k}**: {v}" for k, v in facts.items() if v not in (None, ""))


def quality_report(entry: Entry, quality: dict[str, Any] | None) -> str:
    """The quality report of a fresh upload, as Markdown."""
    if not quality:
        return f"Saved `{entry.path}`."
    clipped = quality.get("clipping_ratio") or 0.0
    facts = {
        "Duration": f"{quality.get('duration_seconds', 0):.2f} s",
        "Loudness": _level(quality.get("loudness_lufs"), "LUFS"),
        "Peak": _level(quality.get("peak_dbfs"), "dBFS"),
        "Clipping": f"{clipped * 100:.2f}% of samples",
        "Noise floor": _level(quality.get("noise_floor_dbfs"), "dBFS"),
    }
    lines = [f"Saved `{entry.path}`.", "", *(f"- **{k}**: {v}" for k, v in facts.items())]
    warnings = _warnings(quality)
    lines += ["", *(f"⚠️ {w}" for w in warnings)] if warnings else ["", "No quality warnings."]
    return "\n".join(lines)


def _level(value: Any, unit: str) -> str:
    return f"{round(value, 1) + 0.0:.1f} {unit}" if isinstance(value, int | float) else "not measurable"


def _warnings(quality: Any) -> list[str]:
    found = quality.get("warnings") if isinstance(quality, dict) else None
    return [str(w) for w in found] if isinstance(found, list) else []


def _day(value: Any) -> str:
    return str(value)[:19].replace("T", " ") if value else ""
