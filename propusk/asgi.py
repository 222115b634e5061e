"""ASGI entry point for uvicorn: ``propusk.asgi:app``."""

from propusk.app import create_app

app = create_app()
