"""The sections of ``config.yaml``, one module per area; ``config.py`` re-exports them and loads them."""
