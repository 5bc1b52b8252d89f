"""Parts of the orchestration layer: types, checks, voices, takes, saving, jobs (CoreEngine: core_engine.py)."""
