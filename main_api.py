"""The application: ``create_app`` builds it, ``python main_api.py`` serves it."""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from api.compat.error_fields import ErrorAnswersMiddleware
from api.errors import install_error_handlers
from api.middleware import RequestContextMiddleware
from api.openapi_doc import TAGS, install_openapi
from api.routes import ROUTERS
from api.security import install_security, warn_if_exposed
from config import Settings, load_settings
from core_engine import CoreEngine
from exceptions import ConfigError
from monitoring.errors import ErrorLog
from monitoring.logs import configure_logging, install_request_id
from monitoring.metrics import Metrics
from utils.malloc import return_large_blocks_to_os
from version import __version__

logger = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, engine: CoreEngine | None = None) -> FastAPI:
    """Build the app; the engine (given, or built from settings) starts in the lifespan."""
    settings = settings or load_settings()
    return_large_blocks_to_os()  # memory returns to its baseline after each long request
    install_request_id()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        core = engine or CoreEngine(settings)
        app.state.engine = core
        await core.start(metrics)
        try:
            yield
        finally:
            await core.stop()

    app = FastAPIOffline(  # /docs and /redoc load their scripts from the app, not a CDN
        title="Chatterbox TTS Extended Plus",
        version=__version__,
        description="Self-hosted speech server: Chatterbox TTS, voice conversion and Piper.",
        openapi_tags=TAGS,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    install_error_handlers(app)
    install_openapi(app)
    install_security(app, settings)  # keys, Host/Origin checks, CORS, rate limit, body bounds
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
    app.state.errors = ErrorLog()
    app.add_middleware(ErrorAnswersMiddleware, errors=app.state.errors, always=settings.compat.error_fields)
    for router in ROUTERS:
        app.include_router(router)
    if settings.ui.enabled:
        from ui import mount_ui  # Gradio loads only when the UI is on

        mount_ui(app, settings)
    return app


def main() -> None:
    """Validate the configuration, then serve until interrupted."""
    import uvicorn

    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    configure_logging(settings.server.log_level, settings.server.log_format)
    warn_if_exposed(settings)
    logger.info("starting on http://%s:%d (docs at /docs)", settings.server.host, settings.server.port)
    uvicorn.run(
        create_app(settings),
        host=settings.server.host,
        port=settings.server.port,
        log_config=None,
        access_log=False,
    )


if __name__ == "__main__":
    main()
