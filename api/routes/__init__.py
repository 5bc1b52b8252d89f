"""Route modules, one per feature."""

from api.routes import health, models, system, tts, vc

ROUTERS = [system.router, health.router, models.router, tts.router, vc.router]
