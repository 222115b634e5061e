"""CLI commands of the idp package: clients, keys, ESIA simulator."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Mount the idp command groups on the root CLI."""
