"""Choosing the torch device."""

from __future__ import annotations

import torch

from exceptions import EngineUnavailableError


def resolve_device(preference: str) -> str:
    """``auto`` picks cuda, then mps, then cpu; an explicit choice the machine lacks cannot run."""
    cuda = torch.cuda.is_available()
    mps = torch.backends.mps.is_available()
    if preference == "auto":
        return "cuda" if cuda else "mps" if mps else "cpu"
    if preference == "cuda" and not cuda:
        raise EngineUnavailableError("models.device is 'cuda' but torch sees no CUDA device")
    if preference == "mps" and not mps:
        raise EngineUnavailableError("models.device is 'mps' but torch sees no MPS device")
    return preference
