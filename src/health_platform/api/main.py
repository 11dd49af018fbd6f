"""The ASGI entry point: `uvicorn health_platform.api.main:app --port 5000`."""

from health_platform.api.app import create_app
from health_platform.api.logs import configure_logging
from health_platform.contract import settings_from_environment

configure_logging()
app = create_app(settings_from_environment())
