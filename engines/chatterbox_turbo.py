"""Chatterbox Turbo: the faster English model (GPT-2 backbone, one-row sampling, meanflow vocoder).

Upstream ``chatterbox.tts_turbo`` (not exported from the package root) differs from the English
model in every stage this engine replaces: a GPT-2 text tokenizer, ``T3.inference_turbo`` (no
classifier-free guidance, top-k), S3Gen meanflow with two flow steps, and a reference clip that is
loudness-normalised and must be longer than 5 s. Its smaller ``nano`` variant has the same shape
with a GPT-2 small backbone; chatterbox-tts 0.1.7 cannot build that one, so it is built here.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any, Literal

from config import ModelSettings, TurboSettings
from engines.base import EngineTraits, SynthesisParams
from engines.chatterbox import SAMPLE_RATE, ChatterboxTTSEngine
from engines.checkpoint import BUILTIN_VOICE, Weights
from exceptions import EngineUnavailableError, InvalidRequestError

logger = logging.getLogger(__name__)

Variant = Literal["turbo", "nano"]

TURBO_REPO = "ResembleAI/chatterbox-turbo"
NANO_REPO = "ResembleAI/chatterbox-nano"
T3_FILES: dict[Variant, str] = {"turbo": "t3_turbo_v1.safetensors", "nano": "t3_nano_v1.safetensors"}
VE_FILE = "ve.safetensors"
S3GEN_FILE = "s3gen_meanflow.safetensors"
# AutoTokenizer reads tokenizer.json alone, or vocab.json + merges.txt with a tokenizer_config.json
# naming the class; the rest is read when there.
TOKENIZER_FILES = (
    "tokenizer.json",
    "vocab.json",
    "merges.txt",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
)
_TOKENIZER_SETS = (("tokenizer.json",), ("vocab.json", "merges.txt", "tokenizer_config.json"))

MIN_REFERENCE_SECONDS = 5.0  # upstream asserts a longer clip
TARGET_LUFS = -27.0  # upstream ``norm_loudness``
SILENCE_TOKENS = 3  # upstream appends three S3GEN_SIL tokens so the last word is not cut
FLOW_STEPS = 2  # meanflow: upstream ``generate`` uses two
TEXT_VOCAB = 50276
GPT2_SMALL = "GPT2_small"

# Upstream ``generate``'s defaults; cfg_weight, exaggeration and min_p have no effect on turbo.
SAMPLING_DEFAULTS: dict[str, float] = {
    "cfg_weight": 0.0,
    "exaggeration": 0.0,
    "min_p": 0.0,
    "top_p": 0.95,
    "temperature": 0.8,
    "repetition_penalty": 1.2,
}
IGNORED_CONTROLS = ("cfg_weight", "exaggeration", "min_p")


def choose_variant(turbo: TurboSettings) -> Variant:
    """The configured variant; ``auto`` is nano when only nano's T3 weights are there."""
    if turbo.variant != "auto":
        return turbo.variant
    if turbo.checkpoint_dir is not None:
        folder = Path(turbo.checkpoint_dir).expanduser()
        has_nano = (folder / T3_FILES["nano"]).is_file()
        return "nano" if has_nano and not (folder / T3_FILES["turbo"]).is_file() else "turbo"
    return "nano" if turbo.hf_repo and "nano" in turbo.hf_repo.lower() else "turbo"


def turbo_weights(settings: ModelSettings, variant: Variant | None = None) -> Weights:
    """The files of turbo (or nano) and the Hugging Face repo they come from."""
    turbo = settings.turbo
    variant = variant or choose_variant(turbo)
    repo = turbo.hf_repo or (NANO_REPO if variant == "nano" else TURBO_REPO)
    return Weights(
        turbo.checkpoint_dir,
        repo,
        (VE_FILE, T3_FILES[variant], S3GEN_FILE),
        optional=(BUILTIN_VOICE, *TOKENIZER_FILES),
        setting="models.turbo.checkpoint_dir",
    )


