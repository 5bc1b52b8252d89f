"""Build a random-weight Chatterbox checkpoint that the real upstream loaders accept.

The folder holds the files `ChatterboxTTS.from_local` and `ChatterboxVC.from_local` read
(ve.safetensors, t3_cfg.safetensors, s3gen.safetensors, tokenizer.json, conds.pt), with random
weights, a T3 of only a few layers and an S3Gen whose flow-matching estimator has one middle block
instead of twelve (S3Gen's flow is most of a test request's time on CPU). It proves the server's real
model path end to end on CPU. Random weights never emit the stop token: callers must cap generation
(max new tokens). Load it inside `small_chatterbox()` as well, since `T3()` and `S3Gen()` read their
sizes when built. The benches build full-size S3Gens (``build_random_checkpoint``'s default).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import string
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import torch
from safetensors.torch import save_file
from tokenizers import Tokenizer
from tokenizers.models import BPE
from torch import nn

logger = logging.getLogger(__name__)

SMALL_T3_LAYERS = 2
SMALL_S3GEN_MID_BLOCKS = 1  # of the estimator's 12 (the test checkpoint's)
CHECKPOINT_VERSION = "v2"  # bump when the recipe changes: it is part of the cache folder name

CHECKPOINT_FILES = (
    "ve.safetensors",
    "t3_cfg.safetensors",
    "s3gen.safetensors",
    "tokenizer.json",
    "conds.pt",
)
CACHE_ENV = "CHATTERBOX_TEST_CACHE"
DEFAULT_CACHE_ROOT = Path.home() / ".cache" / "chatterbox-plus-tests"

_LLAMA_NAME = "Llama_520M"
# T3Config fixes stop_text_token=0, start_text_token=255 and text_tokens_dict_size=704.
_SPECIAL_IDS = {"[STOP]": 0, "[UNK]": 1, "[SPACE]": 2, "[START]": 255}
_FIRST_CHAR_ID = 3


@contextlib.contextmanager
def llama_config(name: str, **changes: int) -> Iterator[None]:
    """Temporarily change one of chatterbox's ``LLAMA_CONFIGS`` (T3 reads it when built): fewer layers."""
    from chatterbox.models.t3.llama_configs import LLAMA_CONFIGS

    original = LLAMA_CONFIGS[name]
    LLAMA_CONFIGS[name] = {**original, **changes}
    try:
        yield
    finally:
        LLAMA_CONFIGS[name] = original


def small_t3(layers: int = SMALL_T3_LAYERS) -> contextlib.AbstractContextManager[None]:
    """Temporarily give chatterbox's Llama_520M config `layers` hidden layers (width stays 1024)."""
    return llama_config(_LLAMA_NAME, num_hidden_layers=layers)


@contextlib.contextmanager
def small_s3gen(mid_blocks: int = SMALL_S3GEN_MID_BLOCKS) -> Iterator[None]:
    """Temporarily build S3Gen's flow-matching estimator with ``mid_blocks`` middle blocks (upstream: 12;
    widths unchanged). ``S3Gen()`` names the count itself, so the class it calls is wrapped."""
    from chatterbox.models.s3gen import s3gen

    original = s3gen.ConditionalDecoder

    def smaller(*args: object, **kwargs: object) -> object:
        return original(*args, **{**kwargs, "num_mid_blocks": mid_blocks})

    s3gen.ConditionalDecoder = smaller  # type: ignore[assignment,misc]
    try:
        yield
    finally:
        s3gen.ConditionalDecoder = original  # type: ignore[misc]


@contextlib.contextmanager
def small_chatterbox() -> Iterator[None]:
    """The sizes of the test checkpoint (``cached_random_checkpoint``): build or load it inside this."""
    with small_t3(), small_s3gen():
        yield


def _save_state_dict(module: nn.Module, path: Path) -> None:
    """Save a module's weights as safetensors: parameters as fp16, every tensor in its own storage."""
    params = {name for name, _ in module.named_parameters()}
    tensors: dict[str, torch.Tensor] = {}
    for name, value in module.state_dict().items():
        value = value.detach()
        if name in params and value.is_floating_point():
            # halves the files; load_state_dict casts back into the fp32 params.
            # Float buffers (mel filters, windows, BatchNorm stats) stay exact in fp32.
            value = value.to(torch.float16)
        # clone: safetensors refuses keys that share storage, and strict loads
        # (T3, VoiceEncoder) need every key, so no duplicate may be dropped
        tensors[name] = value.contiguous().clone()
    save_file(tensors, str(path))


