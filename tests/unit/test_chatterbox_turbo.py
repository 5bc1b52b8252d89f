"""chatterbox-turbo's pure parts: its defaults, the 5 s reference rule, which variant a folder holds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from config import ModelSettings, Settings, TurboSettings
from core.checks import ignored_controls
from core.speech import synthesis_params
from core_engine import SpeechRequest
from engines.chatterbox_turbo import (
    NANO_REPO,
    TURBO_REPO,
    ChatterboxTurboEngine,
    check_reference_length,
    choose_variant,
    norm_loudness,
    tokenizer_problem,
    turbo_weights,
)
from exceptions import InvalidRequestError


def _folder(folder: Path, *names: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(b"x")
    return folder


def test_requests_that_leave_controls_out_get_turbos_own_defaults() -> None:
    settings = Settings()
    engine = ChatterboxTurboEngine(ModelSettings())
    params = synthesis_params(settings, SpeechRequest(text="hi"), engine)
    assert (params.cfg_weight, params.exaggeration, params.min_p) == (0, 0, 0)
    assert (params.top_p, params.temperature, params.repetition_penalty, params.top_k) == (
        0.95,
        0.8,
        1.2,
        1000,
    )
    chosen = synthesis_params(
        settings, SpeechRequest(text="hi", top_p=0.5, top_k=50, temperature=0.3), engine
    )
    assert (chosen.top_p, chosen.top_k, chosen.temperature) == (0.5, 50, 0.3)
    plain = synthesis_params(settings, SpeechRequest(text="hi"))  # other engines keep the generation defaults
    assert (plain.cfg_weight, plain.top_p) == (0.5, 1.0)


def test_controls_turbo_ignores_are_named_in_a_warning_only_when_set() -> None:
    engine = ChatterboxTurboEngine(ModelSettings())
    assert ignored_controls(engine, SpeechRequest(text="hi", temperature=0.5)) == []
    (warning,) = ignored_controls(engine, SpeechRequest(text="hi", cfg_weight=0.5, min_p=0.1))
    assert warning == "chatterbox-turbo ignores cfg_weight, min_p"


@pytest.mark.parametrize(("seconds", "shown"), [(4.0, "4.0"), (4.96, "4.9"), (5.0, "5.0")])
def test_a_reference_of_five_seconds_or_less_is_a_400_naming_the_field(seconds: float, shown: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        check_reference_length(seconds, "short.wav", param="reference_audio")
    assert caught.value.status_code == 400 and caught.value.param == "reference_audio"
    assert f"is {shown} s" in caught.value.message and "longer than 5 s" in caught.value.message


def test_a_reference_longer_than_five_seconds_passes() -> None:
    check_reference_length(5.01, "long.wav")


def test_the_reference_is_brought_to_minus_27_lufs() -> None:
    import pyloudnorm

    rng = np.random.default_rng(0)
    quiet = (0.01 * rng.standard_normal(24_000 * 6)).astype(np.float32)
    louder = norm_loudness(quiet, 24_000)
    assert pyloudnorm.Meter(24_000).integrated_loudness(louder) == pytest.approx(-27, abs=0.1)
    silent = np.zeros(24_000 * 6, dtype=np.float32)
    assert np.array_equal(norm_loudness(silent, 24_000), silent)  # unmeasurable: left alone


def test_auto_picks_nano_only_when_the_folder_holds_just_the_nano_weights(tmp_path: Path) -> None:
    nano = _folder(tmp_path, "t3_nano_v1.safetensors")
    assert choose_variant(TurboSettings(checkpoint_dir=nano)) == "nano"
    both = _folder(nano, "t3_turbo_v1.safetensors")
    assert choose_variant(TurboSettings(checkpoint_dir=both)) == "turbo"
    assert choose_variant(TurboSettings(checkpoint_dir=both, variant="nano")) == "nano"
    assert choose_variant(TurboSettings()) == "turbo"
    assert choose_variant(TurboSettings(hf_repo=NANO_REPO)) == "nano"


def test_each_variant_names_its_files_and_repo(tmp_path: Path) -> None:
    turbo = turbo_weights(ModelSettings())
    assert turbo.hf_repo == TURBO_REPO and "t3_turbo_v1.safetensors" in turbo.required
    assert turbo.env == "CHATTERBOX_MODELS__TURBO__CHECKPOINT_DIR"
    nano = turbo_weights(ModelSettings(turbo=TurboSettings(variant="nano")))
    assert nano.hf_repo == NANO_REPO and "t3_nano_v1.safetensors" in nano.required
    mine = turbo_weights(ModelSettings(turbo=TurboSettings(variant="nano", hf_repo="me/nano")))
    assert mine.hf_repo == "me/nano"


def test_the_tokenizer_needs_tokenizer_json_or_vocab_merges_and_config(tmp_path: Path) -> None:
    assert "tokenizer.json" in (tokenizer_problem(tmp_path) or "")
    assert tokenizer_problem(_folder(tmp_path, "vocab.json", "merges.txt")) is not None
    assert tokenizer_problem(_folder(tmp_path, "tokenizer_config.json")) is None
    assert tokenizer_problem(_folder(tmp_path / "json", "tokenizer.json")) is None


def test_describe_reports_the_variant_before_loading(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "t3_nano_v1.safetensors")
    engine = ChatterboxTurboEngine(ModelSettings(turbo=TurboSettings(checkpoint_dir=folder)))
    assert engine.describe()["variant"] == "nano"
    assert engine.traits.worker_group == "chatterbox-turbo" and engine.languages == ("en",)