def tokenizer_problem(folder: Path) -> str | None:
    """Why ``AutoTokenizer.from_pretrained(folder)`` cannot build the GPT-2 tokenizer, or None."""
    if any(all((folder / name).is_file() for name in names) for names in _TOKENIZER_SETS):
        return None
    return (
        f"turbo checkpoint folder {folder} has no GPT-2 tokenizer: it needs tokenizer.json, "
        "or vocab.json + merges.txt + tokenizer_config.json"
    )


def check_reference_length(seconds: float, name: str, param: str = "voice") -> None:
    """Turbo conditions on more than 5 s of speech: a shorter clip is a 400, not upstream's assert."""
    if seconds <= MIN_REFERENCE_SECONDS:
        shown = math.floor(seconds * 10) / 10  # 4.96 s must not read as "5.0 s"
        raise InvalidRequestError(
            f"reference clip {name} is {shown:.1f} s; chatterbox-turbo needs a clip longer than "
            f"{MIN_REFERENCE_SECONDS:g} s",
            param=param,
        )


def norm_loudness(samples: Any, sample_rate: int, target_lufs: float = TARGET_LUFS) -> Any:
    """Upstream's reference normalisation: integrated loudness to ``target_lufs`` (unchanged if unmeasurable)."""
    import pyloudnorm

    try:
        loudness = pyloudnorm.Meter(sample_rate).integrated_loudness(samples)
    except Exception as exc:  # noqa: BLE001 - upstream skips the step too
        logger.warning("could not measure the reference's loudness, left as is: %s", exc)
        return samples
    gain = 10.0 ** ((target_lufs - loudness) / 20.0)
    return samples * gain if math.isfinite(gain) and gain > 0.0 else samples


def register_gpt2_small() -> None:
    """Give chatterbox's config table the GPT-2 small backbone nano uses (0.1.7 lacks it)."""
    from chatterbox.models.t3.llama_configs import LLAMA_CONFIGS

    if GPT2_SMALL not in LLAMA_CONFIGS:
        size = {"n_embd": 768, "hidden_size": 768, "n_layer": 12, "n_head": 12}
        LLAMA_CONFIGS[GPT2_SMALL] = {**LLAMA_CONFIGS["GPT2_medium"], **size}


def t3_config(variant: Variant) -> Any:
    """Upstream ``from_local``'s turbo hyper-parameters; nano swaps in GPT-2 small."""
    from chatterbox.models.t3.modules.t3_config import T3Config

    hp = T3Config(text_tokens_dict_size=TEXT_VOCAB)
    hp.llama_config_name = GPT2_SMALL if variant == "nano" else "GPT2_medium"
    hp.speech_tokens_dict_size = 6563
    hp.input_pos_emb = None
    hp.speech_cond_prompt_len = 375
    hp.use_perceiver_resampler = False
    hp.emotion_adv = False
    return hp


def load_nano(folder: Path, device: str) -> Any:
    """``ChatterboxTurboTTS.from_local`` for nano: the same parts around a GPT-2 small T3."""
    import torch
    from chatterbox.models.s3gen import S3Gen
    from chatterbox.models.t3 import T3
    from chatterbox.models.voice_encoder import VoiceEncoder
    from chatterbox.tts_turbo import ChatterboxTurboTTS, Conditionals
    from safetensors.torch import load_file
    from transformers import AutoTokenizer

    register_gpt2_small()
    ve = VoiceEncoder()
    ve.load_state_dict(load_file(folder / VE_FILE))
    ve.to(device).eval()

    t3 = T3(t3_config("nano"))
    state: dict[str, Any] = load_file(folder / T3_FILES["nano"])
    if "model" in state:  # upstream's own check for a wrapped checkpoint
        state = state["model"][0]
    t3.load_state_dict(state)
    del t3.tfmr.wte  # T3 feeds embeddings itself, as upstream does for turbo
    t3.to(device).eval()

    s3gen = S3Gen(meanflow=True)
    s3gen.load_state_dict(load_file(folder / S3GEN_FILE), strict=True)
    s3gen.to(device).eval()

    tokenizer = AutoTokenizer.from_pretrained(folder)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token

    conds = None
    if (folder / BUILTIN_VOICE).is_file():
        location = torch.device("cpu") if device in ("cpu", "mps") else None
        conds = Conditionals.load(folder / BUILTIN_VOICE, map_location=location).to(device)
    return ChatterboxTurboTTS(t3, s3gen, ve, tokenizer, device, conds)


