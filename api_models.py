"""Request and response shapes of the HTTP API (pydantic only).

The shapes live in ``api/schemas/`` (one module per feature); this module re-exports every public
name so ``from api_models import X`` keeps working."""

from __future__ import annotations

from api.schemas.common import (
    CfgWeight,
    ErrorInfo,
    ErrorResponse,
    Exaggeration,
    OutputFields,
    OutputFileInfo,
    Probability,
    ResponseMode,
    SaveFields,
    Seed,
    Temperature,
)
from api.schemas.concat import (
    ConcatOptionsFields,
    ConcatRequest,
    ConcatResponse,
    MixedConcatRequest,
    MixedSegment,
)
from api.schemas.engines import (
    EngineCapabilities,
    EngineInfo,
    EngineListResponse,
    EngineMemory,
    EngineRequest,
    EnginesResponse,
    EngineStatus,
    HealthResponse,
)
from api.schemas.openai import OpenAISpeechRequest, OpenAIVoice
from api.schemas.outputs import (
    DeleteResponse,
    FolderInfo,
    FolderTreeResponse,
    LibraryFileInfo,
    OutputInfo,
    OutputListResponse,
    RescanResponse,
    VCInputListResponse,
    VCInputUploadResponse,
)
from api.schemas.tts import ChunkInfo, SpeechResponse, TimestampInfo, TTSRequest
from api.schemas.vc import VCRequest
from api.schemas.voices import (
    VoiceBulkUploadResponse,
    VoiceImportResponse,
    VoiceInfo,
    VoiceListResponse,
    VoiceMetadataUpdate,
    VoiceParameters,
    VoiceQualityInfo,
    VoiceUploadResponse,
)

__all__ = [
    "CfgWeight",
    "ChunkInfo",
    "ConcatOptionsFields",
    "ConcatRequest",
    "ConcatResponse",
    "DeleteResponse",
    "EngineCapabilities",
    "EngineInfo",
    "EngineListResponse",
    "EngineMemory",
    "EngineRequest",
    "EngineStatus",
    "EnginesResponse",
    "ErrorInfo",
    "ErrorResponse",
    "Exaggeration",
    "FolderInfo",
    "FolderTreeResponse",
    "HealthResponse",
    "LibraryFileInfo",
    "MixedConcatRequest",
    "MixedSegment",
    "OpenAISpeechRequest",
    "OpenAIVoice",
    "OutputFields",
    "OutputFileInfo",
    "OutputInfo",
    "OutputListResponse",
    "Probability",
    "RescanResponse",
    "ResponseMode",
    "SaveFields",
    "Seed",
    "SpeechResponse",
    "TTSRequest",
    "Temperature",
    "TimestampInfo",
    "VCInputListResponse",
    "VCInputUploadResponse",
    "VCRequest",
    "VoiceBulkUploadResponse",
    "VoiceImportResponse",
    "VoiceInfo",
    "VoiceListResponse",
    "VoiceMetadataUpdate",
    "VoiceParameters",
    "VoiceQualityInfo",
    "VoiceUploadResponse",
]
