"""Types of the orchestration layer (CoreEngine lives in core_engine.py)."""
