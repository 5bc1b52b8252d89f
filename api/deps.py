"""Dependency accessors, one per service, reading from ``app.state``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from config import Settings
from core_engine import CoreEngine
from management.catalog import Catalog
from management.voices import VoiceLibrary
from monitoring.metrics import Metrics


def get_engine(request: Request) -> CoreEngine:
    return request.app.state.engine


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_metrics(request: Request) -> Metrics:
    return request.app.state.metrics


def get_outputs(request: Request) -> Catalog:
    return request.app.state.engine.libraries.outputs


def get_vc_inputs(request: Request) -> Catalog:
    return request.app.state.engine.vc_inputs


def get_voices(request: Request) -> VoiceLibrary:
    return request.app.state.engine.voices


EngineDep = Annotated[CoreEngine, Depends(get_engine)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
OutputsDep = Annotated[Catalog, Depends(get_outputs)]
VCInputsDep = Annotated[Catalog, Depends(get_vc_inputs)]
VoicesDep = Annotated[VoiceLibrary, Depends(get_voices)]
