"""Work-arounds for chatterbox-tts 0.1.7's multilingual model.

1. **Forward hooks leak.** Every ``T3.inference`` of the multilingual T3 builds an
   ``AlignmentStreamAnalyzer`` that adds three forward hooks to attention layers and never removes
   them: after N calls 3N hooks run on every forward pass, each holding an old analyzer alive.
   ``ClosingAnalyzer`` remembers its hooks and ``closing_analyzer`` removes them after each call.
2. **Speech cut after two repeated tokens.** The analyzer forces the end of speech as soon as two
   identical tokens follow each other (``generated_tokens[-2:]``), which cuts natural speech (long
   vowels, pauses). Upstream's later analyzer waits for three; ``ClosingAnalyzer`` does the same.
3. **Chinese setup needs the network.** Building the tokenizer downloads ``Cangjie5_TC.json`` from the
   Hub (ignoring the copy in the checkpoint folder) and pkuseg's segmentation model from GitHub,
   and the latter raises when offline, failing the whole load. ``offline_chinese`` reads the mapping
   from the checkpoint folder and turns a missing segmenter into a notice: Chinese still speaks,
   without word boundaries.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

REPEATS_BEFORE_CUT = 3  # identical speech tokens in a row that end the speech (upstream 0.1.7: 2)
CANGJIE_FILE = "Cangjie5_TC.json"
_install_lock = threading.Lock()


def install_analyzer_fix() -> None:
    """Make T3 build ``ClosingAnalyzer`` instead of upstream's analyzer (idempotent)."""
    from chatterbox.models.t3 import t3 as t3_module

    with _install_lock:
        if not getattr(t3_module.AlignmentStreamAnalyzer, "closes_its_hooks", False):
            t3_module.AlignmentStreamAnalyzer = _closing_analyzer_class()


def _closing_analyzer_class() -> type:
    from chatterbox.models.t3.inference.alignment_stream_analyzer import (
        LLAMA_ALIGNED_HEADS,
        AlignmentStreamAnalyzer,
    )

    class ClosingAnalyzer(AlignmentStreamAnalyzer):
        """Upstream's analyzer that can remove its hooks and waits for three repeated tokens."""

        closes_its_hooks = True

        def __init__(self, tfmr: Any, *args: Any, **kwargs: Any) -> None:
            layers = [tfmr.layers[index].self_attn for index, _ in LLAMA_ALIGNED_HEADS]
            before = [set(layer._forward_hooks) for layer in layers]
            super().__init__(tfmr, *args, **kwargs)
            self._hooks = [
                (layer, key)
                for layer, known in zip(layers, before, strict=True)
                for key in set(layer._forward_hooks) - known
            ]
            self._recent: list[int] = []

        def step(self, logits: Any, next_token: Any = None) -> Any:
            # Upstream's own repetition check only sees the tokens passed here: give it none.
            logits = super().step(logits, next_token=None)
            if next_token is None:
                return logits
            token = int(next_token.view(-1)[0].item()) if hasattr(next_token, "view") else int(next_token)
            self._recent = [*self._recent[-(REPEATS_BEFORE_CUT - 1) :], token]
            if len(self._recent) == REPEATS_BEFORE_CUT and len(set(self._recent)) == 1:
                logger.info("speech token %d repeated %d times: ending the speech", token, REPEATS_BEFORE_CUT)
                logits = -(2**15) * logits.new_ones(logits.shape)
                logits[..., self.eos_idx] = 2**15
            return logits

        def close(self) -> None:
            """Remove the hooks this analyzer added."""
            for layer, key in self._hooks:
                for hooks in (
                    layer._forward_hooks,
                    getattr(layer, "_forward_hooks_with_kwargs", {}),
                    getattr(layer, "_forward_hooks_always_called", {}),
                ):
                    hooks.pop(key, None)
            self._hooks = []

    return ClosingAnalyzer


