"""Libraries (outputs/ and vc_inputs/): file items, pages, folder trees, deletions, rescans."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class LibraryFileInfo(BaseModel):
    """One audio file in a library (Plus's item, plus its path, sample rate and full metadata)."""

    filename: str
    path: str = Field(description="Relative to the library folder; what the other endpoints take.")
    folder_path: str | None = Field(description="Its folder inside the library; null for the root.")
    created_date: str = Field(description="ISO 8601: when it was made (its record), else modified.")
    file_size_bytes: int
    duration_seconds: float | None = Field(description="From its record or its headers; null: unknown.")
    sample_rate: int | None
    format: str = Field(description="The file's extension: wav, mp3, flac, opus, aac, pcm, ogg, m4a, webm.")
    text: str | None = Field(description="The text spoken (TTS) or given with an uploaded VC input.")
    metadata: dict[str, Any] = Field(description="The whole metadata sidecar (empty when there is none).")


class OutputInfo(LibraryFileInfo):
    """One file in outputs/; an output saved in several formats is one item per format."""

    url: str = Field(description="Where to fetch it: /outputs/<path>.")
    generation_type: str = Field(description="tts, vc, concat, or unknown (a file without a record).")
    parameters: dict[str, Any] = Field(description="The generation parameters from its record.")
    source_files: list[str] = Field(description="Inputs it was made from (VC source, concat parts).")
    formats: dict[str, str] = Field(description="Every format of the same output: format -> URL.")


class _Paged(BaseModel):
    count: int = Field(description="Items on this page.")
    page: int
    page_size: int
    total_pages: int = Field(description="At least 1.")
    has_next: bool
    has_previous: bool
    total_files: int = Field(description="Matches over all pages.")


class OutputListResponse(_Paged):
    """A page of outputs (Plus's shape)."""

    files: list[OutputInfo]


class VCInputListResponse(_Paged):
    """A page of VC inputs (Plus's shape)."""

    files: list[LibraryFileInfo]


class FolderInfo(BaseModel):
    """A folder and the ones inside it."""

    path: str = Field(description='"root" for the library folder itself, else e.g. "book/chapter1".')
    file_count: int = Field(description="Audio files directly in this folder.")
    voice_count: int = Field(description="The same number, under Plus's name.")
    subfolders: list[FolderInfo] | list[str] = Field(
        description="Flat shape: the paths of the folders directly inside; nested: those folders."
    )


class FolderTreeResponse(BaseModel):
    """Folders holding audio files; the root first when it holds any."""

    folders: list[FolderInfo]
    total_folders: int
    total_files: int
    total_voices: int = Field(description="The same as total_files, under Plus's name.")


class DeleteResponse(BaseModel):
    """What was deleted (or, with dry_run, would be)."""

    success: bool = True
    message: str
    dry_run: bool = False
    deleted_files: list[str] = Field(description="Audio files and their sidecars, relative paths.")
    deleted_count: int = Field(description="Audio files (sidecars not counted).")
    removed_folders: list[str] = Field(default_factory=list, description="Folders left empty and removed.")


class VCInputUploadResponse(BaseModel):
    """Answer of ``POST /api/v1/vc_input`` (Plus's shape, plus ``path``)."""

    success: bool = True
    message: str
    filename: str
    path: str = Field(description="Relative to vc_inputs/: pass it as `input_audio_source`.")
    metadata: dict[str, Any]


class RescanResponse(BaseModel):
    """What a rescan of a library changed in the index."""

    added: int
    updated: int
    removed: int
    total: int
