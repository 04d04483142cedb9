"""Run the training service: `python -m services.training` (settings from the EDIH_ environment).

Not `shared.service.serve`: that reads the shared settings, which do not know training's URL (its
port) yet; this reads training's own section and otherwise does what `serve` does."""

import uvicorn

from services.training.app import SERVICE, create_app
from services.training.settings import training_settings
from shared.logging import configure_logging
from shared.settings import settings_from_environment

settings = training_settings(settings_from_environment())
configure_logging(SERVICE, settings.log_level)
uvicorn.run(
    create_app(settings),
    host=settings.bind_host,
    port=settings.port_of(SERVICE),
    log_config=None,
    access_log=False,
)