def _write_tokenizer(path: Path) -> None:
    """Write a character-level tokenizer.json that chatterbox's EnTokenizer accepts (ids < 704)."""
    # letters, digits and punctuation (94 chars) as single-char tokens; anything else is [UNK]
    chars = [c for c in string.printable if not c.isspace()]
    vocab = dict(_SPECIAL_IDS)
    vocab.update({c: _FIRST_CHAR_ID + i for i, c in enumerate(chars)})
    # fill the gap up to [START] so the vocab has no holes; BPE without merges never emits these
    first_free = _FIRST_CHAR_ID + len(chars)
    vocab.update({f"<unused{i}>": i for i in range(first_free, _SPECIAL_IDS["[START]"])})
    assert sorted(vocab.values()) == list(range(len(vocab))) and len(vocab) < 704
    tokenizer = Tokenizer(BPE(vocab=vocab, merges=[], unk_token="[UNK]"))
    # special tokens keep their vocab ids and are matched whole ("[SPACE]" replaces " ")
    tokenizer.add_special_tokens(list(_SPECIAL_IDS))
    tokenizer.save(str(path))


def build_random_checkpoint(
    dest: Path,
    reference_wav: Path,
    *,
    seed: int = 0,
    layers: int = SMALL_T3_LAYERS,
    s3gen_mid_blocks: int | None = None,
) -> Path:
    """Build ve.safetensors, t3_cfg.safetensors, s3gen.safetensors, tokenizer.json and conds.pt in dest
    (``s3gen_mid_blocks``: a smaller S3Gen estimator, loaded inside ``small_s3gen`` of the same count;
    None: upstream's size)."""
    from chatterbox.models.s3gen import S3Gen
    from chatterbox.models.t3 import T3
    from chatterbox.models.voice_encoder import VoiceEncoder
    from chatterbox.tts import ChatterboxTTS

    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    smaller = small_s3gen(s3gen_mid_blocks) if s3gen_mid_blocks else contextlib.nullcontext()
    with small_t3(layers), smaller, torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for file_name, build in (
            ("ve.safetensors", VoiceEncoder),
            ("t3_cfg.safetensors", T3),
            ("s3gen.safetensors", S3Gen),
        ):
            module = build()
            _save_state_dict(module, dest / file_name)
            del module
        _write_tokenizer(dest / "tokenizer.json")

        model = ChatterboxTTS.from_local(dest, "cpu")
        model.prepare_conditionals(str(reference_wav), exaggeration=0.5)
        model.conds.save(dest / "conds.pt")
    logger.info(
        "built random Chatterbox checkpoint in %s (%.1f s)",
        dest,
        time.monotonic() - started,
    )
    return dest


def cached_build(name: str, files: Sequence[str], build: Callable[[Path], object]) -> Path:
    """The folder ``name`` in the test cache holding ``files``, made by ``build(folder)`` on first use.

    ``build`` writes into a temporary folder that is renamed into place when complete, so a run
    cut short never leaves a partial checkpoint behind, and two processes building at once both
    end up with a complete one.
    """
    root = Path(os.environ.get(CACHE_ENV) or DEFAULT_CACHE_ROOT)
    final = root / name

    def complete() -> bool:
        return all((final / file).is_file() for file in files)

    if complete():
        return final
    if final.exists():  # only os.rename creates it, so this is foreign damage: start again
        logger.warning("discarding incomplete checkpoint folder %s", final)
        shutil.rmtree(final, ignore_errors=True)
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"{final.name}.tmp-", dir=root))
    try:
        build(tmp)
        os.rename(tmp, final)
    except OSError:
        if not complete():
            raise
        logger.info("another process built %s first; discarding %s", final, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # no-op after a successful rename
    return final


def cached_random_checkpoint(reference_wav: Path) -> Path:
    """Return a complete random checkpoint folder from the test cache, building it on first use."""
    return cached_build(
        f"random-ckpt-{CHECKPOINT_VERSION}",
        CHECKPOINT_FILES,
        lambda folder: build_random_checkpoint(
            folder, reference_wav, s3gen_mid_blocks=SMALL_S3GEN_MID_BLOCKS
        ),
    )
