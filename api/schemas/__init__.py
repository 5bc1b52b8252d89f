"""Request and response shapes of the HTTP API, one module per feature (pydantic only).

``api_models`` re-exports every public name, so ``from api_models import X`` keeps working.
"""
