"""Finding Chatterbox weights: a local checkpoint folder, the Hugging Face cache, or a download.

Each Chatterbox engine names its files in a ``Weights`` spec: the English model, voice conversion,
multilingual and turbo read different files, from their own folder or Hugging Face repo.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from config import ModelSettings
from exceptions import EngineUnavailableError

logger = logging.getLogger(__name__)

TTS_FILES = ("ve.safetensors", "t3_cfg.safetensors", "s3gen.safetensors", "tokenizer.json")
VC_FILES = ("s3gen.safetensors",)
BUILTIN_VOICE = "conds.pt"


@dataclass(frozen=True)
class Weights:
    """Where one engine's weights come from and which files it needs."""

    checkpoint_dir: Path | None
    hf_repo: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = (BUILTIN_VOICE,)
    setting: str = "models.checkpoint_dir"  # the configuration key of checkpoint_dir, for advice

    @property
    def env(self) -> str:
        """The environment variable that sets ``checkpoint_dir``."""
        return "CHATTERBOX_" + self.setting.replace(".", "__").upper()


def english_weights(settings: ModelSettings, required: tuple[str, ...] = TTS_FILES) -> Weights:
    """The English model's (and voice conversion's) weights."""
    return Weights(settings.checkpoint_dir, settings.hf_repo, required)


def resolve_checkpoint(settings: ModelSettings, required: tuple[str, ...]) -> Path:
    """A folder holding the English model's ``required`` files (and ``conds.pt`` when available)."""
    return resolve_weights(settings, english_weights(settings, required))


def resolve_weights(settings: ModelSettings, weights: Weights) -> Path:
    """Return a folder holding ``weights.required`` (optional files when there) or explain why not."""
    if weights.checkpoint_dir is not None:
        return _check_local(Path(weights.checkpoint_dir).expanduser(), weights)
    return _from_hub(settings, weights)


def _check_local(folder: Path, weights: Weights) -> Path:
    if not folder.is_dir():
        raise EngineUnavailableError(
            f"{weights.setting} {folder} is not a folder; point it at a folder holding "
            f"{', '.join(weights.required)} (and {', '.join(weights.optional)} when you have them)"
        )
    missing = [name for name in weights.required if not (folder / name).is_file()]
    for name in missing:
        logger.error("checkpoint folder %s lacks %s", folder, name)
    if missing:
        raise EngineUnavailableError(f"checkpoint folder {folder} lacks {', '.join(missing)}")
    return folder


def _complete(folder: Path, weights: Weights) -> bool:
    return all((folder / name).is_file() for name in weights.required)


def _from_hub(settings: ModelSettings, weights: Weights) -> Path:
    from huggingface_hub import snapshot_download

    token = settings.hf_token.get_secret_value() if settings.hf_token else None
    patterns = [*weights.required, *weights.optional]
    try:
        folder = Path(
            snapshot_download(weights.hf_repo, allow_patterns=patterns, token=token, local_files_only=True)
        )
        if _complete(folder, weights):
            return folder
    except Exception:  # noqa: BLE001 - not cached: try the network below
        pass
    if not settings.allow_download:
        raise EngineUnavailableError(
            _advice(
                weights, "they are not in the local Hugging Face cache and models.allow_download is false"
            )
        )
    if hub_offline():
        raise EngineUnavailableError(
            _advice(weights, "they are not in the local cache and HF_HUB_OFFLINE is set")
        )
    if problem := hub_unreachable():
        raise EngineUnavailableError(_advice(weights, problem))
    try:
        folder = Path(snapshot_download(weights.hf_repo, allow_patterns=patterns, token=token))
    except Exception as exc:
        raise EngineUnavailableError(_advice(weights, f"download failed ({type(exc).__name__})")) from exc
    if not _complete(folder, weights):
        missing = [name for name in weights.required if not (folder / name).is_file()]
        raise EngineUnavailableError(_advice(weights, f"the repo has no {', '.join(missing)}"))
    return folder


def hub_offline() -> bool:
    """Whether ``HF_HUB_OFFLINE`` asks for no network at all."""
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")


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


def _advice(weights: Weights, why: str) -> str:
    return (
        f"Chatterbox weights from Hugging Face repo {weights.hf_repo} are unavailable: {why}. "
        f"Put {', '.join(weights.required)} (and {', '.join(weights.optional)}) in a folder and set "
        f"{weights.setting} (env {weights.env}), or give the server network access to huggingface.co"
    )
