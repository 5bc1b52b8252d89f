"""Plus's admin answers from our state: ``/api/v1/metrics`` (JSON) and the keys of its ``/api/v1/config``."""

from __future__ import annotations

import time
from typing import Any

from config import Settings
from monitoring.metrics import Metrics
from monitoring.system import system_snapshot
from parameters import VC_OVERLAP_SECONDS, VC_WINDOW_SECONDS
from utils.audio import FORMATS


def _times(metrics: Metrics, histogram: str) -> dict[str, Any]:
    """Count and mean (ms) of a Prometheus histogram, every label together, monitoring probes left out."""
    count = total = 0.0
    for metric in metrics.registry.collect():
        if metric.name != histogram:
            continue
        for sample in metric.samples:
            if sample.labels.get("route") in ("/health", "/api/v1/health", "/metrics", "/api/v1/metrics"):
                continue
            if sample.name.endswith("_count"):
                count += sample.value
            elif sample.name.endswith("_sum"):
                total += sample.value
    return {"count": int(count), "avg_ms": round(1000 * total / count, 1) if count else None}


def metrics_json(metrics: Metrics, settings: Settings) -> dict[str, Any]:
    """Plus's ``/api/v1/metrics`` shape, counted since the server started."""
    processing = _times(metrics, "generation_seconds")
    responses = _times(metrics, "http_request_duration_seconds")
    return {
        "timestamp": time.time(),
        "system": system_snapshot(settings.paths.outputs_dir),
        "performance": {
            "time_window_minutes": None,  # since start (Plus: the last 60 minutes)
            "processing_times": processing,
            "response_times": responses,
            "sample_count": {"processing": processing["count"], "responses": responses["count"]},
        },
        "requests": metrics.summary(),
    }


def plus_config(settings: Settings) -> dict[str, Any]:
    """Plus's ``/api/v1/config`` keys: request defaults, formats and limits."""
    generation = settings.generation
    return {
        "tts_defaults": {
            "exaggeration": generation.exaggeration,
            "temperature": generation.temperature,
            "cfg_weight": generation.cfg_weight,
            "seed": 0,
            "speed_factor": 1.0,
            "num_candidates_per_chunk": settings.validation.num_candidates_per_chunk,
            "max_attempts_per_candidate": settings.validation.max_attempts_per_candidate,
            "bypass_whisper_checking": settings.validation.bypass,
            "whisper_model_name": settings.validation.whisper_model,
            "export_formats": ["wav", "mp3"],
            "disable_watermark": not settings.models.watermark,
        },
        "vc_defaults": {
            "chunk_sec": VC_WINDOW_SECONDS,
            "overlap_sec": VC_OVERLAP_SECONDS,
            "export_formats": ["wav", "mp3"],
            "disable_watermark": not settings.models.watermark,
        },
        "supported_formats": sorted(FORMATS),
        "api_limits": {
            "max_text_length": settings.limits.max_text_length,
            "download_timeout_seconds": settings.downloads.timeout_seconds,
            "max_upload_mb": settings.limits.max_upload_mb,
            "max_page_size": 100,
        },
    }
