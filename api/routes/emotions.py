"""Emotion profiles: a character's voice in one mood, usable wherever a voice is accepted."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.deps import EngineDep
from api.emotions import PROFILE_FORM, UPLOAD_FIELD, create_profile, update_profile
from api.forms import body_schema, read_body
from api.params import ERRORS, ResponseModeQuery, ReturnFormatQuery, speech_request
from api.responses import AUDIO_RESPONSES, speech_response
from api.views import emotion_info
from api_models import (
    EmotionCreateRequest,
    EmotionDeleteResponse,
    EmotionInfo,
    EmotionListResponse,
    EmotionTestRequest,
    EmotionUpdateRequest,
)
from management.emotions import PREFIX

router = APIRouter(prefix="/api/v1/emotions", tags=["emotions"])
_FILES = {UPLOAD_FIELD: "Multipart only: sample clips to keep in voices/<folder>/ (repeat for several)."}


@router.post(
    "",
    status_code=201,
    response_model=EmotionInfo,
    responses=ERRORS,
    openapi_extra=body_schema(EmotionCreateRequest, _FILES),
)
async def create_emotion(request: Request, engine: EngineDep) -> EmotionInfo:
    """Create a profile from voices in voices/ and/or uploaded samples; 409 when the name is taken."""
    body, uploads = await read_body(request, EmotionCreateRequest, (UPLOAD_FIELD,), PROFILE_FORM)
    return emotion_info(await create_profile(engine, body, uploads.get(UPLOAD_FIELD, [])))


@router.get("", response_model=EmotionListResponse)
def list_emotions(
    engine: EngineDep,
    character: Annotated[str | None, Query(description="Only this character's profiles.")] = None,
) -> EmotionListResponse:
    """Every profile (or one character's), by character then emotion."""
    profiles = [emotion_info(p) for p in engine.emotions.list(character)]
    return EmotionListResponse(profiles=profiles, count=len(profiles))


@router.get("/{profile_id}", response_model=EmotionInfo, responses=ERRORS)
def get_emotion(profile_id: str, engine: EngineDep) -> EmotionInfo:
    """One profile."""
    return emotion_info(engine.emotions.get(profile_id))


@router.put(
    "/{profile_id}",
    response_model=EmotionInfo,
    responses=ERRORS,
    openapi_extra=body_schema(EmotionUpdateRequest, _FILES),
)
async def update_emotion(profile_id: str, request: Request, engine: EngineDep) -> EmotionInfo:
    """Change some of a profile's fields; uploaded samples are added to its list."""
    body, uploads = await read_body(request, EmotionUpdateRequest, (UPLOAD_FIELD,), PROFILE_FORM)
    return emotion_info(await update_profile(engine, profile_id, body, uploads.get(UPLOAD_FIELD, [])))


@router.delete("/{profile_id}", response_model=EmotionDeleteResponse, responses=ERRORS)
def delete_emotion(profile_id: str, engine: EngineDep) -> EmotionDeleteResponse:
    """Delete a profile (its samples stay in voices/)."""
    profile = engine.emotions.delete(profile_id)
    return EmotionDeleteResponse(message=f"emotion profile {profile.id!r} deleted", id=profile.id)


@router.post("/{profile_id}/test", response_class=Response, responses={**AUDIO_RESPONSES, **ERRORS})
async def test_emotion(
    profile_id: str,
    engine: EngineDep,
    body: EmotionTestRequest | None = None,
    response_mode: ResponseModeQuery = None,
    return_format: ReturnFormatQuery = None,
) -> Response:
    """Speak a sample text with the profile; answers like POST /api/v1/tts (any TTS field may be sent)."""
    profile = await asyncio.to_thread(engine.emotions.get, profile_id)
    body = body or EmotionTestRequest()
    text = body.text.strip() or f"This is {profile.character}, sounding {profile.emotion}."
    speech = body.model_copy(update={"text": text, "voice": f"{PREFIX}{profile.id}"})
    result = await engine.synthesize(speech_request(speech, None))
    return speech_response(
        result,
        speech,
        mode=response_mode,
        return_format=return_format,
        message=f"Emotion profile {profile.id!r} spoke",
        outputs_dir=str(engine.settings.paths.outputs_dir),
    )
