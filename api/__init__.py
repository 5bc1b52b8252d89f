"""The HTTP layer: routes, error mapping, middleware (the only code that imports FastAPI)."""