def tapped_analyzer(t3: Any, len_cond: int, text_length: int) -> Any:
    """The fixed analyzer for our own decoding loop: no hooks; the loop feeds it its heads' attention.

    ``heads`` lists the (layer, head) pairs it reads; ``last_aligned_attns[slot]`` takes each one's
    attention (query, key) for the conditional row, as upstream's hooks would store it.
    """
    install_analyzer_fix()
    from chatterbox.models.t3 import t3 as t3_module
    from chatterbox.models.t3.inference.alignment_stream_analyzer import LLAMA_ALIGNED_HEADS

    class TappedAnalyzer(t3_module.AlignmentStreamAnalyzer):
        heads = tuple(LLAMA_ALIGNED_HEADS)

        def _add_attention_spy(self, *args: Any) -> None:
            """No hook and no switch to eager attention: the loop taps these heads itself."""

    return TappedAnalyzer(
        t3.tfmr,
        None,
        text_tokens_slice=(len_cond, len_cond + text_length),
        alignment_layer_idx=9,
        eos_idx=t3.hp.stop_speech_token,
    )


@contextlib.contextmanager
def closing_analyzer(t3: Any) -> Iterator[None]:
    """Around one ``T3.inference``: afterwards (even after an error) its analyzer's hooks are gone."""
    try:
        yield
    finally:
        patched = getattr(t3, "patched_model", None)
        analyzer = getattr(patched, "alignment_stream_analyzer", None)
        if patched is not None and analyzer is not None and hasattr(analyzer, "close"):
            analyzer.close()
            patched.alignment_stream_analyzer = None


def attention_hook_count(t3: Any) -> int:
    """Forward hooks on T3's attention layers (flat across calls once the fix is in)."""
    return sum(len(layer.self_attn._forward_hooks) for layer in t3.tfmr.layers)


_chinese_lock = threading.Lock()


@contextlib.contextmanager
def offline_chinese(folder: Path, *, allow_network: bool) -> Iterator[list[str]]:
    """While the multilingual tokenizer is built: Cangjie from ``folder``, pkuseg only if it can be had.

    Yields the list that receives a notice for each Chinese feature left off.
    """
    from chatterbox.models.tokenizers import tokenizer as upstream

    notices: list[str] = []
    converter = upstream.ChineseCangjieConverter

    def load_mapping(self: Any, model_dir: Any = None) -> None:
        path = folder / CANGJIE_FILE
        if not path.is_file():
            notices.append(
                f"{CANGJIE_FILE} is not in {folder}: Chinese characters are not converted to Cangjie "
                "codes, so Chinese speech will be poor"
            )
            return
        for entry in json.loads(path.read_text(encoding="utf-8")):
            word, code = entry.split("\t")[:2]
            self.word2cj[word] = code
            self.cj2word.setdefault(code, []).append(word)

    def init_segmenter(self: Any) -> None:
        self.segmenter = chinese_segmenter(allow_network=allow_network, notices=notices)

    with _chinese_lock:
        original = converter._load_cangjie_mapping, converter._init_segmenter
        converter._load_cangjie_mapping, converter._init_segmenter = load_mapping, init_segmenter
        try:
            yield notices
        finally:
            converter._load_cangjie_mapping, converter._init_segmenter = original
    for notice in notices:
        logger.warning("chatterbox-multilingual: %s", notice)


def chinese_segmenter(*, allow_network: bool, notices: list[str]) -> Any:
    """pkuseg's word segmenter when its model is cached (or can be downloaded), else None and a notice."""
    try:
        from spacy_pkuseg import pkuseg
        from spacy_pkuseg.config import config
    except ImportError:
        notices.append("spacy-pkuseg is not installed: Chinese is read without word segmentation")
        return None
    model = Path(config.pkuseg_home) / "spacy_ontonotes.zip"
    if not model.exists() and not allow_network:
        notices.append(
            f"Chinese word segmentation is off: pkuseg's model is not in {config.pkuseg_home} (PKUSEG_HOME) "
            "and downloads are off (models.allow_download, HF_HUB_OFFLINE); Chinese is read without word "
            "boundaries. Put spacy_ontonotes.zip from the spacy-pkuseg v0.0.26 release there to turn it on"
        )
        return None
    try:
        return pkuseg()
    except Exception as exc:  # noqa: BLE001 - any download or unpack failure: degrade, never fail the load
        notices.append(
            f"Chinese word segmentation is off: pkuseg's model could not be had ({type(exc).__name__}: "
            f"{exc}); Chinese is read without word boundaries"
        )
        return None
