"""ASGI entry point for uvicorn: ``propusk.asgi:app`` (each worker process imports it)."""

from propusk.app import create_app
from propusk.observability import install_json_logs
from propusk.settings import get_settings

settings = get_settings()
if settings.log_format == "json":  # before the app logs anything; uvicorn runs log_config=None
    install_json_logs(settings.log_level)
app = create_app(settings)
