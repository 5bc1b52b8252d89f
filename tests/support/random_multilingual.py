"""A random-weight checkpoint that ``ChatterboxMultilingualTTS.from_local`` accepts.

It reuses the English random checkpoint's voice encoder, S3Gen and built-in voice (the same modules;
the multilingual loader reads them as ``.pt`` files) and adds a random multilingual T3 and a small
grapheme tokenizer with the 23 language tags. The T3 keeps 16 heads and 14 layers, because the
alignment analyzer hooks layers 9, 12 and 13, but its MLP is narrow. Load it inside ``small_mtl_t3()``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import string
import time
from collections.abc import Iterator
from pathlib import Path

import torch
from safetensors.torch import load_file
from tokenizers import Tokenizer
from tokenizers.models import BPE

from config import MULTILINGUAL_LANGUAGES
from tests.support.random_checkpoint import (
    _save_state_dict,
    cached_build,
    cached_random_checkpoint,
    llama_config,
    small_s3gen,
)

logger = logging.getLogger(__name__)

VERSION = "v2"  # bump when the recipe changes: it is part of the cache folder name
LAYERS = 14  # the analyzer reads attention from layers 9, 12 and 13
MLP_WIDTH = 256
FILES = (
    "ve.pt",
    "t3_mtl23ls_v2.safetensors",
    "s3gen.pt",
    "grapheme_mtl_merged_expanded_v1.json",
    "conds.pt",
    "Cangjie5_TC.json",
)
# Four characters and their Cangjie codes, enough to prove Chinese goes through the converter.
CANGJIE = ["你\tonf", "好\tvnd", "世\tpt", "界\twol"]
_SPECIAL = {"[STOP]": 0, "[UNK]": 1, "[SPACE]": 2, "[START]": 255}


@contextlib.contextmanager
def small_mtl_t3() -> Iterator[None]:
    """Temporarily make chatterbox's Llama_520M config 14 narrow layers (16 heads, width 1024), and S3Gen
    the English test checkpoint's (whose S3Gen this one reuses)."""
    with llama_config("Llama_520M", num_hidden_layers=LAYERS, intermediate_size=MLP_WIDTH), small_s3gen():
        yield


def _write_tokenizer(path: Path) -> None:
    """A character-level grapheme tokenizer (ids < 2454) with language tags and Cangjie tokens."""
    chars = [c for c in string.printable if not c.isspace() and not c.isupper()]
    vocab = dict(_SPECIAL)
    vocab.update({c: 3 + i for i, c in enumerate(chars)})
    tags = [f"[{code}]" for code in MULTILINGUAL_LANGUAGES]
    tags += [f"[cj_{c}]" for c in (*string.ascii_lowercase, ".")]
    first = 256
    vocab.update({tag: first + i for i, tag in enumerate(tags)})
    used = set(vocab.values())
    vocab.update({f"<unused{i}>": i for i in range(max(used) + 1) if i not in used})
    assert sorted(vocab.values()) == list(range(len(vocab))) and len(vocab) < 2454
    tokenizer = Tokenizer(BPE(vocab=vocab, merges=[], unk_token="[UNK]"))
    tokenizer.add_special_tokens([*_SPECIAL, *tags])
    tokenizer.save(str(path))


def build_random_multilingual(dest: Path, english: Path, *, seed: int = 0) -> Path:
    """Write the multilingual files into ``dest`` from the English random checkpoint ``english``."""
    from chatterbox.models.t3 import T3
    from chatterbox.models.t3.modules.t3_config import T3Config

    dest.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    torch.save(load_file(str(english / "ve.safetensors")), dest / "ve.pt")
    torch.save(load_file(str(english / "s3gen.safetensors")), dest / "s3gen.pt")
    shutil.copy(english / "conds.pt", dest / "conds.pt")
    with small_mtl_t3(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        _save_state_dict(T3(T3Config.multilingual()), dest / "t3_mtl23ls_v2.safetensors")
    _write_tokenizer(dest / "grapheme_mtl_merged_expanded_v1.json")
    (dest / "Cangjie5_TC.json").write_text(json.dumps(CANGJIE, ensure_ascii=False), encoding="utf-8")
    logger.info("built random multilingual checkpoint in %s (%.1f s)", dest, time.monotonic() - started)
    return dest


def cached_random_multilingual(reference_wav: Path) -> Path:
    """A complete random multilingual checkpoint from the test cache, built on first use."""
    english = cached_random_checkpoint(reference_wav)
    return cached_build(
        f"random-multilingual-{VERSION}", FILES, lambda folder: build_random_multilingual(folder, english)
    )
