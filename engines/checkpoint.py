"""Finding Chatterbox weights: a local checkpoint folder, the Hugging Face cache, or a download."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlparse

from config import ModelSettings
from exceptions import EngineUnavailableError

logger = logging.getLogger(__name__)

TTS_FILES = ("ve.safetensors", "t3_cfg.safetensors", "s3gen.safetensors", "tokenizer.json")
VC_FILES = ("s3gen.safetensors",)
BUILTIN_VOICE = "conds.pt"


def resolve_checkpoint(settings: ModelSettings, required: Sequence[str]) -> Path:
    """Return a folder holding ``required`` (and ``conds.pt`` when available) or explain why not."""
    if settings.checkpoint_dir is not None:
        return _check_local(Path(settings.checkpoint_dir).expanduser(), required)
    return _from_hub(settings, required)


def _check_local(folder: Path, required: Sequence[str]) -> Path:
    if not folder.is_dir():
        raise EngineUnavailableError(
            f"models.checkpoint_dir {folder} is not a folder; point it at a folder holding "
            f"{', '.join(required)} (and {BUILTIN_VOICE} for the built-in voice)"
        )
    missing = [name for name in required if not (folder / name).is_file()]
    for name in missing:
        logger.error("checkpoint folder %s lacks %s", folder, name)
    if missing:
        raise EngineUnavailableError(f"checkpoint folder {folder} lacks {', '.join(missing)}")
    return folder


def _from_hub(settings: ModelSettings, required: Sequence[str]) -> Path:
    from huggingface_hub import hf_hub_download

    token = settings.hf_token.get_secret_value() if settings.hf_token else None
    wanted = [*required, BUILTIN_VOICE]
    try:
        paths = [
            hf_hub_download(settings.hf_repo, name, token=token, local_files_only=True) for name in wanted
        ]
        return Path(paths[0]).parent
    except Exception:  # noqa: BLE001 - not cached: try the network below
        pass
    if not settings.allow_download:
        raise EngineUnavailableError(
            _advice(
                settings, "they are not in the local Hugging Face cache and models.allow_download is false"
            )
        )
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"):
        raise EngineUnavailableError(
            _advice(settings, "they are not in the local cache and HF_HUB_OFFLINE is set")
        )
    if problem := hub_unreachable():
        raise EngineUnavailableError(_advice(settings, problem))
    try:
        paths = [hf_hub_download(settings.hf_repo, name, token=token) for name in wanted]
    except Exception as exc:
        raise EngineUnavailableError(_advice(settings, f"download failed ({type(exc).__name__})")) from exc
    return Path(paths[0]).parent


def hub_unreachable(timeout: float = 3.0) -> str | None:
    """Fail in a second when offline, instead of the hub client's ~25 s of retries."""
    if any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return None  # the hub client goes through the proxy; a direct probe would mislead
    endpoint = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    host, port = (
        endpoint.hostname or "huggingface.co",
        endpoint.port or (443 if endpoint.scheme == "https" else 80),
    )
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        return f"no network: cannot reach {host} ({exc})"
    return None


def _advice(settings: ModelSettings, why: str) -> str:
    return (
        f"Chatterbox weights from Hugging Face repo {settings.hf_repo} are unavailable: {why}. "
        f"Put {', '.join(TTS_FILES)} and {BUILTIN_VOICE} in a folder and set models.checkpoint_dir "
        "(env CHATTERBOX_MODELS__CHECKPOINT_DIR), or give the server network access to huggingface.co"
    )
