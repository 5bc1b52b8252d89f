"""Route modules, one per feature."""

from api.routes import (
    cleanup,
    concat,
    emotions,
    engines,
    health,
    jobs,
    models,
    openai,
    outputs,
    system,
    tts,
    vc,
    vc_inputs,
    voices,
)

ROUTERS = [
    system.router,
    health.router,
    models.router,
    engines.router,
    jobs.router,
    tts.router,
    vc.router,
    concat.router,
    outputs.router,
    outputs.api,
    vc_inputs.router,
    voices.router,
    openai.router,
    cleanup.router,
    emotions.router,
]
