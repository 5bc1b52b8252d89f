"""Route modules, one per feature."""

from api.routes import health, models, outputs, system, tts, vc

ROUTERS = [system.router, health.router, models.router, tts.router, vc.router, outputs.router]
