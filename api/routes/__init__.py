"""Route modules, one per feature."""

from api.routes import (
    cleanup,
    concat,
    emotions,
    health,
    jobs,
    models,
    openai,
    outputs,
    system,
    tts,
    vc,
    vc_inputs,
)

ROUTERS = [
    system.router,
    health.router,
    models.router,
    jobs.router,
    tts.router,
    vc.router,
    concat.router,
    outputs.router,
    outputs.api,
    vc_inputs.router,
    openai.router,
    cleanup.router,
    emotions.router,
]
