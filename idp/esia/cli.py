"""CLI commands of idp.esia."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Mount this sub-package's command groups on the root CLI."""
