"""What the outputs and vc_inputs routes share: query parameters, item shapes, deletes, folder trees."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import Query

from api.compat.sorting import page_size as plus_page_size
from api.compat.sorting import sort_key
from api_models import DeleteResponse, FolderInfo, FolderTreeResponse, LibraryFileInfo, OutputInfo
from exceptions import InvalidRequestError, NotFoundError
from management.catalog import Catalog, FolderNode
from management.index import Entry, Filters, Page
from utils.files import safe_relative

_MAX_NAMES = 1000
GenerationType = Literal["tts", "vc", "concat", "unknown"]
Order = Literal["asc", "desc"]


@dataclass(frozen=True)
class Paging:
    page: int
    page_size: int
    sort_by: str
    descending: bool


def check_alias(name: str, value: str | None, alias: str, other: str | None, *, ignore: str = "") -> None:
    """A field sent under its name and its alias must say the same (``ignore``: characters stripped first)."""
    if value and other and value.strip(ignore) != other.strip(ignore):
        raise InvalidRequestError(f"'{alias}' is an alias of '{name}' and they disagree", param=alias)


# The page parameters every listing takes (outputs, vc_inputs, voices).
PageQuery = Annotated[int, Query(ge=1, le=1_000_000, description="Page number, from 1.")]
PageSizeQuery = Annotated[int | None, Query(ge=1, le=100, description="Items per page, 1-100 (default 50).")]
LimitQuery = Annotated[int | None, Query(ge=1, le=100, description="Alias of `page_size` (Plus).")]


def paging(
    page: PageQuery = 1,
    page_size: PageSizeQuery = None,
    limit: LimitQuery = None,
    sort_by: Annotated[
        str,
        Query(
            description="Sort key: name, date, size, duration, generation_type "
            "(Plus's filename, created_date, file_size also work)."
        ),
    ] = "date",
    order: Annotated[Order | None, Query(description="`desc` (default) or `asc`.")] = None,
    sort_order: Annotated[Order | None, Query(description="Alias of `order`.")] = None,
) -> Paging:
    check_alias("order", order, "sort_order", sort_order)
    key = sort_key(sort_by, ("name", "date", "size", "duration", "generation_type"))
    return Paging(page, plus_page_size(page_size, limit), key, (order or sort_order or "desc") == "desc")


def filters(
    folder: Annotated[
        str | None, Query(description="Only this folder and the folders inside it. Alias: `project`.")
    ] = None,
    project: Annotated[str | None, Query(description="Alias of `folder`.")] = None,
    search: Annotated[
        str | None, Query(max_length=200, description="Case-insensitive text in the name, folder or text.")
    ] = None,
    filenames: Annotated[
        str | None, Query(description="Comma-separated file names or paths (`a.wav,book/b.wav`).")
    ] = None,
    date_from: Annotated[
        str | None, Query(description="Made on or after: `2026-11-22` or `2026-11-22T06:15:00` (local time).")
    ] = None,
    date_to: Annotated[
        str | None, Query(description="Made on or before (a date includes the whole day).")
    ] = None,
) -> Filters:
    """The filters common to listings and bulk deletes; paths are checked by the file gateway."""
    check_alias("folder", folder, "project", project, ignore="/")
    chosen, param = (folder, "folder") if folder else (project, "project")
    where = safe_relative(chosen.strip(), param=param) if chosen and chosen.strip() else None
    names = tuple(
        safe_relative(n.strip(), param="filenames") for n in (filenames or "").split(",") if n.strip()
    )
    if len(names) > _MAX_NAMES:
        raise InvalidRequestError(f"'filenames' lists more than {_MAX_NAMES} files", param="filenames")
    return Filters(
        folder=where,
        search=search.strip() or None if search else None,
        names=names,
        created_from=_moment(date_from, "date_from", end_of_day=False),
        created_to=_moment(date_to, "date_to", end_of_day=True),
    )


def generation_type_query(
    generation_type: Annotated[
        GenerationType | None, Query(description="tts, vc, concat or unknown.")
    ] = None,
) -> str | None:
    return generation_type


def page_shape(page: Page, paging: Paging, items: list[Any]) -> dict[str, Any]:
    """Plus's paged shape around a page of items."""
    total_pages = max(1, -(-page.total // paging.page_size))
    return {
        "files": items,
        "count": len(items),
        "page": paging.page,
        "page_size": paging.page_size,
        "total_pages": total_pages,
        "has_next": paging.page < total_pages,
        "has_previous": paging.page > 1,
        "total_files": page.total,
    }


def file_info(entry: Entry) -> LibraryFileInfo:
    return LibraryFileInfo(**_common(entry))


def output_infos(catalog: Catalog, entries: list[Entry]) -> list[OutputInfo]:
    """Output items, each with the URLs of every format of its output."""
    groups = catalog.formats(entries)
    return [
        OutputInfo(
            **_common(e),
            url=output_url(e.path),
            generation_type=e.generation_type or "unknown",
            parameters=_dict(e.metadata.get("parameters")),
            source_files=_sources(e.metadata),
            formats={g.format: output_url(g.path) for g in groups.get((e.folder, e.stem), [e])},
        )
        for e in entries
    ]


def output_url(path: str) -> str:
    return f"/outputs/{quote(path)}"


def delete_response(
    catalog: Catalog, entries: list[Entry], *, dry_run: bool, prune: bool, noun: str
) -> DeleteResponse:
    """Delete (or with ``dry_run`` only report) files, answered in Plus's shape."""
    report = catalog.delete(entries, dry_run=dry_run, prune=prune)
    n = len(report.entries)
    if dry_run:
        message = f"Would delete {n} {noun} file(s)"
    elif n == 0:
        message = f"No {noun} files found matching criteria (already clean)"
    else:
        message = f"Deleted {n} {noun} file(s)"
        if report.folders_removed:
            message += f" and cleaned up {len(report.folders_removed)} empty folder(s)"
    return DeleteResponse(
        message=message,
        dry_run=dry_run,
        deleted_files=report.files,
        deleted_count=n,
        removed_folders=report.folders_removed,
    )


def bulk_delete(
    catalog: Catalog,
    chosen: Filters,
    *,
    confirm: bool,
    dry_run: bool,
    everything: bool,
    noun: str,
    filter_names: str = "folder, generation_type, search, filenames, date_from, date_to",
) -> DeleteResponse:
    """A bulk delete: refused without a filter (unless ``all``) or without ``confirm`` (unless a dry run)."""
    require_confirm(confirm, dry_run)
    if chosen.empty and not everything:
        raise InvalidRequestError(
            f"give a filter ({filter_names}) or all=true to delete every file",
            param="all",
        )
    if chosen.folder and not catalog.exists(chosen.folder, param="folder"):
        raise NotFoundError(f"no folder {chosen.folder!r}", param="folder")
    return delete_response(catalog, catalog.select(chosen), dry_run=dry_run, prune=True, noun=noun)


def require_confirm(confirm: bool, dry_run: bool) -> None:
    if not confirm and not dry_run:
        raise InvalidRequestError(
            "Deletion requires confirm=true parameter for safety (or dry_run=true to preview)",
            param="confirm",
        )


FolderShape = Literal["flat", "nested"]
FolderShapeQuery = Annotated[
    FolderShape,
    Query(
        description="`flat` (Plus's shape, default): every folder in `folders`, `subfolders` as paths; "
        "`nested`: the top folders, each with its `subfolders` as folder objects."
    ),
]


def folder_tree(catalog: Catalog, shape: FolderShape = "flat") -> FolderTreeResponse:
    """Plus's folder listing: flat (every folder, subfolders as paths) or nested."""
    top = catalog.folders()
    total_folders = sum(_count_nodes(n) for n in top)
    total_files = sum(_count_files(n) for n in top)
    nodes = [_folder_info(n) for n in top] if shape == "nested" else [f for n in top for f in _flat(n)]
    return FolderTreeResponse(
        folders=nodes, total_folders=total_folders, total_files=total_files, total_voices=total_files
    )


def _flat(node: FolderNode) -> list[FolderInfo]:
    own = FolderInfo(
        path=node.path or "root",
        file_count=node.file_count,
        voice_count=node.file_count,
        subfolders=[child.path for child in node.subfolders],
    )
    return [own, *(info for child in node.subfolders for info in _flat(child))]


ConfirmQuery = Annotated[bool, Query(description="Must be true to delete (Plus's safety switch).")]
DryRunQuery = Annotated[bool, Query(description="Only report what would be deleted.")]
AllQuery = Annotated[bool, Query(alias="all", description="Delete every file when no filter is given.")]


# ---- helpers ---------------------------------------------------------------------------------


def _moment(value: str | None, param: str, *, end_of_day: bool) -> float | None:
    if not value:
        return None
    try:
        if len(value.strip()) == 10:
            day = date.fromisoformat(value.strip())
            return datetime.combine(day, time.max if end_of_day else time.min).timestamp()
        return datetime.fromisoformat(value.strip()).timestamp()
    except ValueError:
        raise InvalidRequestError(
            f"'{param}' must be a date (2026-11-22) or a date and time (2026-11-22T06:15:00): {value!r}",
            param=param,
        ) from None


def _common(e: Entry) -> dict[str, Any]:
    return {
        "filename": e.name,
        "path": e.path,
        "folder_path": e.folder or None,
        "created_date": datetime.fromtimestamp(e.created).astimezone().isoformat(timespec="seconds"),
        "file_size_bytes": e.size,
        "duration_seconds": e.duration,
        "sample_rate": e.sample_rate,
        "format": e.format,
        "text": e.text,
        "metadata": e.metadata,
    }


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _sources(record: dict[str, Any]) -> list[str]:
    listed = record.get("source_files") or _dict(record.get("parameters")).get("source_files")
    if isinstance(listed, list):
        return [str(s) for s in listed]
    source = record.get("source")
    return [source] if isinstance(source, str) else []


def _folder_info(node: FolderNode) -> FolderInfo:
    return FolderInfo(
        path=node.path or "root",
        file_count=node.file_count,
        voice_count=node.file_count,
        subfolders=[_folder_info(n) for n in node.subfolders],
    )


def _count_nodes(node: FolderNode) -> int:
    return 1 + sum(_count_nodes(n) for n in node.subfolders)


def _count_files(node: FolderNode) -> int:
    return node.file_count + sum(_count_files(n) for n in node.subfolders)