class ChatterboxTurboEngine(ChatterboxTTSEngine):
    """``chatterbox-turbo`` (or its nano variant): English, faster, no CFG, top-k sampling."""

    name = "chatterbox-turbo"
    traits = EngineTraits(  # its own weights: its own worker
        worker_group="chatterbox-turbo",
        sampling_defaults=SAMPLING_DEFAULTS,
        ignored_controls=IGNORED_CONTROLS,
    )
    languages = ("en",)

    windowed_vocoding = False  # its vocoder adds trailing silence tokens: chunks are streamed whole

    def __init__(self, settings: ModelSettings, max_chunk_chars: int = 300) -> None:
        super().__init__(settings, max_chunk_chars)
        self.variant: Variant = choose_variant(settings.turbo)

    def weights(self) -> Weights:
        self.variant = choose_variant(self._settings.turbo)  # the folder may have changed since
        return turbo_weights(self._settings, self.variant)

    def _from_local(self, folder: Path, device: str) -> Any:
        if problem := tokenizer_problem(folder):
            raise EngineUnavailableError(problem)
        if self.variant == "nano":
            return load_nano(folder, device)
        from chatterbox.tts_turbo import ChatterboxTurboTTS

        return ChatterboxTurboTTS.from_local(folder, device)

    def describe(self) -> dict[str, Any]:
        return super().describe() | {"variant": self.variant}

    # ---- stages ---------------------------------------------------------------------------------

    def _text_tokens(self, model: Any, text: str, params: SynthesisParams) -> Any:
        """GPT-2 tokens of the text, one row: turbo samples without a CFG row and adds no start/stop."""
        from chatterbox.tts_turbo import punc_norm

        return model.tokenizer(punc_norm(text), return_tensors="pt").input_ids.to(self.device)

    def _sample_speech(self, model: Any, t3_cond: Any, tokens: Any, params: SynthesisParams) -> Any:
        """Upstream's ``T3.inference_turbo``, or our loop with its tokens (``models.t3_loop``)."""
        if self._settings.t3_loop == "upstream":
            return model.t3.inference_turbo(
                t3_cond=t3_cond,
                text_tokens=tokens,
                temperature=params.temperature,
                top_k=params.top_k,
                top_p=params.top_p,
                repetition_penalty=params.repetition_penalty,
                max_gen_len=self._settings.max_new_tokens,
            )
        from engines.t3_sequences import decode_batched, generator, turbo_sequence

        sequence = self._in_inference(
            turbo_sequence,
            model.t3,
            t3_cond,
            tokens,
            self._sampling(params),
            generator(self.device or "cpu", params.seed),
            self._settings.max_new_tokens,
        )
        return decode_batched(self._scheduler(model), sequence, self.name)

    def _hit_budget(self, model: Any, speech: Any) -> bool:
        """Turbo's loops drop the stop token and sample one past the budget when it is not reached."""
        return speech.size(-1) > self._settings.max_new_tokens

    def _vocode(self, model: Any, speech: Any, conds: Any) -> Any:
        """Meanflow S3Gen in two steps, with upstream's trailing silence tokens."""
        import torch
        from chatterbox.models.s3gen.const import S3GEN_SIL

        silence = torch.full((SILENCE_TOKENS,), S3GEN_SIL, dtype=torch.long, device=speech.device)
        wav, _ = model.s3gen.inference(
            speech_tokens=torch.cat([speech.long(), silence]),
            ref_dict=dict(conds.gen),
            n_cfm_timesteps=FLOW_STEPS,
        )
        return wav.squeeze(0).detach().cpu().numpy()

    def _reference(self, path: Path) -> Any:
        """The clip at 24 kHz, longer than 5 s (else a 400), loudness-normalised like upstream."""
        samples = super()._reference(path)
        check_reference_length(samples.size / SAMPLE_RATE, path.name)
        return norm_loudness(samples, SAMPLE_RATE)

    def _load_conditionals(self, path: Path) -> Any:
        from chatterbox.tts_turbo import Conditionals

        return Conditionals.load(path, map_location="cpu").to(self.device)
