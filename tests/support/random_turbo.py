"""Build a random-weight Chatterbox Turbo checkpoint that upstream ``ChatterboxTurboTTS.from_local`` accepts.

The folder holds ve.safetensors (the English random checkpoint's), t3_turbo_v1.safetensors (a GPT-2
medium T3 cut to a few layers), s3gen_meanflow.safetensors, a small byte-level BPE GPT-2 tokenizer
(tokenizer.json + tokenizer_config.json) and conds.pt (from a clip longer than 5 s). Random weights
never emit the stop token: callers must cap generation. Build and load inside ``small_turbo_t3()``.
``build_nano_checkpoint`` makes a nano folder beside it (its own T3, the other files shared).
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from tests.support.random_checkpoint import (
    _save_state_dict,
    cached_build,
    cached_random_checkpoint,
    llama_config,
)

logger = logging.getLogger(__name__)

SMALL_LAYERS = 2
TURBO_VERSION = "v1"  # bump when the recipe changes: it is part of the cache folder name
TURBO_FILES = (
    "ve.safetensors",
    "t3_turbo_v1.safetensors",
    "s3gen_meanflow.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "conds.pt",
)
_EOS = "<|endoftext|>"
_CORPUS = (
    "Hello there. This is a test of the offline voice, running on a small computer. "
    "The quick brown fox jumps over the lazy dog; numbers 0123456789 and marks: ! ? , ' \" - ."
)


def small_turbo_t3(layers: int = SMALL_LAYERS) -> contextlib.AbstractContextManager[None]:
    """Temporarily give chatterbox's GPT2_medium config `layers` layers (width stays 1024)."""
    return llama_config("GPT2_medium", n_layer=layers)


def small_nano_t3(layers: int = 1) -> contextlib.AbstractContextManager[None]:
    """Temporarily give the GPT2_small config nano uses `layers` layers."""
    from engines.chatterbox_turbo import GPT2_SMALL, register_gpt2_small

    register_gpt2_small()
    return llama_config(GPT2_SMALL, n_layer=layers)


def write_gpt2_tokenizer(folder: Path) -> None:
    """A small byte-level BPE tokenizer, GPT-2 style, that ``AutoTokenizer`` loads offline (ids < 50276)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=[_EOS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator([_CORPUS] * 4, trainer)
    assert tokenizer.get_vocab_size() < 50276
    tokenizer.save(str(folder / "tokenizer.json"))
    config = {"tokenizer_class": "GPT2Tokenizer", "model_max_length": 1024}
    config |= {"bos_token": _EOS, "eos_token": _EOS, "unk_token": _EOS}
    (folder / "tokenizer_config.json").write_text(json.dumps(config))


def long_clip(speech_wav: Path, dest: Path) -> Path:
    """``speech_wav`` twice over (about 9 s): turbo wants a reference longer than 5 s."""
    samples, rate = sf.read(str(speech_wav), dtype="float32")
    sf.write(str(dest), np.concatenate([samples, samples]), rate)
    return dest


def build_turbo_checkpoint(
    dest: Path, speech_wav: Path, *, seed: int = 0, layers: int = SMALL_LAYERS
) -> Path:
    """Write every file of ``TURBO_FILES`` into dest, with random weights."""
    from chatterbox.models.s3gen import S3Gen
    from chatterbox.models.t3 import T3
    from chatterbox.models.voice_encoder import VoiceEncoder
    from chatterbox.tts_turbo import ChatterboxTurboTTS
    from safetensors.torch import load_file
    from transformers import AutoTokenizer

    from engines.chatterbox_turbo import t3_config

    dest.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    shutil.copy(cached_random_checkpoint(speech_wav) / "ve.safetensors", dest / "ve.safetensors")
    with small_turbo_t3(layers), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        t3 = T3(t3_config("turbo"))
        _save_state_dict(t3, dest / "t3_turbo_v1.safetensors")
        s3gen = S3Gen(meanflow=True)
        _save_state_dict(s3gen, dest / "s3gen_meanflow.safetensors")
        write_gpt2_tokenizer(dest)
        ve = VoiceEncoder()
        ve.load_state_dict(load_file(dest / "ve.safetensors"))
        model = ChatterboxTurboTTS(
            t3.eval(), s3gen.eval(), ve.eval(), AutoTokenizer.from_pretrained(dest), "cpu"
        )
        model.prepare_conditionals(str(long_clip(speech_wav, dest / "reference.wav")))
        model.conds.save(dest / "conds.pt")
        (dest / "reference.wav").unlink()
    logger.info("built random turbo checkpoint in %s (%.1f s)", dest, time.monotonic() - started)
    return dest


def cached_turbo_checkpoint(speech_wav: Path) -> Path:
    """A complete random turbo checkpoint from the test cache, built on first use."""
    return cached_build(
        f"random-turbo-{TURBO_VERSION}",
        TURBO_FILES,
        lambda folder: build_turbo_checkpoint(folder, speech_wav),
    )


def build_nano_checkpoint(dest: Path, turbo: Path, *, seed: int = 1, layers: int = 1) -> Path:
    """A nano folder: a random GPT-2 small T3 (``layers`` deep), the rest linked from a turbo folder.

    conds.pt carries over: the speaker embedding, prompt tokens and S3Gen reference do not depend on T3.
    """
    from chatterbox.models.t3 import T3

    from engines.chatterbox_turbo import t3_config

    dest.mkdir(parents=True, exist_ok=True)
    for name in TURBO_FILES:
        if name != "t3_turbo_v1.safetensors":
            (dest / name).symlink_to(turbo / name)
    with small_nano_t3(layers), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        _save_state_dict(T3(t3_config("nano")), dest / "t3_nano_v1.safetensors")
    return dest
