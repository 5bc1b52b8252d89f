"""devnen/Chatterbox-TTS-Server's routes, for its clients: ``POST /tts``, its voice lists and uploads.

Its predefined voices and reference clips are both voices in our ``voices/`` folder. See docs/clients.md.
"""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from api.compat.devnen import SettingsReadOnlyError, predefined_voices, store_uploads, upload_answer
from api.compat.devnen_ui import initial_data, model_info
from api.compat.speech import whole_clip
from api.deps import EngineDep, SettingsDep, VoicesDep
from api.params import ERRORS
from api.responses import Responses
from api_models import ErrorResponse
from core.requests import OutputOptions, SpeechRequest
from core_engine import CoreEngine
from exceptions import EngineUnavailableError, InvalidRequestError
from parameters import CfgWeight, Exaggeration, Seed, Speed, Temperature
from utils.audio import FORMATS, PostProcessing, encode, get_format

router = APIRouter(tags=["compat: devnen"])
UploadFiles = Annotated[list[UploadFile], File(description="Audio files, each kept under its own name.")]


class DevnenTTSRequest(BaseModel):
    """devnen's ``CustomTTSRequest``, field for field (its other fields are ignored)."""

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={"examples": [{"text": "Hello from my own server.", "output_format": "wav"}]},
    )
    text: str = Field(min_length=1, description="Text to speak.")
    voice_mode: Literal["predefined", "clone"] = Field(
        "predefined", description="Which of the next two fields names the voice."
    )
    predefined_voice_id: str | None = Field(None, description="A voice file in voices/ (predefined mode).")
    reference_audio_filename: str | None = Field(None, description="A voice file in voices/ (clone mode).")
    output_format: Literal["wav", "opus", "mp3"] = "wav"
    split_text: bool = Field(True, description="Accepted; long text is always split at sentence ends.")
    chunk_size: int = Field(120, ge=50, le=500, description="Accepted; chunks follow limits.max_chunk_chars.")
    temperature: Temperature | None = None
    exaggeration: Exaggeration | None = None
    cfg_weight: CfgWeight | None = None
    seed: Seed | None = Field(
        None, description="0 or omitted: a random seed (sent back in X-Generation-Seed)."
    )
    speed_factor: Speed | None = None
    language: str | None = Field(None, max_length=35)


def _voice(body: DevnenTTSRequest, core: CoreEngine) -> str | None:
    """The voice named by the field ``voice_mode`` picks; one not in voices/ is a 404 naming that field."""
    field = "reference_audio_filename" if body.voice_mode == "clone" else "predefined_voice_id"
    name = getattr(body, field)
    if name is None and body.voice_mode == "clone":
        raise InvalidRequestError("voice_mode 'clone' needs reference_audio_filename", param=field)
    if name is not None:
        core.voices.resolve(name, param=field)
    return name  # None: the engine's own voice


_AUDIO: Responses = {
    200: {"content": {FORMATS[name].content_type: {} for name in ("wav", "mp3", "opus")}},
    **ERRORS,
}


@router.post("/tts", response_class=Response, responses=_AUDIO)
async def devnen_tts(body: DevnenTTSRequest, engine: EngineDep) -> Response:
    """devnen's `/tts`: the whole audio in `output_format`, as an attachment."""
    if not body.text.strip():
        raise InvalidRequestError("text: must not be blank", param="text")
    fmt = get_format(body.output_format, param="output_format")
    request = SpeechRequest(
        text=body.text,
        voice=_voice(body, engine),
        temperature=body.temperature,
        exaggeration=body.exaggeration,
        cfg_weight=body.cfg_weight,
        seed=body.seed,
        language=body.language,
        output=OutputOptions(formats=(fmt.name,), post=PostProcessing(speed_factor=body.speed_factor or 1.0)),
    )
    stream = await engine.stream(request)
    clip = await whole_clip(stream)
    name = f"tts_output_{time.strftime('%Y%m%d_%H%M%S')}.{fmt.extension}"
    headers = {
        "Content-Disposition": f'attachment; filename="{name}"',
        "X-Engine": stream.engine,
        "X-Generation-Seed": str(stream.seed),
    }
    return Response(encode(clip, fmt), media_type=fmt.content_type, headers=headers)


@router.get("/get_predefined_voices")
async def get_predefined_voices(voices: VoicesDep) -> list[dict[str, str]]:
    """devnen's voice list: `[{"display_name", "filename"}]`, every voice in voices/."""
    return predefined_voices(voices)


@router.get("/get_reference_files")
async def get_reference_files(voices: VoicesDep) -> list[str]:
    """devnen's clone-mode list: every voice file in voices/ (what `reference_audio_filename` takes)."""
    return voices.names()


@router.post("/upload_reference", responses=ERRORS)
async def upload_reference(voices: VoicesDep, settings: SettingsDep, files: UploadFiles) -> JSONResponse:
    """devnen's upload: each file into voices/ under its own name; `uploaded_files`, `errors` per file."""
    stored, errors = await store_uploads(voices, files, settings.limits.max_upload_mb)
    return upload_answer(len(files), stored, errors, ("all_reference_files", voices.names()))


@router.post("/upload_predefined_voice", responses=ERRORS)
async def upload_predefined_voice(
    voices: VoicesDep, settings: SettingsDep, files: UploadFiles
) -> JSONResponse:
    """devnen's predefined-voice upload: the same folder here (voices/), listed as `/get_predefined_voices` does."""
    stored, errors = await store_uploads(voices, files, settings.limits.max_upload_mb)
    listing = ("all_predefined_voices", predefined_voices(voices))
    return upload_answer(len(files), stored, errors, listing, noun="predefined voice file")


@router.get("/api/ui/initial-data")
async def ui_initial_data(engine: EngineDep) -> dict[str, Any]:
    """devnen's page data: `config` (its sections, from our settings), `reference_files`,
    `predefined_voices`, `presets` (none), `initial_gen_result`, `model_info` (the serving engine)."""
    return initial_data(engine)


@router.post("/api/unload")
async def unload_models(engine: EngineDep) -> dict[str, str]:
    """devnen's unload: every loaded engine frees its weights (after the calls queued for it);
    unlike devnen, each loads again on its next request."""
    for info in engine.engines_info():
        if info["state"] == "ready":
            await engine.unload(info["name"])
    return {"status": "unloaded"}


@router.post("/restart_server", responses={503: {"model": ErrorResponse}})
async def restart_server(engine: EngineDep) -> dict[str, Any]:
    """devnen's model hot-swap, without a process restart: the serving engine's weights are unloaded
    and loaded again (config.yaml is read at start only: restart the process to change it)."""
    name, _ = engine.serving()
    if name is None:
        raise EngineUnavailableError("no engine can serve requests; see GET /api/v1/models", param="engine")
    await engine.unload(name)
    await engine.load(name)
    info = model_info(engine)
    message = f"Model hot-swap successful. Now running: {info['class_name']} ({info['type']})"
    return {"message": message, "restart_needed": False}


@router.post("/save_settings", responses={403: {"model": ErrorResponse}})
@router.post("/reset_settings", responses={403: {"model": ErrorResponse}})
async def save_settings() -> None:
    """devnen's settings routes: refused (403); the configuration is config.yaml, not written over HTTP."""
    raise SettingsReadOnlyError(
        "this server does not change its configuration over HTTP; edit config.yaml (or set CHATTERBOX_* "
        "variables) and restart. Generation values can be sent with each request instead",
        code="settings_read_only",
    )
