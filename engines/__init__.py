"""Speech engines, one module each, behind the small protocol in :mod:`engines.base`."""

from engines.base import ConversionEngine, SpeechEngine, SynthesisEngine, SynthesisParams

__all__ = ["ConversionEngine", "SpeechEngine", "SynthesisEngine", "SynthesisParams"]
