"""Dependency accessors, one per service, reading from ``app.state``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from config import Settings
from core_engine import CoreEngine
from monitoring.metrics import Metrics


def get_engine(request: Request) -> CoreEngine:
    return request.app.state.engine


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_metrics(request: Request) -> Metrics:
    return request.app.state.metrics


EngineDep = Annotated[CoreEngine, Depends(get_engine)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
