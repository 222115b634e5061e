"""CLI commands for people, schools, statuses and rosters."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Mount the people/school command groups on the root CLI."""
