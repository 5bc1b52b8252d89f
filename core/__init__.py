"""The orchestration package: one service per use case (speech, conversion, concatenation, jobs, voice
sources, saving), their checks and request types. ``core_engine.py`` composes them."""
