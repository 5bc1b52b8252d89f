"""The work-arounds for chatterbox 0.1.7's multilingual model, on small real modules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from config import MULTILINGUAL_LANGUAGES
from engines.multilingual_fixes import _closing_analyzer_class, chinese_segmenter

EOS = 6562


def test_the_language_list_is_upstreams() -> None:
    from chatterbox.mtl_tts import SUPPORTED_LANGUAGES

    assert set(MULTILINGUAL_LANGUAGES) == set(SUPPORTED_LANGUAGES)


@pytest.fixture(scope="module")
def llama() -> Any:
    """A tiny Llama with the layers and heads the analyzer watches (layers 9, 12, 13; head 15)."""
    from transformers import LlamaConfig, LlamaModel

    config = LlamaConfig(
        vocab_size=8,
        hidden_size=64,
        intermediate_size=32,
        num_hidden_layers=14,
        num_attention_heads=16,
        num_key_value_heads=16,
        head_dim=4,
    )
    torch.manual_seed(0)
    model = LlamaModel(config).eval()
    with torch.no_grad():  # transformers adds its own output-recording hooks on the first pass
        model(inputs_embeds=torch.randn(2, 12, 64), output_attentions=True)
    return model


def _hooks(llama: Any) -> int:
    return sum(len(layer.self_attn._forward_hooks) for layer in llama.layers)


def _analyzer(cls: type, llama: Any) -> Any:
    analyzer = cls(llama, None, text_tokens_slice=(2, 8), alignment_layer_idx=9, eos_idx=EOS)
    with torch.no_grad():
        llama(inputs_embeds=torch.randn(2, 12, 64), output_attentions=True)  # fills the attention spies
    return analyzer


def test_closing_removes_the_hooks_each_analyzer_adds(llama: Any) -> None:
    from chatterbox.models.t3.inference.alignment_stream_analyzer import AlignmentStreamAnalyzer

    start = _hooks(llama)
    closing = _closing_analyzer_class()
    for _ in range(5):
        _analyzer(closing, llama).close()
    assert _hooks(llama) == start
    for _ in range(2):
        _analyzer(AlignmentStreamAnalyzer, llama)  # upstream's: its hooks stay
    assert _hooks(llama) == start + 6
    _drop_hooks_added_since(llama, start)


def _drop_hooks_added_since(llama: Any, count: int) -> None:
    """Remove upstream analyzers' hooks (the newest ones) so the next test starts clean."""
    for layer in llama.layers:
        hooks = layer.self_attn._forward_hooks
        for key in list(hooks)[1:]:
            del hooks[key]
    assert _hooks(llama) == count


def _forced(logits: torch.Tensor) -> bool:
    return bool(logits[0, EOS] == 2**15 and logits[0, 0] == -(2**15))


def test_speech_ends_after_three_repeated_tokens_not_two(llama: Any) -> None:
    from chatterbox.models.t3.inference.alignment_stream_analyzer import AlignmentStreamAnalyzer

    fixed = _analyzer(_closing_analyzer_class(), llama)
    steps = [_forced(fixed.step(torch.zeros(1, 8194), next_token=token)) for token in (11, 42, 42, 42)]
    fixed.close()
    assert steps == [False, False, False, True]

    upstream = _analyzer(AlignmentStreamAnalyzer, llama)
    steps = [_forced(upstream.step(torch.zeros(1, 8194), next_token=token)) for token in (11, 42, 42)]
    assert steps == [False, False, True]  # 0.1.7 cuts after two


def test_no_segmentation_model_and_no_network_is_a_notice_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from spacy_pkuseg.config import config

    monkeypatch.setattr(config, "pkuseg_home", str(tmp_path))
    notices: list[str] = []
    assert chinese_segmenter(allow_network=False, notices=notices) is None
    assert "Chinese word segmentation is off" in notices[0] and str(tmp_path) in notices[0]


def test_a_failed_segmentation_download_is_a_notice_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import spacy_pkuseg.download
    from spacy_pkuseg.config import config

    def offline(*args: Any, **kwargs: Any) -> None:
        raise OSError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(config, "pkuseg_home", str(tmp_path))
    monkeypatch.setattr(spacy_pkuseg.download, "_download_url_to_file", offline)
    notices: list[str] = []
    assert chinese_segmenter(allow_network=True, notices=notices) is None
    assert "could not be had" in notices[0] and "name resolution" in notices[0]
